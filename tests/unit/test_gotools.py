"""The replace-list logic that makes k8s.io/kubernetes and etcd buildable as dependencies."""

from __future__ import annotations

import pytest

from tier0.setup.gotools import ETCD, KUBERNETES, replacements


def test_kubernetes_staging_modules_map_to_published_versions() -> None:
    upstream = {
        "Require": [
            {"Path": "k8s.io/api", "Version": "v0.0.0"},
            {"Path": "k8s.io/klog/v2", "Version": "v2.130.1"},
        ],
        "Replace": [{"Old": {"Path": "k8s.io/api"}, "New": {"Path": "./staging/src/k8s.io/api"}}],
    }
    assert replacements(KUBERNETES, upstream) == {"k8s.io/api": "v0.37.2"}


def test_local_replaces_of_unrequired_modules_are_dropped() -> None:
    upstream = {
        "Require": [{"Path": "go.etcd.io/etcd/api/v3", "Version": "v3.6.16"}],
        "Replace": [
            {"Old": {"Path": "go.etcd.io/etcd/api/v3"}, "New": {"Path": "../api"}},
            {"Old": {"Path": "go.etcd.io/etcd"}, "New": {"Path": "./FORBIDDEN_DEPENDENCY"}},
            {"Old": {"Path": "example.com/x"}, "New": {"Path": "example.com/y", "Version": "v1"}},
        ],
    }
    assert replacements(ETCD, upstream) == {"go.etcd.io/etcd/api/v3": "v3.6.16"}


def test_v0_requirement_without_staging_version_is_an_error() -> None:
    upstream = {
        "Require": [{"Path": "go.etcd.io/etcd/api/v3", "Version": "v0.0.0"}],
        "Replace": [{"Old": {"Path": "go.etcd.io/etcd/api/v3"}, "New": {"Path": "../api"}}],
    }
    with pytest.raises(ValueError, match="staging"):
        replacements(ETCD, upstream)
