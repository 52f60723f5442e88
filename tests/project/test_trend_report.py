"""The asset's trend PDF as a report: which model made its figures and that model's statement of accuracy
(the line every photo's report carries), each inspection's notes, and the worst D610 grade written as the
photo's report writes it (with its distribution type, "0-G")."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import cli
from app.core.model import SegmentationModel
from app.core.project import Project
from app.report.project_pdf import render_asset_pdf
from tests.helpers.pipe_photos import photo_folder
from tests.ui.test_report_words import assert_words_whole, pdf_text

NOTES = {"2022-05-01": "Coating blistered near the north weld", "2024-05-01": ""}


@pytest.fixture
def rusty(target: str, tmp_path: Path, tiny_model_path: Path) -> str:
    """P-9 inspected twice, the first time with notes, photos rusty enough for D610 grades of 0-1."""
    assert cli.main(["project", "create", target]) == 0
    for n, (date, notes) in enumerate(NOTES.items()):
        folder = photo_folder(tmp_path / f"in{n}", 2, 0.6 + 0.1 * n, seed=n, size=(48, 64))
        args = ["project", "add", target, "--asset", "P-9", "--date", date, str(folder), "--notes", notes]
        assert (
            cli.main([*args, "--model", str(tiny_model_path), "--device", "cpu", "--inspector", "Ann"]) == 0
        )
    return target


def test_the_trend_pdf_names_the_model_its_accuracy_and_the_notes(qapp, rusty: str, tiny_model_path: Path):
    with Project.open(rusty) as project:
        asset, trend = project.asset("P-9"), project.trend("P-9")
        results = project.latest_results(i.id for i in project.inspections("P-9"))
    data = render_asset_pdf(asset, trend, "site")
    text = pdf_text(data)
    model = SegmentationModel.load(tiny_model_path, device="cpu")
    assert "Statement of accuracy" in text
    assert_words_whole(data, [model.accuracy_line])  # the model's own line, as the photo's report has it
    assert tiny_model_path.name in text
    assert_words_whole(data, [f"(SHA-256 {model.sha256})"])  # whole, as the photo and batch reports print it
    assert_words_whole(data, ["2022-05-01 (Ann)", NOTES["2022-05-01"]])
    for row in trend.rows:  # the worst photo's grade as its record writes it
        worst = min(results[row.inspection_id], key=lambda r: (r.astm_d610, -r.corroded_share))
        label = worst.record["astm_d610_with_distribution"]
        assert "-" in label and row.d610_worst_label == label
        assert f" {label} " in text


def test_an_exported_trend_pdf_lists_the_changes_made_after_the_fact(qapp, rusty: str, tmp_path: Path):
    with Project.open(rusty) as project:
        first = project.inspections("P-9")[0]
        project.correct_inspection(first.id, "P-9", first.date, "Bea", first.notes, by="Ola Berg")
        clean = render_asset_pdf(project.asset("P-9"), project.trend("P-9"), "site")
    assert "Changes after the fact" not in pdf_text(clean)  # render alone: only what it is given
    out = tmp_path / "export"
    assert cli.main(["project", "export", rusty, "--out", str(out)]) == 0
    data = (out / "P-9_trend.pdf").read_bytes()
    assert "Changes after the fact" in pdf_text(data)
    assert_words_whole(data, ["Ola Berg", "inspection P-9 2022-05-01 by Ann: inspector Ann → Bea"])
