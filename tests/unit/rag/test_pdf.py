"""PDF ingestion: page numbers, chunk metadata and the inputs it must refuse."""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

import pytest
from fpdf import FPDF
from pypdf import PdfWriter

from tier0.rag.corpus import labelled_questions
from tier0.rag.pdf import IngestError, PdfSource, chunk_pdf, discover_pdfs, read_pages
from tier0.rag.settings import ChunkingSettings


def _pdf_with_pages(path: Path, pages: list[str]) -> Path:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.multi_cell(0, 5, text)
    pdf.output(str(path))
    return path


def test_chunks_carry_document_and_page(corpus_dir: Path) -> None:
    name = "MAN-TE-450-thermal-engine-manual.pdf"
    chunks = chunk_pdf(PdfSource(corpus_dir / name, name))
    assert {c.document for c in chunks} == {name}
    # Page 1 (title block, contents, list of figures) is a navigation page: not indexed.
    assert sorted({c.page for c in chunks}) == list(
        range(2, len(read_pages(corpus_dir / name)) + 1)
    )
    for question in (q for q in labelled_questions() if q.document == name):
        pages = {c.page for c in chunks if question.evidence in c.text.replace("\n", " ")}
        assert question.page in pages, question


def test_long_pages_split_with_overlap_inside_their_page(tmp_path: Path) -> None:
    body = " ".join(f"valve{i} inspected" for i in range(220))
    path = _pdf_with_pages(tmp_path / "long.pdf", ["intro page", body, "closing page"])
    chunks = chunk_pdf(PdfSource(path, "long.pdf"), ChunkingSettings(chunk_size=1500))
    second = [c for c in chunks if c.page == 2]
    assert len(read_pages(path)) == 3
    assert chunks[0].page == 1
    assert chunks[-1].page == 3
    assert len(second) >= 3
    assert all(len(c.text) <= 1500 for c in chunks)
    for left, right in itertools.pairwise(second):
        assert right.offset < left.offset + len(left.text)  # neighbours overlap
        assert left.text[-100:] in right.text


def test_discover_finds_pdfs_under_directories_with_relative_names(tmp_path: Path) -> None:
    _pdf_with_pages(tmp_path / "a.pdf", ["a"])
    (tmp_path / "sub").mkdir()
    _pdf_with_pages(tmp_path / "sub" / "b.PDF", ["b"])
    (tmp_path / "notes.txt").write_text("not a pdf")
    sources = discover_pdfs([tmp_path])
    assert [s.document for s in sources] == ["a.pdf", "sub/b.PDF"]
    assert [s.document for s in discover_pdfs([tmp_path / "sub" / "b.PDF"])] == ["b.PDF"]


def test_same_document_name_from_two_places_is_refused(tmp_path: Path) -> None:
    for folder in ("x", "y"):
        (tmp_path / folder).mkdir()
        _pdf_with_pages(tmp_path / folder / "same.pdf", [folder])
    with pytest.raises(IngestError, match=r"same\.pdf"):
        discover_pdfs([tmp_path / "x" / "same.pdf", tmp_path / "y" / "same.pdf"])


@pytest.mark.parametrize("name", ["missing.pdf", "notes.txt"])
def test_missing_or_non_pdf_paths_are_refused(tmp_path: Path, name: str) -> None:
    (tmp_path / "notes.txt").write_text("plain text")
    with pytest.raises(IngestError):
        discover_pdfs([tmp_path / name])


def test_corrupt_pdf_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\nthis is not really a pdf\n")
    with pytest.raises(IngestError, match=r"broken\.pdf"):
        read_pages(broken)


def test_encrypted_pdf_is_refused(tmp_path: Path) -> None:
    plain = _pdf_with_pages(tmp_path / "plain.pdf", ["secret procedure"])
    writer = PdfWriter(clone_from=plain)
    writer.encrypt("pw", algorithm="RC4-128")
    locked = tmp_path / "locked.pdf"
    writer.write(locked)
    with pytest.raises(IngestError, match="encrypted"):
        read_pages(locked)


def test_pdf_without_text_gives_no_chunks_and_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _pdf_with_pages(tmp_path / "scan.pdf", ["", ""])
    with caplog.at_level(logging.WARNING, logger="tier0.rag.pdf"):
        assert chunk_pdf(PdfSource(path, "scan.pdf")) == []
    assert "no extractable text" in caplog.text
