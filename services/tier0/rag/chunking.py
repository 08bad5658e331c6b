"""Page-aware chunks with stable ids."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from tier0.rag.frontmatter import with_context
from tier0.rag.settings import ChunkingSettings

# How far back from a hard cut we look for whitespace, so words are not split.
_SNAP_WINDOW = 120
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


@dataclass(frozen=True, slots=True)
class Chunk:
    """A slice of one page of one document; ``page`` is 1-based, ``offset`` in page characters.

    ``context`` (the document title) is indexed with the text but not shown or cited.
    """

    chunk_id: str
    document: str
    page: int
    offset: int
    text: str
    context: str = ""

    @property
    def indexed_text(self) -> str:
        """What is embedded and BM25-indexed: the context line, then the text."""
        return with_context(self.context, self.text)


def clean_text(text: str) -> str:
    """Collapse runs of spaces and blank lines that PDF extraction leaves behind."""
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def chunk_id(document: str, page: int, offset: int, text: str) -> str:
    """Same document, page, position and text give the same id on every run and machine."""
    digest = hashlib.sha256(f"{document}\x00{page}\x00{offset}\x00{text}".encode())
    return digest.hexdigest()[:20]


def split_spans(text: str, size: int, overlap: int) -> list[tuple[int, int]]:
    """``(start, end)`` windows of at most ``size`` chars; neighbours share about ``overlap``."""
    if overlap >= size:
        raise ValueError("overlap must be smaller than size")
    spans: list[tuple[int, int]] = []
    start = 0
    while start < len(text):
        end = _snap_end(text, start, min(start + size, len(text)))
        spans.append((start, end))
        if end >= len(text):
            break
        start = _snap_start(text, max(end - overlap, start + 1))
    return spans


def _snap_end(text: str, start: int, end: int) -> int:
    if end >= len(text):
        return len(text)
    cut = text.rfind(" ", max(start + 1, end - _SNAP_WINDOW), end)
    cut = max(cut, text.rfind("\n", max(start + 1, end - _SNAP_WINDOW), end))
    return cut if cut > start else end


def _snap_start(text: str, start: int) -> int:
    if start == 0 or text[start - 1].isspace():
        return start
    nxt = min((i for i in (text.find(" ", start), text.find("\n", start)) if i != -1), default=-1)
    return nxt + 1 if 0 <= nxt < start + _SNAP_WINDOW else start


def chunk_page(
    document: str,
    page: int,
    text: str,
    settings: ChunkingSettings | None = None,
    *,
    context: str = "",
) -> list[Chunk]:
    """Chunks of one page; an empty page gives none."""
    cfg = settings or ChunkingSettings()
    chunks: list[Chunk] = []
    for start, end in split_spans(text, cfg.chunk_size, cfg.chunk_overlap):
        piece = text[start:end].strip()
        if piece:
            chunks.append(
                Chunk(chunk_id(document, page, start, piece), document, page, start, piece, context)
            )
    return chunks
