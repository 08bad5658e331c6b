"""Every container the chart starts with the tier0 image runs a real `tier0` command with
options that command accepts (parsed by the CLI itself, with the container's environment)."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from chart_helm import Manifest, Render

from tier0.cli import app

pytestmark = pytest.mark.charts

# The command each component's main container runs (its args, before the options).
COMMANDS = {
    "api": ["api"],
    "rag": ["rag", "serve"],
    "mqtt-consumer": ["consume", "mqtt"],
    "rabbitmq-consumer": ["consume", "rabbitmq"],
    "device-simulator": ["simulate", "devices"],
    "user-simulator": ["simulate", "users"],
    "operator": ["operator"],
    "image-processor": ["images", "process"],
    "dashboard": ["dashboard"],
}
# `tier0 ...` lines inside the shell scripts of the log simulator, the migrations Job and the
# RAG ingest step.
SCRIPTED = re.compile(r"\btier0 ((?:[a-z-]+ ?)+(?:--?[a-z-]+ \S+ ?)*)")


def _resolve(args: list[str]) -> tuple[Any, list[str]]:
    """The (sub)command ``args`` name and the arguments left for it. Duck-typed: typer ships
    its own copy of click, so isinstance checks against the click package would never match."""
    command: Any = typer.main.get_command(app)
    rest = list(args)
    while rest and rest[0] in getattr(command, "commands", {}):
        command = command.commands[rest.pop(0)]
    return command, rest


def _literal_env(container: Manifest) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}


@pytest.mark.parametrize("component", sorted(COMMANDS))
def test_component_runs_a_real_command(
    component: str, default_render: Render, monkeypatch: pytest.MonkeyPatch
) -> None:
    (obj,) = [
        o
        for kind in ("Deployment", "StatefulSet", "Job")
        for o in default_render.component(kind, component)
    ]
    container = obj["spec"]["template"]["spec"]["containers"][0]
    args = container["args"]
    assert args[: len(COMMANDS[component])] == COMMANDS[component]
    for name, value in _literal_env(container).items():
        monkeypatch.setenv(name, value)
    command, rest = _resolve(args)
    assert not hasattr(command, "commands"), f"{args} names a group, not a command"
    assert rest[:1] != args[:1], f"{args} names no tier0 command"
    # Parses and type-checks every option and argument; unknown ones raise.
    command.make_context(command.name or component, rest)


@pytest.mark.parametrize(
    ("kind", "name", "expected"),
    [
        ("Deployment", "tier0-log-simulator", {"simulate logs", "logs load"}),
        ("Job", "tier0-migrations-1", {"migrate"}),
        ("Deployment", "tier0-rag", {"rag sample-corpus", "rag ingest"}),
    ],
)
def test_scripts_call_real_commands(
    kind: str, name: str, expected: set[str], default_render: Render
) -> None:
    spec = default_render.named(kind, name)["spec"]["template"]["spec"]
    script = " ".join(
        arg for c in spec.get("initContainers", []) + spec["containers"] for arg in c["args"]
    )
    found = set()
    for match in SCRIPTED.finditer(script):
        words = match.group(1).split()
        command, rest = _resolve(words)
        path = " ".join(words[: len(words) - len(rest)])
        found.add(path)
        options = {opt for param in command.params for opt in param.opts}
        for word in rest:
            if word.startswith("--"):
                assert word in options, f"`tier0 {path}` has no option {word}"
    assert expected <= found, script
