"""`corroscope analyze --pdf` against outputs already there: a PDF made under another report header is
made again."""

from __future__ import annotations

from pathlib import Path

from app import cli
from app.core.files import write_png
from app.core.synthetic import synthetic_pipe
from tests.ui.test_report_header import page_texts


def _analyze(photo: Path, out: Path, model: Path, *extra: str) -> int:
    args = ["analyze", str(photo), "--out", str(out), "--model", str(model), "--device", "cpu", "--pdf"]
    return cli.main([*args, *extra])


def _text(pdf: Path) -> str:
    return " ".join(page_texts(pdf)).replace("\ufb01", "fi")


def test_a_rerun_under_another_header_makes_the_pdf_again(tmp_path: Path, tiny_model_path: Path) -> None:
    """The second run said "skipped … outputs already complete" and left WRONG-001 / Alice in the PDF."""
    photo = write_png(tmp_path / "ORI_010.png", synthetic_pipe(seed=3, size=(60, 80))[0])
    out = tmp_path / "out_one"
    assert _analyze(photo, out, tiny_model_path, "--asset-id", "WRONG-001", "--inspector", "Alice") == 0
    assert "Asset ID: WRONG-001" in _text(out / "ORI_010.pdf")
    assert _analyze(photo, out, tiny_model_path, "--asset-id", "RIGHT-002", "--inspector", "Bob") == 0
    text = _text(out / "ORI_010.pdf")
    assert "Asset ID: RIGHT-002" in text and "Inspector: Bob" in text
    assert "WRONG-001" not in text and "Alice" not in text
