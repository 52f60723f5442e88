"""What a model's classes do to tables (the second hostile pass): `project export` writes its figures
with `analyze`'s row writer under one header, whatever order or number of classes a model lists; class
names holding control characters or longer than the limit are refused at load; a class name that looks
like a formula stays text in the CSV header. Models are built here (`hostile_onnx.classes_model`)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from app import cli
from app.core.errors import ModelContractError
from app.core.files import write_png
from app.core.model import SegmentationModel
from tests.reliability import hostile_onnx as hostile
from tests.reliability.conftest import read_csv

BLUE, GREEN = (0, 0, 255), (0, 255, 0)


def _photo(folder: Path, name: str, rgb: tuple[int, int, int]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return write_png(folder / name, np.full((32, 32, 3), rgb, np.uint8))


def _export(tmp_path: Path, model: Path, photo: Path) -> list[dict[str, str]]:
    """`project create/add/export` in this process; the rows of `project.csv` by header (each row as
    long as the header)."""
    project = tmp_path / "p.corroscope"
    assert cli.main(["project", "create", str(project)]) == 0
    add = ["project", "add", str(project), str(photo), "--asset", "P-1", "--date", "2026-01-02"]
    assert cli.main([*add, "--model", str(model), "--device", "cpu"]) == 0
    assert cli.main(["project", "export", str(project), "--out", str(tmp_path / "export")]) == 0
    with open(tmp_path / "export" / "project.csv", encoding="utf-8-sig", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    assert rows and all(len(r) == len(header) for r in rows), (header, rows)
    return [dict(zip(header, r, strict=True)) for r in rows]


def test_project_export_puts_each_class_under_its_own_column_whatever_the_models_order(
    tmp_path: Path,
) -> None:
    # class 1 ("corrosion") is the blue channel: a blue photo is all corrosion
    model = hostile.classes_model(tmp_path / "reordered.onnx", ["background", "corrosion", "asset"])
    (row,) = _export(tmp_path, model, _photo(tmp_path / "in", "rust.png", BLUE))
    assert row["corrosion_percent"] == "100.0000" and row["asset_percent"] == "0.0000", row
    assert row["background_percent"] == "0.0000" and row["corroded_share"] == "100.0000", row
    assert row["status"] == "ok" and row["asset"] == "P-1"


def test_project_export_of_a_model_with_a_fourth_class_gets_a_column_for_it(tmp_path: Path) -> None:
    model = hostile.classes_model(tmp_path / "four.onnx", ["corrosion", "asset", "background", "paint"])
    (row,) = _export(tmp_path, model, _photo(tmp_path / "in", "grass.png", GREEN))
    assert row["background_percent"] == "100.0000" and row["paint_percent"] == "0.0000", row
    assert row["corroded_share"] == "" and row["status"] == "ok" and row["error"] == "", row
    # the same figures as analyze's results.csv, cell for cell
    out = tmp_path / "analyze"
    assert cli.main(["analyze", str(tmp_path / "in"), "--out", str(out), "--model", str(model)]) == 0
    (mine,) = read_csv(out / "results.csv", drop=())
    figures = [c for c in mine if c.endswith("_percent")]
    figures += ["corroded_share", "astm_d610", "iso_4628_3", "needs_review", "mean_confidence", "status"]
    assert len(figures) == 10 and {c: row[c] for c in figures} == {c: mine[c] for c in figures}


@pytest.mark.parametrize(
    "name, why",
    [
        ("corrosion\x1b]0;owned\x07", "U+001B"),
        ("corr\x00osion", "U+0000"),
        ("rust\u202eevil", "U+202E"),
        ("x" * 200_000, "200,000 characters long; at most 64"),
        ("x" * 65, "65 characters long; at most 64"),
    ],
    ids=["escape sequence", "NUL", "bidi override", "200 KB", "65 characters"],
)
def test_class_names_with_control_characters_or_too_long_are_refused_at_load(
    tmp_path: Path, name: str, why: str
) -> None:
    path = hostile.classes_model(tmp_path / "bad.onnx", ["corrosion", "asset", "background", name])
    with pytest.raises(ModelContractError) as info:
        SegmentationModel.load(path, device="cpu")
    message = str(info.value)
    assert why in message and "\x1b" not in message and "\x00" not in message, message
    assert len(message) < 1_000


def test_a_class_name_of_64_characters_loads_and_is_analysed(tmp_path: Path) -> None:
    name = "p" * 64
    path = hostile.classes_model(tmp_path / "ok.onnx", ["corrosion", "asset", "background", name])
    assert SegmentationModel.load(path, device="cpu").classes[-1].name == name


def test_a_class_name_like_a_formula_stays_text_in_the_csv_header(tmp_path: Path) -> None:
    formula = '=HYPERLINK("http://evil.example/","x")'
    model = hostile.classes_model(tmp_path / "f.onnx", ["corrosion", "asset", "background", formula])
    _photo(tmp_path / "in", "a.png", BLUE)
    out = tmp_path / "out"
    argv = ["analyze", str(tmp_path / "in"), "--out", str(out), "--model", str(model)]
    for _ in range(2):  # the second run reads the table back and merges into it
        assert cli.main(argv) == 0
        with open(out / "results.csv", encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh))
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in header), header
        assert f"'{formula}_percent" in header
    run = json.loads((out / "results.json").read_text("utf-8"))
    counts = {"rows": 1, "ok": 1, "failed": 0, "not_analysed": 0}
    assert run["photos"] == {**counts, "needs_review": run["photos"]["needs_review"]}
