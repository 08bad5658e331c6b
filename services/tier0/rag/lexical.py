"""BM25 over chunk texts with bm25s, wrapped so that empty corpora and queries are harmless."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

_EMPTY_MARKER = "empty.json"


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased word tokens without English stop words (the same for chunks and queries)."""
    import bm25s  # type: ignore[import-untyped]

    tokens: list[list[str]] = bm25s.tokenize(
        texts, stopwords="en", return_ids=False, show_progress=False
    )
    return tokens


class LexicalIndex:
    """A BM25 ranking of chunk rows; rows are positions in the corpus given to ``build``."""

    def __init__(self, retriever: Any = None, size: int = 0) -> None:
        self._retriever = retriever
        self._size = size

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        """Index ``texts``; an empty list gives an index that finds nothing."""
        if not texts:
            return cls()
        import bm25s

        retriever = bm25s.BM25()
        retriever.index(tokenize(texts), show_progress=False)
        return cls(retriever, len(texts))

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """Up to ``k`` ``(row, score)`` pairs with a positive score, best first."""
        if self._retriever is None or k < 1:
            return []
        tokens = [t for t in tokenize([query])[0] if t in self._retriever.vocab_dict]
        if not tokens:
            return []
        rows, scores = self._retriever.retrieve(
            [tokens], k=min(k, self._size), show_progress=False, n_threads=1
        )
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if s > 0]

    def save(self, directory: Path) -> None:
        """Write the BM25 arrays (or an empty marker) into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        if self._retriever is None:
            (directory / _EMPTY_MARKER).write_text(json.dumps({"size": 0}))
            return
        self._retriever.save(str(directory), show_progress=False)

    @classmethod
    def load(cls, directory: Path, *, size: int) -> LexicalIndex:
        """Read what ``save`` wrote; ``size`` is the number of chunks it must cover."""
        if (directory / _EMPTY_MARKER).is_file():
            return cls()
        import bm25s

        retriever = bm25s.BM25.load(str(directory), show_progress=False)
        return cls(retriever, size)
