"""Chunk windows, ids and settings (pure functions)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from tier0.rag.chunking import chunk_id, chunk_page, clean_text, split_spans
from tier0.rag.settings import ChunkingSettings

_TEXT = st.text(alphabet=st.sampled_from("abcdefgh  \n.,"), min_size=0, max_size=3000)


@given(text=_TEXT, size=st.integers(100, 1600), overlap_share=st.floats(0.0, 0.5))
def test_spans_respect_size_and_cover_the_text(text: str, size: int, overlap_share: float) -> None:
    overlap = int(size * overlap_share)
    spans = split_spans(text, size, overlap)
    assert all(0 < end - start <= size for start, end in spans)
    covered = set().union(*(range(start, end) for start, end in spans)) if spans else set()
    assert covered == set(range(len(text)))
    assert [start for start, _ in spans] == sorted({start for start, _ in spans})


def test_neighbouring_spans_overlap_by_about_the_configured_amount() -> None:
    text = " ".join(f"word{i:04d}" for i in range(1200))
    spans = split_spans(text, 1500, 300)
    assert len(spans) > 3
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert 300 - 10 <= end - start <= 300 + 10
    assert all(text[start - 1] == " " for start, _ in spans[1:])


def test_short_page_is_one_chunk_and_empty_page_none() -> None:
    assert len(chunk_page("a.pdf", 1, "short text")) == 1
    assert chunk_page("a.pdf", 1, "") == []


def test_chunk_ids_are_stable_and_distinct() -> None:
    text = "pressure relief valve " * 200
    first = chunk_page("doc.pdf", 3, text, ChunkingSettings(chunk_size=500, chunk_overlap=100))
    again = chunk_page("doc.pdf", 3, text, ChunkingSettings(chunk_size=500, chunk_overlap=100))
    assert [c.chunk_id for c in first] == [c.chunk_id for c in again]
    assert len({c.chunk_id for c in first}) == len(first)
    assert chunk_id("doc.pdf", 3, 0, "x") != chunk_id("doc.pdf", 4, 0, "x")
    assert chunk_id("doc.pdf", 3, 0, "x") != chunk_id("other.pdf", 3, 0, "x")


def test_clean_text_collapses_extraction_noise() -> None:
    assert clean_text("  a   b \n\n\n\n c\t\td  ") == "a b\n\nc d"


def test_settings_reject_overlap_not_below_size(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError):
        ChunkingSettings(chunk_size=500, chunk_overlap=500)
    monkeypatch.setenv("TIER0_RAG_CHUNK_SIZE", "800")
    assert ChunkingSettings().chunk_size == 800
    with pytest.raises(ValueError, match="overlap"):
        split_spans("abc", 10, 10)
