"""`corroscope analyze --pdf` against outputs already there: a PDF made under another report header is
made again, and the PDF of figures from a supplied mask gives the model's own figures and names the mask
without calling it the model's mask edited by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app import cli
from app.core.files import write_png
from app.core.reviewed import write_reviewed_mask
from app.core.synthetic import synthetic_pipe
from app.report.pdf import EDITED_LINE
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


def test_the_pdf_of_a_supplied_mask_gives_the_models_own_figures(tmp_path: Path, tiny_model_path: Path):
    rgb, labels = synthetic_pipe(seed=5, size=(60, 80))
    photo = write_png(tmp_path / "pipe.png", rgb)
    masks, out, plain = tmp_path / "masks", tmp_path / "out_rev", tmp_path / "plain"
    masks.mkdir()
    write_reviewed_mask(masks / "pipe_mask.png", np.ones_like(labels))  # another tool's: all asset
    assert _analyze(photo, plain, tiny_model_path) == 0
    model_share = _text(plain / "pipe.pdf").split("Corroded share of the asset ")[1].split()[0]
    assert _analyze(photo, out, tiny_model_path, "--reviewed-masks", str(masks)) == 0
    text = _text(out / "pipe.pdf")
    assert f"The model's own figures: corroded share {model_share} %" in text
    # the mask may never have been the model's: the statement names it and claims no origin
    assert "Figures from the mask pipe_mask.png, not the model's prediction" in text
    assert EDITED_LINE.split(";")[0] not in text
