"""``tier0 rag`` commands, run in-process with typer's runner."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from tier0.cli import app
from tier0.rag.corpus import SAMPLE_DOCUMENTS, write_sample_corpus

from .conftest import document_named

runner = CliRunner()


def test_ingest_then_query_prints_citations(tmp_path: Path) -> None:
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    write_sample_corpus(corpus, (document_named("INC-2026-031"), document_named("INC-2026-014")))
    result = runner.invoke(app, ["rag", "ingest", str(corpus), "--index-dir", str(index_dir)])
    assert result.exit_code == 0, result.output
    assert "added 2" in result.output
    again = runner.invoke(app, ["rag", "ingest", str(corpus), "--index-dir", str(index_dir)])
    assert "unchanged 2" in again.output
    found = runner.invoke(
        app,
        ["rag", "query", "what blocked the cooling filters", "--index-dir", str(index_dir)],
    )
    assert found.exit_code == 0, found.output
    assert "INC-2026-031-CA-DELTA-rotor-overheating.pdf p.3" in found.output.split("\n2.")[0]


def test_ingest_of_a_missing_path_fails_cleanly(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["rag", "ingest", str(tmp_path / "nope"), "--index-dir", str(tmp_path / "ix")]
    )
    assert result.exit_code == 1
    assert "no such file or directory" in result.output


def test_query_without_an_index_fails_cleanly(tmp_path: Path) -> None:
    result = runner.invoke(app, ["rag", "query", "pump", "--index-dir", str(tmp_path / "ix")])
    assert result.exit_code == 1
    assert "tier0 rag ingest" in result.output


def test_help_does_not_load_heavy_modules() -> None:
    code = (
        "import sys; from tier0.cli import app; "
        "heavy = {'faiss', 'onnxruntime', 'bm25s', 'numpy', 'pypdf', 'fpdf'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_eval_reuses_an_up_to_date_index_and_prints_the_table(
    tmp_path: Path, corpus_dir: Path, sample_index_dir: Path
) -> None:
    shutil.copytree(corpus_dir, tmp_path / "corpus")
    shutil.copytree(sample_index_dir, tmp_path / "index")
    result = runner.invoke(app, ["rag", "eval", "--workdir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"added 0, updated 0, unchanged {len(SAMPLE_DOCUMENTS)}" in result.output
    rows = [line for line in result.output.splitlines() if line.startswith("│")]
    assert [row.split("│")[1].strip() for row in rows] == ["bm25", "dense", "hybrid"]


def test_sample_corpus_command_writes_pdfs(tmp_path: Path) -> None:
    result = runner.invoke(app, ["rag", "sample-corpus", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "out").glob("*.pdf"))) == len(SAMPLE_DOCUMENTS)


def test_ingest_into_a_damaged_index_fails_cleanly(tmp_path: Path) -> None:
    (tmp_path / "ix").mkdir()
    (tmp_path / "ix" / "manifest.json").write_text("{}")
    write_sample_corpus(tmp_path / "corpus", (document_named("INC-2026-022"),))
    result = runner.invoke(
        app, ["rag", "ingest", str(tmp_path / "corpus"), "--index-dir", str(tmp_path / "ix")]
    )
    assert result.exit_code == 1
    assert "unsupported index format" in result.output
