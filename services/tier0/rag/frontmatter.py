"""Front matter: navigation pages are not answers, and a document's title is context.

A contents page, a table of figures or a list of tables repeats every heading and caption of
the document next to a page number. Indexed as an ordinary page it matches almost any question
about the document, without containing the answer, and pushes the page that does answer down
the ranking. Such pages are recognised by their shape (most lines end in a page reference after
dot leaders), not by their wording, so the rule holds for any PDF.

The title, on the other hand, tells every chunk which document (equipment, site, incident) it
belongs to; the chunk text alone often does not. It is prepended to the text that is embedded
and BM25-indexed (a "contextual chunk header"), while the chunk shown and cited stays the page
text.
"""

from __future__ import annotations

import re

# "3. Root cause .... page 4", "Figure 2: Output ....... 7", "Summary … p. 3"
_NAVIGATION_LINE = re.compile(r"^\S.*?(?:\.{3,}|…+)\s*(?:page|p\.)?\s*\d{1,4}$", re.IGNORECASE)
# Share of non-empty lines that must be navigation entries for a page to be a navigation page.
NAVIGATION_SHARE = 0.3
MIN_NAVIGATION_LINES = 3
MAX_TITLE_CHARS = 200


def is_navigation_line(line: str) -> bool:
    """Whether ``line`` is a table-of-contents style entry (caption, dot leaders, page)."""
    return bool(_NAVIGATION_LINE.match(line.strip()))


def is_navigation_page(text: str) -> bool:
    """Whether a page is mostly a contents/figures/tables listing rather than content."""
    lines = [line for line in text.splitlines() if line.strip()]
    entries = sum(is_navigation_line(line) for line in lines)
    return entries >= MIN_NAVIGATION_LINES and entries >= NAVIGATION_SHARE * len(lines)


def document_title(metadata_title: str | None, first_page: str) -> str:
    """The PDF's /Title when it has one, else the first non-empty line of its first page."""
    title = (metadata_title or "").strip()
    if not title:
        title = next((line.strip() for line in first_page.splitlines() if line.strip()), "")
    return " ".join(title.split())[:MAX_TITLE_CHARS]


def with_context(title: str, text: str) -> str:
    """The text to embed and index for a chunk: its document title, then the chunk."""
    return f"{title}\n{text}" if title and not text.startswith(title) else text
