"""Configuration files of the node's components: containerd, kubelet and kube-proxy.

The choices that this machine needs (measured, see ../shared/NOTES.md): the kernel runs cgroup
v1, so the kubelet must be told ``failCgroupV1: false`` and uses the cgroupfs driver (there is no
systemd); root lacks CAP_SYS_RESOURCE, so containerd must not ask runc to lower
``oom_score_adj`` (``restrict_oom_score_adj``); images cannot be pulled, so image garbage
collection is off (an image it removed could never come back) and the sandbox image is ours.
"""

from __future__ import annotations

import json

from tier0.cluster import layout
from tier0.cluster.certs import NodePki
from tier0.cluster.layout import ClusterPaths

CNI_BIN_DIR = "/usr/lib/cni"
# Every pod cgroup lives under this one of ours, so `down` can remove them all.
CGROUP_ROOT = "tier0"


def containerd_config(paths: ClusterPaths, *, sandbox_image: str) -> str:
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    return f"""version = 2
root = "{paths.containerd_root}"
state = "{paths.containerd_state}"
# Snapshotters this host cannot use only add noise to the log.
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "{paths.containerd_socket}"

[ttrpc]
  address = "{paths.run / "containerd-ttrpc.sock"}"

[plugins."io.containerd.internal.v1.opt"]
  path = "{paths.containerd_root / "opt"}"

[{cri}]
  sandbox_image = "{sandbox_image}"
  restrict_oom_score_adj = true
  [{cri}.containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [{cri}.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [{cri}.containerd.runtimes.runc.options]
        SystemdCgroup = false
  [{cri}.cni]
    bin_dir = "{CNI_BIN_DIR}"
    conf_dir = "{paths.cni_config}"
"""


def kubelet_config(paths: ClusterPaths, pki: NodePki) -> dict[str, object]:
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "failCgroupV1": False,
        "cgroupDriver": "cgroupfs",
        "cgroupRoot": f"/{CGROUP_ROOT}",
        "failSwapOn": False,
        "containerRuntimeEndpoint": f"unix://{paths.containerd_socket}",
        "address": layout.NODE_IP,
        "port": layout.KUBELET_PORT,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": layout.KUBELET_HEALTHZ_PORT,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(pki.cert("ca"))},
        },
        "authorization": {"mode": "Webhook"},
        "tlsCertFile": str(pki.cert("kubelet-serving")),
        "tlsPrivateKeyFile": str(pki.key("kubelet-serving")),
        "clusterDomain": layout.CLUSTER_DOMAIN,
        "clusterDNS": [layout.DNS_SERVICE_IP],
        # Pods with dnsPolicy Default get no upstream resolver: nothing resolves outside.
        "resolvConf": str(paths.config / "resolv.conf"),
        "podLogsDir": str(paths.pod_logs),
        "staticPodPath": "",
        # Our images cannot be pulled again, so the kubelet must never collect them.
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "evictionHard": {
            "memory.available": "100Mi",
            "nodefs.available": "2%",
            "imagefs.available": "2%",
        },
        "serializeImagePulls": False,
        "nodeStatusUpdateFrequency": "4s",
        "shutdownGracePeriod": "0s",
        "protectKernelDefaults": False,
    }


def kube_proxy_config(pki: NodePki) -> dict[str, object]:
    return {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": str(pki.kubeconfig("kube-proxy"))},
        "mode": "iptables",
        "clusterCIDR": layout.POD_CIDR,
        "hostnameOverride": layout.NODE_NAME,
        "bindAddress": "127.0.0.1",
        "healthzBindAddress": f"127.0.0.1:{layout.PROXY_HEALTHZ_PORT}",
        "metricsBindAddress": f"127.0.0.1:{layout.PROXY_METRICS_PORT}",
        # NodePorts answer on loopback (and on the node address, for pods) only.
        "nodePortAddresses": ["127.0.0.0/8", f"{layout.NODE_IP}/32"],
        # Leave the host's conntrack sysctls alone (0 = do not set).
        "conntrack": {
            "maxPerCore": 0,
            "min": 0,
            "tcpEstablishedTimeout": "0s",
            "tcpCloseWaitTimeout": "0s",
        },
        # A changed EndpointSlice reaches the rules at once. "0s" would not do that: kube-proxy
        # defaults a zero minSyncPeriod to 1 s, which held a switched -rw Service on no
        # endpoint for a second after the first of two quick changes.
        "iptables": {"localhostNodePorts": True, "syncPeriod": "10s", "minSyncPeriod": "10ms"},
    }


def write_configs(paths: ClusterPaths, pki: NodePki, *, sandbox_image: str) -> None:
    """Write every component's configuration file under ``paths.config``."""
    paths.config.mkdir(parents=True, exist_ok=True)
    (paths.config / "containerd.toml").write_text(
        containerd_config(paths, sandbox_image=sandbox_image)
    )
    (paths.config / "resolv.conf").write_text("")
    (paths.config / "kubelet.yaml").write_text(json.dumps(kubelet_config(paths, pki), indent=2))
    (paths.config / "kube-proxy.yaml").write_text(json.dumps(kube_proxy_config(pki), indent=2))
