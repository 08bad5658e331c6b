"""The node's host networking: a bridge for pods and Service addresses, and a guard.

Nothing from a pod or a Service address may leave this machine. So:
- the CNI bridge does no masquerading (``ipMasq: false``), and pods get no route out that works:
  the guard chain in FORWARD lets forwarded pod traffic reach pods only;
- the Service range is routed onto the pod bridge, so an address without a kube-proxy rule dies
  there (nothing answers ARP for it) instead of following the default route. (This kernel has
  no dummy interfaces, and a blackhole route would fail a connect() before kube-proxy's DNAT in
  OUTPUT could rewrite it.)
- CoreDNS forwards nothing upstream (see ``addons``).
"""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

from tier0.cluster import layout

# Sysctls a node needs: bridged pod traffic must pass iptables (kube-proxy's Service rules),
# and pods talk to each other and to Services through the host.
SYSCTLS = {
    "net/bridge/bridge-nf-call-iptables": "1",
    "net/ipv4/ip_forward": "1",
    "net/ipv4/conf/all/route_localnet": "1",
}


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise RuntimeError(f"`{' '.join(argv)}` exited {proc.returncode}: {proc.stderr.strip()}")
    return proc


def link_exists(name: str) -> bool:
    return _run("ip", "link", "show", "dev", name, check=False).returncode == 0


def _set_sysctls() -> None:
    if not Path("/proc/sys/net/bridge").exists():
        _run("modprobe", "br_netfilter")
    for key, value in SYSCTLS.items():
        Path("/proc/sys", key).write_text(value)


def _create_bridge() -> None:
    """The pod bridge with the node address, made before CNI so the kubelet can use the IP."""
    if not link_exists(layout.BRIDGE):
        _run("ip", "link", "add", layout.BRIDGE, "type", "bridge")
    prefix = layout.NODE_POD_CIDR.split("/")[1]
    _run("ip", "addr", "replace", f"{layout.NODE_IP}/{prefix}", "dev", layout.BRIDGE)
    # Pods get IPv4 only; no IPv6 link-local chatter on the bridge either.
    Path(f"/proc/sys/net/ipv6/conf/{layout.BRIDGE}/disable_ipv6").write_text("1")
    _run("ip", "link", "set", layout.BRIDGE, "up")


def _route_services_to_bridge() -> None:
    _run("ip", "route", "replace", layout.SERVICE_CIDR, "dev", layout.BRIDGE)


def _guard_rules() -> list[list[str]]:
    pods = layout.POD_CIDR
    return [
        ["-s", pods, "-d", pods, "-j", "ACCEPT"],
        ["-s", pods, "-j", "DROP"],
    ]


def _service_rules() -> list[list[str]]:
    """A packet to a Service address that kube-proxy did not DNAT (a port the Service lacks, or
    the instant between kube-proxy's filter and nat tables while it rewrites them) is refused at
    once; routed onto the bridge it would go unanswered, and the client's connect would hang
    until its timeout instead of retrying."""
    stray = ["-d", layout.SERVICE_CIDR, "-m", "conntrack", "!", "--ctstate", "DNAT"]
    # TCP gets a reset: a pod's connect ignored the ICMP error and timed out.
    return [
        ["-p", "tcp", *stray, "-j", "REJECT", "--reject-with", "tcp-reset"],
        [*stray, "-j", "REJECT"],
    ]


def _install_chain(chain: str, parents: tuple[str, ...], rules: list[list[str]]) -> None:
    """``chain`` holding exactly ``rules``, jumped to first from each built-in chain in
    ``parents`` (filter table)."""
    if _run("iptables", "-w", "-n", "-L", chain, check=False).returncode != 0:
        _run("iptables", "-w", "-N", chain)
    _run("iptables", "-w", "-F", chain)
    for rule in rules:
        _run("iptables", "-w", "-A", chain, *rule)
    for parent in parents:
        jump = [parent, "-j", chain]
        if _run("iptables", "-w", "-C", *jump, check=False).returncode != 0:
            _run("iptables", "-w", "-I", *jump)


def _install_guard() -> None:
    # Inserted last, so checked first: a pod's undelivered Service packet is refused, not dropped.
    _install_chain(layout.FORWARD_CHAIN, ("FORWARD",), _guard_rules())
    _install_chain(layout.SERVICES_CHAIN, ("OUTPUT", "FORWARD"), _service_rules())


def setup_host_network() -> None:
    """Bridge, Service route, sysctls and the forwarding guard; idempotent."""
    _set_sysctls()
    _create_bridge()
    _route_services_to_bridge()
    _install_guard()


def cni_conflist() -> str:
    """The CNI network containerd gives every pod: bridge + host-local IPAM, portmap, loopback."""
    return json.dumps(
        {
            "cniVersion": "1.0.0",
            "name": layout.CNI_NETWORK,
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": layout.BRIDGE,
                    "isGateway": True,
                    "ipMasq": False,
                    "hairpinMode": True,
                    "ipam": {
                        "type": "host-local",
                        "ranges": [[{"subnet": layout.NODE_POD_CIDR}]],
                        "routes": [{"dst": "0.0.0.0/0"}],
                        "dataDir": "CNI_STATE_DIR",
                    },
                },
                {"type": "portmap", "capabilities": {"portMappings": True}},
            ],
        },
        indent=2,
    )


def write_cni_config(config_dir: Path, state_dir: Path) -> Path:
    config_dir.mkdir(parents=True, exist_ok=True)
    state_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / "10-tier0.conflist"
    path.write_text(cni_conflist().replace("CNI_STATE_DIR", str(state_dir)) + "\n")
    return path


IPTABLES = ("iptables", "ip6tables")
TABLES = ("filter", "nat", "mangle")
# Chains of ours, of kube-proxy and of the kubelet (KUBE-FIREWALL, KUBE-KUBELET-CANARY, ...).
OWN_CHAIN_PREFIXES = ("KUBE-", "CNI-", layout.CHAIN_PREFIX)


def _own(rule: str) -> bool:
    return any(prefix in rule for prefix in OWN_CHAIN_PREFIXES)


def remove_kube_chains() -> None:
    """Remove every rule and chain that Kubernetes or we added, in both address families.

    ``kube-proxy --cleanup`` removes kube-proxy's own chains but not the kubelet's.
    """
    for tool in IPTABLES:
        for table in TABLES:
            saved = _run(f"{tool}-save", "-t", table, check=False).stdout.splitlines()
            for rule in saved:
                if rule.startswith("-A ") and _own(rule) and not _own(rule.split()[1]):
                    # A jump from a built-in chain into one of ours: `-A X ...` -> `-D X ...`.
                    _run(tool, "-w", "-t", table, "-D", *shlex.split(rule)[1:], check=False)
            chains = [line[1:].split()[0] for line in saved if line.startswith(":")]
            for chain in (c for c in chains if _own(c)):
                _run(tool, "-w", "-t", table, "-F", chain, check=False)
            for chain in (c for c in chains if _own(c)):
                _run(tool, "-w", "-t", table, "-X", chain, check=False)


def teardown_host_network() -> None:
    """Remove what ``setup_host_network`` made, and the Kubernetes chains; missing pieces are
    fine."""
    remove_kube_chains()
    _run("ip", "route", "del", layout.SERVICE_CIDR, check=False)
    if link_exists(layout.BRIDGE):
        _run("ip", "link", "del", layout.BRIDGE)


def leftovers() -> list[str]:
    """What a node left on the host: links, routes, iptables rules and netns of ours."""
    found = [f"link {layout.BRIDGE}"] if link_exists(layout.BRIDGE) else []
    veths = _run("ip", "-o", "link", "show", "type", "veth", check=False).stdout.splitlines()
    found += [f"veth {line.split(':')[1].strip()}" for line in veths if line.strip()]
    route = _run("ip", "route", "show", layout.SERVICE_CIDR, check=False).stdout.strip()
    if route:
        found.append(f"route {route}")
    for tool in IPTABLES:
        for table in TABLES:
            rules = _run(f"{tool}-save", "-t", table, check=False).stdout.splitlines()
            found += [f"{tool} -t {table}: {rule}" for rule in rules if _own(rule)]
    netns = Path("/var/run/netns")
    if netns.is_dir():
        found += [f"netns {ns.name}" for ns in netns.iterdir() if ns.name.startswith("cni-")]
    return found
