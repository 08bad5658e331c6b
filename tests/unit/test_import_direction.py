"""Dependencies between the packages go one way: the simulators are clients of the services.

A simulator knows what a real field device or web server would know, the message contracts in
``tier0.common``, and nothing of the services that consume its messages; the services do not
know the simulators at all, except the ``tier0`` entry point that mounts ``tier0 simulate``.
Imports are read from the source with ``ast``, so one inside a function counts too.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "services" / "tier0"
SIMULATORS = ROOT / "simulators" / "tier0_simulators"
# The top-level command registers the simulator sub-commands; no other service module may.
ENTRY_POINT = SERVICES / "cli.py"


def imported_modules(path: Path, source_root: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in ``path``; relative imports resolved."""
    package = path.parent.relative_to(source_root).parts
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join((*base, node.module) if node.module else base)
            else:
                module = node.module or ""
            yield node.lineno, module


def in_package(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def violations(package: Path, allowed: Callable[[Path, str], bool]) -> list[str]:
    found = []
    for path in sorted(package.rglob("*.py")):
        for line, module in imported_modules(path, package.parent):
            if not allowed(path, module):
                found.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return found


def test_services_do_not_import_the_simulators() -> None:
    def allowed(path: Path, module: str) -> bool:
        return path == ENTRY_POINT or not in_package(module, "tier0_simulators")

    assert violations(SERVICES, allowed) == []


def test_simulators_import_only_tier0_common() -> None:
    def allowed(path: Path, module: str) -> bool:
        return not in_package(module, "tier0") or in_package(module, "tier0.common")

    assert violations(SIMULATORS, allowed) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import tier0_simulators.users", "tier0_simulators.users"),
        ("from tier0_simulators import users", "tier0_simulators"),
        ("def f():\n    import tier0.consumers.mqtt", "tier0.consumers.mqtt"),
        ("from ..consumers import telemetry", "tier0.consumers"),
        ("from . import fleet", "tier0.common"),
    ],
)
def test_imports_are_found_wherever_they_are(source: str, expected: str, tmp_path: Path) -> None:
    """The checks above would pass vacuously if the parser missed a form of import."""
    module = tmp_path / "tier0" / "common" / "probe.py"
    module.parent.mkdir(parents=True)
    module.write_text(source + "\n", encoding="utf-8")
    assert [name for _, name in imported_modules(module, tmp_path)] == [expected]
