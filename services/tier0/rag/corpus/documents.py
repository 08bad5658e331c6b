"""The sample corpus and the labelled question set derived from it."""

from __future__ import annotations

from tier0.rag.corpus.incidents import INCIDENT_REPORTS
from tier0.rag.corpus.manuals import ROTOR_MANUAL, THERMAL_ENGINE_MANUAL
from tier0.rag.corpus.manuals_wind import TURBINE_MANUAL
from tier0.rag.corpus.model import LabelledQuestion, SampleDocument
from tier0.rag.corpus.runbooks import RUNBOOKS
from tier0.rag.corpus.safety import SAFETY_REPORT

SAMPLE_DOCUMENTS: tuple[SampleDocument, ...] = (
    *RUNBOOKS,
    THERMAL_ENGINE_MANUAL,
    ROTOR_MANUAL,
    TURBINE_MANUAL,
    *INCIDENT_REPORTS,
    SAFETY_REPORT,
)


def content_page(index: int) -> int:
    """PDF page number of ``pages[index]``: every document opens with a title page."""
    return index + 2


def labelled_questions(
    documents: tuple[SampleDocument, ...] = SAMPLE_DOCUMENTS,
) -> list[LabelledQuestion]:
    """Every question written next to a page, labelled with that document and PDF page."""
    return [
        LabelledQuestion(q.text, doc.filename, content_page(i), q.evidence)
        for doc in documents
        for i, page in enumerate(doc.pages)
        for q in page.questions
    ]
