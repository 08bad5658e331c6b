"""Idempotent installation of everything the tests and local runs need."""
