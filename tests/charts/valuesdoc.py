"""The chart's values reference, generated from the ``## @param`` comments of values.yaml.

``make docs-values`` (``python tests/charts/valuesdoc.py charts/tier0 docs/deploy.md``) rewrites
the table between the two marker lines of docs/deploy.md; a test fails when it is stale.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # no stubs installed

BEGIN = "<!-- values reference: generated from charts/tier0/values.yaml, do not edit -->"
END = "<!-- end of values reference -->"
PARAM = re.compile(r"^\s*## @param (\S+) (.+)$")


def _lookup(values: dict[str, Any], path: str) -> Any:
    node: Any = values
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _cell(value: Any) -> str:
    return "`" + _escape(json.dumps(value)) + "`"


def _escape(text: str) -> str:
    """A pipe would end the Markdown table cell."""
    return text.replace("|", "\\|")


def values_table(chart: Path) -> str:
    """A Markdown table: every documented value, its description and its default."""
    source = (chart / "values.yaml").read_text()
    values = yaml.safe_load(source)
    rows = ["| value | description | default |", "|---|---|---|"]
    for line in source.splitlines():
        match = PARAM.match(line)
        if match:
            path, description = match.groups()
            default = _cell(_lookup(values, path))
            rows.append(f"| `{path}` | {_escape(description)} | {default} |")
    return "\n".join(rows)


def render(chart: Path, document: str) -> str:
    """``document`` with the table between the markers replaced by a fresh one."""
    head, rest = document.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{values_table(chart)}\n{END}{tail}"


def main() -> None:
    chart, doc = Path(sys.argv[1]), Path(sys.argv[2])
    doc.write_text(render(chart, doc.read_text()))


if __name__ == "__main__":
    main()
