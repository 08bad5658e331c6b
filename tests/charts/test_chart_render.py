"""What `helm template` renders: labels, probes, security, RBAC, secrets, the Tier0Region."""

from __future__ import annotations

import pytest
from chart_helm import CHART, STANDARD_LABELS, Helm, Manifest, Render, env_of, label_keys

from tier0.common.settings import INSECURE_SECRETS, MIN_SECRET_LENGTH

pytestmark = pytest.mark.charts

# Every component with pods, and whether it must have a NetworkPolicy of its own.
POD_COMPONENTS = {
    "api", "rag", "mqtt-consumer", "rabbitmq-consumer", "device-simulator", "user-simulator",
    "log-simulator", "image-processor", "operator", "postgres", "redis", "sentinel",
    "mosquitto", "rabbitmq", "ferretdb", "migrations", "tests", "dashboard", "prometheus",
}  # fmt: skip
CREDENTIAL_KEYS = {
    "superuser-username", "superuser-password", "replication-username", "replication-password",
    "app-password", "redis-password", "mqtt-password", "amqp-password", "erlang-cookie",
    "api-key", "operate-api-key", "instance-token",
}  # fmt: skip


def test_every_object_has_the_standard_labels(render: Render) -> None:
    for obj in render.objects:
        labels = obj["metadata"].get("labels", {})
        missing = [key for key in STANDARD_LABELS if key not in labels]
        assert not missing, f"{obj['kind']}/{obj['metadata']['name']} lacks {missing}"
        assert labels["app.kubernetes.io/instance"] == render.release
        assert labels["app.kubernetes.io/part-of"] == "tier0"
        assert len(obj["metadata"]["name"]) <= 63


def test_every_namespaced_object_is_in_the_release_namespace(render: Render) -> None:
    cluster_scoped = {"ClusterRole", "ClusterRoleBinding"}
    for obj in render.objects:
        assert obj["metadata"].get("namespace") == (
            None if obj["kind"] in cluster_scoped else render.namespace
        ), f"{obj['kind']}/{obj['metadata']['name']}"


def _runs_as_non_root(pod: Manifest, container: Manifest) -> bool:
    merged = {**pod.get("securityContext", {}), **container.get("securityContext", {})}
    return merged.get("runAsNonRoot") is True and merged.get("runAsUser", 0) != 0


def test_every_container_has_probes_resources_and_a_locked_down_security_context(
    render: Render,
) -> None:
    for obj, pod in render.workloads():
        kind, name = obj["kind"], obj["metadata"]["name"]
        long_running = kind in ("Deployment", "StatefulSet")
        for container in pod.get("initContainers", []) + pod["containers"]:
            where = f"{kind}/{name} container {container['name']}"
            context = container["securityContext"]
            assert _runs_as_non_root(pod, container), where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["capabilities"]["drop"] == ["ALL"], where
            assert context["readOnlyRootFilesystem"] is True, where
            resources = container["resources"]
            for bound in ("requests", "limits"):
                assert set(resources[bound]) == {"cpu", "memory"}, where
        if long_running:
            for container in pod["containers"]:
                where = f"{kind}/{name} container {container['name']}"
                assert {"readinessProbe", "livenessProbe"} <= set(container), where


def test_http_probes_and_scrape_annotations_use_declared_ports(render: Render) -> None:
    for obj, pod in render.workloads():
        if obj["kind"] not in ("Deployment", "StatefulSet"):
            continue
        ports = {
            p["name"]: p["containerPort"] for c in pod["containers"] for p in c.get("ports", [])
        }
        for container in pod["containers"]:
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                check = container.get(probe, {})
                for action in ("httpGet", "tcpSocket"):
                    if action in check:
                        assert check[action]["port"] in ports, f"{obj['metadata']['name']} {probe}"
        annotations = obj["spec"]["template"]["metadata"].get("annotations") or {}
        if "prometheus.io/port" in annotations:
            assert int(annotations["prometheus.io/port"]) in ports.values()


def test_every_app_has_scrape_annotations(default_render: Render) -> None:
    for component in ("api", "rag", "mqtt-consumer", "rabbitmq-consumer", "operator", "ferretdb"):
        (workload,) = [
            o
            for kind in ("Deployment", "StatefulSet")
            for o in default_render.component(kind, component)
        ]
        annotations = workload["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true", component


def test_the_chart_never_templates_the_role_label_or_the_rw_service(render: Render) -> None:
    # The operator owns both: a `helm upgrade` must not undo a failover.
    for obj in render.objects:
        assert "tier0.io/role" not in set(label_keys(obj)), obj["metadata"]["name"]
    assert not [name for name in render.names("Service") if name.endswith("-postgres-rw")]


def test_secrets_are_generated_strong_and_different_per_install(helm: Helm) -> None:
    first = helm.template().secret_data("tier0-credentials")
    second = helm.template().secret_data("tier0-credentials")
    assert set(first) == CREDENTIAL_KEYS
    for key in CREDENTIAL_KEYS - {"superuser-username", "replication-username"}:
        assert len(first[key]) >= MIN_SECRET_LENGTH
        assert first[key].lower() not in INSECURE_SECRETS
        assert first[key] != second[key], f"{key} is not generated"
    assert first["superuser-username"] == "postgres"


def test_given_passwords_are_used_and_existing_secret_replaces_ours(helm: Helm) -> None:
    chosen = "s3cret-Chosen_by.the~user"
    data = helm.template("--set", f"auth.redisPassword={chosen}").secret_data("tier0-credentials")
    assert data["redis-password"] == chosen
    render = helm.template("--set", "auth.existingSecret=mine")
    assert render.of_kind("Secret") == []
    (region,) = render.of_kind("Tier0Region")
    assert region["spec"]["credentialsSecret"] == "mine"
    refs = {
        env["valueFrom"]["secretKeyRef"]["name"]
        for _, pod in render.workloads()
        for container in pod.get("initContainers", []) + pod["containers"]
        for env in container.get("env", [])
        if "secretKeyRef" in env.get("valueFrom", {})
    }
    assert refs == {"mine"}


def _rules(role: Manifest) -> list[tuple[str, str, tuple[str, ...], bool]]:
    """(apiGroup, resource, verbs, limited to names) of every rule."""
    return [
        (group, resource, tuple(sorted(rule["verbs"])), "resourceNames" in rule)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    ]


def test_operator_rbac_is_exactly_what_it_uses(default_render: Render) -> None:
    for kind in ("Role", "ClusterRole"):
        for role in default_render.of_kind(kind):
            for rule in role["rules"]:
                for field in ("apiGroups", "resources", "verbs"):
                    assert "*" not in rule[field], f"{kind}/{role['metadata']['name']}"
    role = default_render.named("Role", "tier0-operator")
    assert sorted(_rules(role)) == sorted(
        [
            ("tier0.io", "tier0regions", ("get", "list", "patch", "watch"), False),
            ("tier0.io", "tier0regions/status", ("get", "patch"), False),
            ("", "pods", ("list", "watch"), False),
            ("", "pods", ("patch",), True),
            ("", "services", ("create", "list"), False),
            ("", "services", ("patch",), True),
            ("", "events", ("create",), False),
            ("", "secrets", ("get",), True),
            ("coordination.k8s.io", "leases", ("create",), False),
            ("coordination.k8s.io", "leases", ("get", "update"), True),
        ]
    )
    by_resource = {rule["resources"][0]: rule for rule in role["rules"] if "resourceNames" in rule}
    assert by_resource["pods"]["resourceNames"] == [
        "tier0-postgres-region1-0",
        "tier0-postgres-region2-0",
    ]
    assert set(by_resource["services"]["resourceNames"]) == {
        "tier0-postgres-rw", "tier0-postgres-region1", "tier0-postgres-region2",
        "tier0-postgres-region1-hl", "tier0-postgres-region2-hl",
    }  # fmt: skip
    assert set(by_resource["leases"]["resourceNames"]) == {"tier0-operator", "tier0-primary"}
    # The instance managers read their Tier0Region and renew the primary Lease, nothing more.
    manager = default_render.named("Role", "tier0-postgres")
    assert sorted(_rules(manager)) == [
        ("coordination.k8s.io", "leases", ("get", "update"), True),
        ("tier0.io", "tier0regions", ("get",), True),
    ]
    assert by_resource["secrets"]["resourceNames"] == ["tier0-credentials"]
    (cluster_role,) = default_render.of_kind("ClusterRole")
    assert all(verbs == ("list", "watch") for _, _, verbs, _ in _rules(cluster_role))
    binding = default_render.named("RoleBinding", "tier0-operator")
    assert binding["subjects"][0]["name"] == "tier0-operator"
    # Only the operator, the instance managers, the API (its failover endpoints) and the
    # region-ready test pod get an API token.
    with_token = {
        obj["metadata"]["name"]
        for obj, pod in default_render.workloads()
        if pod.get("automountServiceAccountToken") is not False
    }
    assert with_token == {
        "tier0-operator", "tier0-postgres-region1", "tier0-postgres-region2", "tier0-api",
        "tier0-test-region-ready",
    }  # fmt: skip


def test_api_may_only_read_and_switch_its_tier0region(render: Render) -> None:
    # What tier0/api/regions.py calls: get and patch the release's Tier0Region, list Events.
    (region,) = render.of_kind("Tier0Region")
    name = region["metadata"]["name"]  # the release's full name: tier0, prod-tier0
    role = render.named("Role", f"{name}-api")
    assert sorted(_rules(role)) == [
        ("", "events", ("list",), False),
        ("tier0.io", "tier0regions", ("get", "patch"), True),
    ]
    (by_name,) = [rule for rule in role["rules"] if "resourceNames" in rule]
    assert by_name["resourceNames"] == [name]
    binding = render.named("RoleBinding", f"{name}-api")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": f"{name}-api", "namespace": render.namespace}
    ]
    (deployment,) = render.component("Deployment", "api")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == f"{name}-api"
    assert pod["automountServiceAccountToken"] is True
    assert render.named("ServiceAccount", f"{name}-api")["automountServiceAccountToken"] is False
    env = env_of(pod["containers"][0])
    assert env["TIER0_REGION_NAME"]["value"] == name
    assert env["TIER0_REGION_NAMESPACE"]["value"] == render.namespace


def test_api_keys_come_from_the_credentials_secret(default_render: Render) -> None:
    (deployment,) = default_render.component("Deployment", "api")
    env = env_of(deployment["spec"]["template"]["spec"]["containers"][0])
    refs = {
        key: env[key]["valueFrom"]["secretKeyRef"]
        for key in ("TIER0_API_KEY", "TIER0_OPERATE_API_KEY")
    }
    assert refs == {
        "TIER0_API_KEY": {"name": "tier0-credentials", "key": "api-key"},
        "TIER0_OPERATE_API_KEY": {"name": "tier0-credentials", "key": "operate-api-key"},
    }
    data = default_render.secret_data("tier0-credentials")
    assert data["operate-api-key"] != data["api-key"]


def test_operator_liveness_is_kopfs_healthz(default_render: Render) -> None:
    # /metrics answers from a thread of its own; kopf's /healthz from the operator's event loop.
    (deployment,) = default_render.component("Deployment", "operator")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    args = container["args"]
    assert args[args.index("--health-port") + 1] == "8081"
    assert {p["name"]: p["containerPort"] for p in container["ports"]}["health"] == 8081
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}


def test_tier0region_points_at_the_rendered_services(render: Render) -> None:
    (region,) = render.of_kind("Tier0Region")
    spec = region["spec"]
    services = render.names("Service")
    assert spec["credentialsSecret"] in render.names("Secret")
    assert spec["activeRegion"] in [r["name"] for r in spec["regions"]]
    for entry in spec["regions"]:
        assert entry["postgres"]["service"] in services
        assert entry["redis"]["service"] in services
    assert spec["sentinel"]["service"] in services
    assert spec["routing"]["postgresRwService"] not in services
    (sentinels,) = render.component("StatefulSet", "sentinel")
    replicas, headless = sentinels["spec"]["replicas"], sentinels["spec"]["serviceName"]
    assert headless in services
    assert spec["sentinel"]["hosts"] == [
        f"{sentinels['metadata']['name']}-{i}.{headless}.{render.namespace}.svc.cluster.local:26379"
        for i in range(replicas)
    ]


def test_redis_announces_the_address_the_operator_expects(render: Render) -> None:
    # The operator compares Sentinel's master address with <service>.<namespace>.svc.
    (region,) = render.of_kind("Tier0Region")
    for entry in region["spec"]["regions"]:
        service = entry["redis"]["service"]
        statefulset = render.named("StatefulSet", service)
        env = {
            e["name"]: e.get("value")
            for e in statefulset["spec"]["template"]["spec"]["containers"][0]["env"]
        }
        assert env["ANNOUNCE_HOST"] == f"{service}.{render.namespace}.svc"


def test_an_mqtt_consumer_resumes_its_session_under_its_stable_pod_name(
    default_render: Render,
) -> None:
    # Mosquitto queues a share of the group's messages for every unexpired session, connected
    # or not: a replacement pod must reuse its predecessor's client id, never open a new one.
    statefulset = default_render.named("StatefulSet", "tier0-mqtt-consumer")
    assert statefulset["spec"]["serviceName"] in default_render.names("Service")
    (container,) = statefulset["spec"]["template"]["spec"]["containers"]
    args = container["args"]
    assert args[args.index("--client-id") + 1] == "$(POD_NAME)"
    (pod_name,) = [e for e in container["env"] if e["name"] == "POD_NAME"]
    assert pod_name["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert not default_render.component("Deployment", "mqtt-consumer")


def test_stores_are_statefulsets_with_claims_per_region(
    default_render: Render, other_render: Render
) -> None:
    expected = {
        "tier0-postgres-region1", "tier0-postgres-region2", "tier0-redis-region1",
        "tier0-redis-region2", "tier0-sentinel", "tier0-mosquitto", "tier0-rabbitmq",
    }  # fmt: skip
    # The MQTT consumer too: its pod name is its persistent session (see the next test).
    assert default_render.names("StatefulSet") == expected | {"tier0-mqtt-consumer"}
    for statefulset in default_render.of_kind("StatefulSet"):
        for claim in statefulset["spec"].get("volumeClaimTemplates", []):
            assert "storageClassName" not in claim["spec"]  # the cluster's default class
    assert {s["metadata"]["name"] for s in other_render.component("StatefulSet", "postgres")} == {
        "prod-tier0-postgres-east", "prod-tier0-postgres-west",
    }  # fmt: skip
    for statefulset in other_render.component("StatefulSet", "postgres"):
        (claim,) = statefulset["spec"]["volumeClaimTemplates"]
        assert claim["spec"]["storageClassName"] == "fast"


def test_region_affinity_is_preferred_unless_required(
    default_render: Render, other_render: Render
) -> None:
    for render, key in ((default_render, "preferred"), (other_render, "required")):
        for component in ("postgres", "redis"):
            for statefulset in render.component("StatefulSet", component):
                region = statefulset["metadata"]["labels"]["tier0.io/region"]
                affinity = statefulset["spec"]["template"]["spec"]["affinity"]["nodeAffinity"]
                (field,) = affinity
                assert field.startswith(key)
                assert region in str(affinity)


def test_postgres_runs_under_the_instance_manager(default_render: Render) -> None:
    statefulset = default_render.named("StatefulSet", "tier0-postgres-region2")
    pod = statefulset["spec"]["template"]["spec"]
    assert "initContainers" not in pod  # the instance manager bootstraps the volume itself
    (container,) = pod["containers"]
    assert container["command"][-2:] == ["tier0", "pg-instance"]
    env = {e["name"]: e for e in container["env"]}
    assert env["TIER0_REGION"]["value"] == "region2"
    assert env["TIER0_INSTANCE_TOKEN"]["valueFrom"]["secretKeyRef"]["key"] == "instance-token"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    # The operator calls the instance manager while PostgreSQL is down: the region Service
    # publishes it regardless of readiness.
    service = default_render.named("Service", "tier0-postgres-region2")
    assert service["spec"]["publishNotReadyAddresses"] is True
    assert {p["name"] for p in service["spec"]["ports"]} == {"postgres", "agent"}
    region = default_render.named("Tier0Region", "tier0")
    assert all(r["postgres"]["agentPort"] == 8008 for r in region["spec"]["regions"])
    assert pod["serviceAccountName"] == "tier0-postgres"


def test_network_policies_deny_by_default_per_component(
    default_render: Render, other_render: Render
) -> None:
    policies = {
        p["metadata"]["labels"]["app.kubernetes.io/component"]: p
        for p in default_render.of_kind("NetworkPolicy")
    }
    assert set(policies) == POD_COMPONENTS
    for component, policy in policies.items():
        assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"], component
        selector = policy["spec"]["podSelector"]["matchLabels"]
        assert selector["app.kubernetes.io/component"] == component
    # Stores admit only named peers; PostgreSQL never admits a simulator that has no use for it.
    database, agent = policies["postgres"]["spec"]["ingress"]
    peers = {
        peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
        for peer in database["from"]
    }
    assert "device-simulator" not in peers
    assert "api" in peers
    # Only the operator may call the instance managers; the release's Prometheus scrapes them.
    assert agent["ports"] == [{"port": 8008, "protocol": "TCP"}]
    assert [p["podSelector"]["matchLabels"] for p in agent["from"]] == [
        {"app.kubernetes.io/component": "operator", "app.kubernetes.io/instance": "tier0"},
        {"app.kubernetes.io/component": "prometheus", "app.kubernetes.io/instance": "tier0"},
    ]
    assert other_render.of_kind("NetworkPolicy") == []


def test_migrations_run_as_a_job_per_release_revision(default_render: Render) -> None:
    # Not a post-install hook: `helm install --wait` would run it only after every pod is Ready,
    # and the consumers are not Ready until the tables exist.
    job = default_render.named("Job", "tier0-migrations-1")
    assert "helm.sh/hook" not in job["metadata"].get("annotations", {})
    script = job["spec"]["template"]["spec"]["containers"][0]["args"][0]
    assert "tier0 migrate" in script
    assert "seed_registry" in script


def test_images_per_values_file(helm: Helm) -> None:
    local = helm.template("-f", str(CHART / "values-local.yaml"), "--set", "image.tag=0a1b2c3d4e5f")
    for _, pod in local.workloads():
        for container in pod.get("initContainers", []) + pod["containers"]:
            assert container["image"] == "localhost/tier0/tier0:0a1b2c3d4e5f"
            assert container["imagePullPolicy"] == "Never"
    kind = helm.template("-f", str(CHART / "values-kind.yaml"))
    images = {
        obj["metadata"]["name"]: pod["containers"][0]["image"] for obj, pod in kind.workloads()
    }
    # PostgreSQL runs the instance manager, which only the tier0 image has.
    assert images["tier0-postgres-region1"] == "tier0:0.1.0"
    assert images["tier0-sentinel"] == "redis:7"
    assert images["tier0-api"].startswith("tier0:")
    # Debian's prometheus is in the tier0 image; kind runs the upstream one, at its own path.
    assert images["tier0-prometheus"] == "prom/prometheus:v2.53.0"
    (prometheus,) = kind.component("Deployment", "prometheus")
    assert prometheus["spec"]["template"]["spec"]["containers"][0]["command"] == ["/bin/prometheus"]
