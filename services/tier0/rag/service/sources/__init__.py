"""One module per source; each turns a question into cited statements and figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tier0.rag.service.models import Source


@dataclass(frozen=True, slots=True)
class Reference:
    """What a statement cites (a document chunk, or a named query over a store)."""

    source: Source
    document: str | None = None
    page: int | None = None
    chunk_id: str | None = None
    store: str | None = None
    query: str | None = None
    filters: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Statement:
    """One sentence of evidence and where it comes from."""

    text: str
    reference: Reference


@dataclass
class SourceResult:
    """What one source contributed: statements to cite and the raw figures."""

    source: Source
    statements: list[Statement] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
