"""`project export`'s tables write a cell one way throughout: the ISO 4628-3 grade as `results.csv` does
("Ri 5", in `project.csv` and `trends.csv` alike), and `project.csv`'s `file` as the photo's path the project
holds, whether the photo was added from a folder typed relative to where the command ran or re-run later."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from app import cli
from app.core.inference import InferenceOptions
from app.core.model import SegmentationModel
from app.core.project import Project
from tests.helpers.pipe_photos import photo_folder


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_export_writes_the_grade_and_the_file_one_way(
    qapp, target: str, tmp_path: Path, tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.ui.project_worker_jobs import rerun_job  # the window's Re-run model

    monkeypatch.chdir(tmp_path)  # the folder given relative to here, as typed at a prompt
    photo_folder(tmp_path / "photos", 3, 0.5, size=(48, 64))
    assert cli.main(["project", "create", target]) == 0
    add = ["project", "add", target, "--asset", "P-1", "--date", "2023-03-01", "photos"]
    assert cli.main([*add, "--model", str(tiny_model_path), "--device", "cpu"]) == 0
    with Project.open(target) as project:
        (inspection,) = project.inspections("P-1")
        photos = project.photos(inspection.id)
        stored = project.latest_result(photos[0].id)
    assert stored is not None and Path(stored.record["file"]).is_absolute(), stored.record["file"]
    model = SegmentationModel.load(tiny_model_path, device="cpu")
    assert rerun_job(target, model, photos[1].id, InferenceOptions()) == 2
    out = tmp_path / "export"
    assert cli.main(["project", "export", target, "--out", str(out)]) == 0
    rows = _rows(out / "project.csv")
    assert len(rows) == 3
    for row in rows:
        assert row["file"] == row["photo_path"] and Path(row["file"]).is_absolute(), row["file"]
    (trend,) = _rows(out / "trends.csv")
    worst = max(int(r["iso_4628_3"].removeprefix("Ri ")) for r in rows)
    assert all(r["iso_4628_3"].startswith("Ri ") for r in rows)
    assert trend["iso_worst"] == f"Ri {worst}", "as project.csv and results.csv write it"
