"""The sample corpus: real multi-page PDFs whose question labels point at the right pages."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tier0.common.fleet import DEVICE_TYPES, SITES
from tier0.rag.corpus import SAMPLE_DOCUMENTS, labelled_questions, write_sample_corpus
from tier0.rag.corpus.model import SamplePage
from tier0.rag.corpus.render import CorpusLayoutError, render_document
from tier0.rag.pdf import read_pages

from .conftest import document_named


def test_every_question_evidence_is_on_its_labelled_page(corpus_dir: Path) -> None:
    pages = {doc.filename: read_pages(corpus_dir / doc.filename) for doc in SAMPLE_DOCUMENTS}
    questions = labelled_questions()
    assert len(questions) >= 40
    for question in questions:
        text = pages[question.document][question.page - 1].text.replace("\n", " ")
        assert question.evidence in text, question


def test_documents_are_multi_page_with_a_table_of_figures(corpus_dir: Path) -> None:
    for doc in SAMPLE_DOCUMENTS:
        pages = read_pages(corpus_dir / doc.filename)
        assert len(pages) == len(doc.pages) + 1 >= 4
        assert doc.title.split(":")[0] in pages[0].text
        for index, page in enumerate(doc.pages):
            if page.figure:
                assert f"{page.figure.caption} .... page {index + 2}" in pages[0].text
    assert any(page.figure for doc in SAMPLE_DOCUMENTS for page in doc.pages)


def test_corpus_covers_every_site_and_device_type() -> None:
    sites = {site for doc in SAMPLE_DOCUMENTS for site in doc.sites}
    assert sites == set(SITES)
    assert {doc.device_type for doc in SAMPLE_DOCUMENTS} >= set(DEVICE_TYPES)


def test_rendering_is_byte_for_byte_repeatable(tmp_path: Path, corpus_dir: Path) -> None:
    doc = document_named("INC-2026-031")
    again = render_document(doc, tmp_path / doc.filename)
    assert again.read_bytes() == (corpus_dir / doc.filename).read_bytes()


def test_a_page_that_overflows_is_refused(tmp_path: Path) -> None:
    doc = document_named("INC-2026-031")
    long_page = SamplePage(heading="Too long", paragraphs=("word " * 2000,))
    with pytest.raises(CorpusLayoutError):
        render_document(dataclasses.replace(doc, pages=(long_page,)), tmp_path / "x.pdf")


def test_write_sample_corpus_creates_the_directory(tmp_path: Path) -> None:
    docs = (document_named("INC-2026-022"),)
    paths = write_sample_corpus(tmp_path / "new" / "dir", docs)
    assert [p.name for p in paths] == [docs[0].filename]
    assert paths[0].read_bytes().startswith(b"%PDF-")
