"""Tier-0: a Kubernetes-native reliability platform."""

__version__ = "0.1.0"
