"""Navigation pages, title context and the score tie-break of the fusion."""

from __future__ import annotations

from tier0.rag.frontmatter import document_title, is_navigation_page, with_context
from tier0.rag.retrieval import reciprocal_rank_fusion, relative_scores

CONTENTS = """Wind Fleet Runbook
Document: OPS-RB-101
Contents
1. Site overview .... page 2
2. Start-up checks .... page 3
3. Shutdown .... page 4
Table of figures
Figure 1: Output by site .... page 2"""

CONTENT = """2. Start-up checks
Confirm pitch hydraulic pressure above 180 bar .... then release the brake.
See section 3 for shutdown on page 4."""


def test_contents_pages_are_navigation_and_content_pages_are_not() -> None:
    assert is_navigation_page(CONTENTS)
    assert not is_navigation_page(CONTENT)
    assert not is_navigation_page("")


def test_title_comes_from_metadata_else_the_first_line() -> None:
    assert document_title("  Wind   Fleet Runbook ", CONTENTS) == "Wind Fleet Runbook"
    assert document_title(None, "\n\nFirst line\nsecond") == "First line"
    assert with_context("Title", "body") == "Title\nbody"
    assert with_context("", "body") == "body"
    assert with_context("Title", "Title and more") == "Title and more"


def test_ties_in_rank_fusion_go_to_the_larger_score_margin() -> None:
    # Items 7 and 8 are ranked (1, 2) and (2, 1): equal RRF scores.
    lexical, dense = [(7, 12.0), (8, 11.9), (9, 1.0)], [(8, 0.80), (7, 0.50), (9, 0.40)]
    tiebreak = relative_scores(lexical)
    for row, score in relative_scores(dense).items():
        tiebreak[row] = tiebreak.get(row, 0.0) + score
    fused = reciprocal_rank_fusion([[r for r, _ in lexical], [r for r, _ in dense]], 60, tiebreak)
    assert fused[0][1] == fused[1][1]
    assert [row for row, _ in fused] == [8, 7, 9]
    assert [row for row, _ in reciprocal_rank_fusion([[7, 8, 9], [8, 7, 9]])] == [7, 8, 9]


def test_relative_scores_are_min_max_normalised() -> None:
    assert relative_scores([(1, 4.0), (2, 2.0), (3, 3.0)]) == {1: 1.0, 2: 0.0, 3: 0.5}
    assert relative_scores([(1, 2.0), (2, 2.0)]) == {1: 1.0, 2: 1.0}
    assert relative_scores([]) == {}
