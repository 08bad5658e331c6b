"""RBAC on the real API server, with service-account tokens from the TokenRequest API."""

from __future__ import annotations

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from .kube import Namespace, api_client, wait_for

pytestmark = pytest.mark.controlplane

READER_ROLE = "configmap-reader"


def service_account_token(namespace: Namespace, name: str) -> str:
    core = client.CoreV1Api(namespace.api)
    core.create_namespaced_service_account(
        namespace.name, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=name))
    )
    request = client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=600)
    )
    issued = core.create_namespaced_service_account_token(name, namespace.name, request)
    assert issued.status is not None
    assert issued.status.token
    return issued.status.token


def grant_configmap_reader(namespace: Namespace, account: str) -> None:
    rbac = client.RbacAuthorizationV1Api(namespace.api)
    meta = client.V1ObjectMeta(name=READER_ROLE)
    rule = client.V1PolicyRule(api_groups=[""], resources=["configmaps"], verbs=["get", "list"])
    rbac.create_namespaced_role(namespace.name, client.V1Role(metadata=meta, rules=[rule]))
    subject = client.RbacV1Subject(kind="ServiceAccount", name=account, namespace=namespace.name)
    role_ref = client.V1RoleRef(
        api_group="rbac.authorization.k8s.io", kind="Role", name=READER_ROLE
    )
    binding = client.V1RoleBinding(metadata=meta, role_ref=role_ref, subjects=[subject])
    rbac.create_namespaced_role_binding(namespace.name, binding)


def can_list_configmaps(api: client.ApiClient, namespace: str) -> bool:
    try:
        client.CoreV1Api(api).list_namespaced_config_map(namespace)
    except ApiException as exc:
        if exc.status == 403:
            return False
        raise
    return True


def test_service_account_without_a_role_is_forbidden(namespace: Namespace) -> None:
    token = service_account_token(namespace, "nobody")
    with api_client(namespace.plane, token=token) as api, pytest.raises(ApiException) as denied:
        client.CoreV1Api(api).list_namespaced_config_map(namespace.name)
    assert denied.value.status == 403
    assert f"system:serviceaccount:{namespace.name}:nobody" in str(denied.value.body)


def test_service_account_with_a_role_binding_is_allowed_only_what_it_grants(
    namespace: Namespace,
) -> None:
    token = service_account_token(namespace, "reader")
    grant_configmap_reader(namespace, "reader")
    with api_client(namespace.plane, token=token) as api:
        # The RBAC authorizer reads roles through an informer: allow it a moment to see them.
        wait_for("the RoleBinding to take effect", lambda: can_list_configmaps(api, namespace.name))
        body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="not-allowed"))
        with pytest.raises(ApiException) as denied:
            client.CoreV1Api(api).create_namespaced_config_map(namespace.name, body)
        assert denied.value.status == 403
