"""The per-photo record and results.csv: the measures of every photo (range, patches, D610 distribution,
mm²), run-wide facts once in results.json, paths relative to the input folder, figures text per scale."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest

from app import cli
from app.core import figures
from app.core.analysis import EDITED_LABELS, REVIEWED_LABELS, analyze_rgb, reassess
from app.core.export import CSV_COLUMNS, CSV_NAME, companion_path, csv_row, result_to_dict
from app.core.files import write_png
from app.core.grading import Distribution, assess
from app.core.inference import InferenceOptions
from app.core.model import SegmentationModel
from app.core.palette import ASSET
from app.core.pipeline import BatchOptions, run_batch
from app.core.share_range import ShareRange
from app.core.sources import EDITED_REASON
from app.core.stats import AreaStats
from app.core.synthetic import synthetic_pipe

NEW = ("corroded_share_low", "corroded_share_high", "d610_distribution", "patch_count", "largest_patch_share")
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _green(size: tuple[int, int] = (40, 50)) -> np.ndarray:
    """All background for the channel-argmax model: no asset in view."""
    rgb = np.zeros((*size, 3), np.uint8)
    rgb[..., 1] = 200
    return rgb


def _plate(corroded: tuple[int, int] = (10, 12)) -> np.ndarray:
    """Asset (blue) 30 x 40 on background (green), with one corroded (red) rectangle of known size."""
    rgb = _green((40, 50))
    rgb[5:35, 5:45] = (0, 0, 200)
    h, w = corroded
    rgb[10 : 10 + h, 10 : 10 + w] = (200, 0, 0)
    return rgb


def test_every_analysed_photo_has_every_new_field(tmp_path: Path, tiny_model: SegmentationModel) -> None:
    src = tmp_path / "in"
    src.mkdir()
    photos = [write_png(src / f"p{i}.png", synthetic_pipe(seed=i, size=(60, 80))[0]) for i in range(3)]
    out = tmp_path / "out"
    summary = run_batch(tiny_model, photos, out, BatchOptions(input_folders=(src,)))
    rows = _rows(summary.csv_path)
    assert [r["file"] for r in rows] == ["p0.png", "p1.png", "p2.png"]
    for row, photo in zip(rows, photos, strict=True):
        record = json.loads((out / row["json_file"]).read_text(encoding="utf-8"))
        assert record["file"] == str(photo) and record["relative_path"] == photo.name
        for name in NEW:
            assert row[name] != "" and record[name] is not None, name
        low, share, high = (
            float(row[k]) for k in ("corroded_share_low", "corroded_share", "corroded_share_high")
        )
        assert low <= share <= high
        assert row["d610_distribution"] in "SGPH"
        assert int(row["patch_count"]) == record["patches"]["count"]
        assert float(row["largest_patch_share"]) == pytest.approx(
            record["patches"]["largest"]["share"], abs=1e-4
        )
        assert row["mm_per_px"] == row["corrosion_area_mm2"] == ""  # no scale: no physical units
        assert record["class_areas_mm2"] is None and "area_mm2" not in json.dumps(record["patches"])
        assert STAMP.match(row["analysed_at"]) and row["analysed_at"] == record["analysed_at"]
        assert row["mode"] == "resize" and row["model_file"] == tiny_model.path.name
        assert row["iso_4628_3"] == record["iso_4628_3"]["label"]
        assert record["astm_d610_with_distribution"] == f"{row['astm_d610']}-{row['d610_distribution']}"
        for kind in ("mask", "overlay", "json"):
            assert (out / row[f"{kind}_file"]).is_file()
        assert row["pdf_file"] == ""
        assert set(record["review_reasons_by_scale"]) == {"astm_d610", "iso_4628_3"}


def test_no_asset_in_view_leaves_the_measures_empty(tmp_path: Path, tiny_model: SegmentationModel) -> None:
    photo = write_png(tmp_path / "ground.png", _green())
    summary = run_batch(tiny_model, [photo], tmp_path / "out", BatchOptions(mm_per_px=0.5))
    (row,) = _rows(summary.csv_path)
    for name in (*NEW, "corroded_share", "astm_d610", "iso_4628_3", "corrosion_area_mm2"):
        assert row[name] == "", name
    assert (
        row["status"] == "ok" and row["needs_review"] == "yes" and row["review_reasons"] == "no asset in view"
    )
    assert row["mm_per_px"] == "0.5"  # the scale was given; nothing to measure with it
    assert STAMP.match(row["analysed_at"])
    record = json.loads((tmp_path / "out" / "ground.json").read_text(encoding="utf-8"))
    assert record["patches"] is None and record["d610_distribution"] is None
    assert record["corroded_share_low"] is None and record["corrosion_area_mm2"] is None


def test_corrosion_area_in_mm2_is_exact_through_the_cli(tmp_path: Path, tiny_model_path: Path) -> None:
    (tmp_path / "in").mkdir()
    photo = write_png(tmp_path / "in" / "plate.png", _plate((10, 12)))
    out = tmp_path / "out"
    args = ["analyze", str(photo.parent), "--out", str(out), "--model", str(tiny_model_path)]
    assert cli.main([*args, "--device", "cpu", "--mode", "tiles", "--mm-per-px", "0.5"]) == 0
    (row,) = _rows(out / CSV_NAME)
    assert row["mm_per_px"] == "0.5"
    assert float(row["corrosion_area_mm2"]) == 120 * 0.25  # 10 x 12 pixels of 0.5 x 0.5 mm
    record = json.loads((out / "plate.json").read_text(encoding="utf-8"))
    assert record["pixels"]["corrosion"] == 120 and record["corrosion_area_mm2"] == 30.0
    assert record["class_areas_mm2"]["asset"] == (30 * 40 - 120) * 0.25
    assert record["patches"]["largest"] == {"pixels": 120, "share": 10.0, "area_mm2": 30.0}
    assert record["area_note"]
    run = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert run["options"]["mm_per_px"] == 0.5


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "one", "1e-300", "5e-5", "1e200"])
def test_a_scale_that_is_not_a_positive_number_is_refused(
    value: str, tmp_path: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = write_png(tmp_path / "p.png", _plate())
    args = ["analyze", str(photo), "--out", str(tmp_path / "o"), "--model", str(tiny_model_path)]
    with pytest.raises(SystemExit) as info:
        cli.main([*args, f"--mm-per-px={value}"])
    assert info.value.code == 2
    assert "a number of mm per pixel from 0.0001 to 10,000" in capsys.readouterr().err
    with pytest.raises(ValueError, match="mm_per_px"):
        BatchOptions(mm_per_px=float(value) if value != "one" else -1.0)


def test_run_facts_once_in_results_json_and_the_csv_stays_plain(
    tmp_path: Path, tiny_model: SegmentationModel
) -> None:
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    photos = [
        write_png(src / "sub" / f"p{i}.png", synthetic_pipe(seed=i, size=(40, 50))[0]) for i in range(2)
    ]
    (src / "broken.png").write_bytes(b"not a png")
    summary = run_batch(
        tiny_model, [*photos, src / "broken.png"], tmp_path / "out", BatchOptions(input_folders=(src,))
    )
    text = summary.csv_path.read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    assert lines[0] == ",".join(CSV_COLUMNS)  # the header is the first line
    assert not any(line.startswith("#") for line in lines) and len(lines) == 4
    assert tiny_model.sha256 not in text
    assert [r["file"] for r in _rows(summary.csv_path)] == ["sub/p0.png", "sub/p1.png", "broken.png"]
    run = json.loads(companion_path(summary.csv_path).read_text(encoding="utf-8"))
    assert run["model"] == {
        "file": tiny_model.path.name,
        "sha256": tiny_model.sha256,
        "provider": "CPUExecutionProvider",  # the execution provider that ran the network
        "mode": "resize",
        "accuracy": tiny_model.accuracy_line,
        "accuracy_figures": tiny_model.accuracy.to_json(),
        "share_range": {
            "label": "80 % range",
            "confidence": None,  # the fixture's calibration is of the older form
            "held_out": tiny_model.range_calibration.held_out,
        },
        "share_range_note": None,
    }
    assert set(run["versions"]) >= {"corroscope", "onnxruntime", "python"}
    assert run["photos"]["rows"] == 3 and run["photos"]["ok"] == 2 and run["photos"]["failed"] == 1
    assert run["input_folders"] == [str(src.absolute())] and run["columns"] == CSV_COLUMNS
    assert run["options"]["review_margin"] == 0.1 and run["options"]["mode"] == "resize"
    assert STAMP.match(run["written_at"])


def test_reassess_an_edited_map_has_no_range_and_the_models_map_keeps_it(
    tiny_model: SegmentationModel,
) -> None:
    rgb = _plate((10, 12))
    rgb[12:14, 30:40] = (120, 0, 110)  # a doubtful patch: red only just over blue
    result = analyze_rgb(tiny_model, rgb, "plate.png", InferenceOptions(mode="tiles"))
    assert result.measures.share_range is not None
    again = reassess(result, result.labels.copy())
    assert again.measures.share_range == result.measures.share_range and again.labels_source == "model"

    edited = result.labels.copy()
    edited[10:20, 10:16] = ASSET.id  # the inspector paints half the patch back to asset
    reviewed = reassess(result, edited, mm_per_px=0.5)
    assert reviewed.labels_source == EDITED_LABELS  # changed by hand, signed by nobody
    assert reviewed.measures.share_range is None
    assert reviewed.stats.pixels["corrosion"] == result.stats.pixels["corrosion"] - 60
    assert reviewed.measures.patches.corrosion_pixels == reviewed.stats.pixels["corrosion"]
    assert reviewed.measures.corrosion_area_mm2 == reviewed.stats.pixels["corrosion"] * 0.25
    assert reviewed.assessment.reasons[0] == EDITED_REASON and reviewed.assessment.needs_review
    kept = reviewed.assessment.reasons[1:]  # the model's own, named as its: its share is not the edit's
    assert kept == tuple(f"model's mask: {m}" for m in result.assessment.reasons)
    record = result_to_dict(reviewed)
    assert record["labels_source"] == "edited"
    assert record["corroded_share_low"] is None and record["corroded_share_high"] is None
    row = dict(zip(CSV_COLUMNS, csv_row(record), strict=True))
    assert row["corroded_share_low"] == row["corroded_share_high"] == "" and row["patch_count"] != ""
    assert figures.share_range_text(reviewed, "astm").startswith("– (edited mask, not signed")
    assert row["source"] == "edited"
    signed = reassess(result, edited, source=REVIEWED_LABELS)
    assert signed.labels_source == "reviewed" and not signed.assessment.needs_review
    assert reassess(result, result.labels).measures.mm_per_px is None  # the result's scale by default


def _assessment(share: float, share_range: tuple[float, float] | None = None):
    stats = AreaStats({"corrosion": 1, "asset": 1}, {"corrosion": 1.0, "asset": 1.0}, 2, share)
    low, high = share_range or (share, share)
    return assess(stats, 0.9, share_range=None if share is None else ShareRange(share, low, high))


def test_figures_text_names_the_scale_shown() -> None:
    a = _assessment(9.72)  # ISO: nearest reference 8 %; ASTM: within 10 % of its 10 % cut-off
    assert figures.grade_text(a, "iso") == "ISO 4628-3: Ri 4 (reference 8 %)"
    assert figures.grade_value_text(a, "iso") == "Ri 4 (reference 8 %)"
    assert figures.review_text(a, "iso") == "No" and not figures.needs_review(a, "iso")
    astm = figures.review_text(a, "astm")
    assert astm.startswith("Yes: ") and "ASTM D610 cut-off 10 %" in astm and "ISO" not in astm
    spot = Distribution("S", "S: 2 patches, the largest 3 hold 100 % of the corrosion")
    assert figures.grade_text(a, "astm", spot) == "ASTM D610: 4-S"
    spanning = _assessment(2.0, (1.5, 4.0))
    assert any("spans the ISO 4628-3 cut-off 2.8 %" in r for r in figures.review_reasons(spanning, "iso"))
    none = _assessment(None)
    assert figures.grade_text(none, "iso") == "ISO 4628-3: no grade (no asset in view)"


def test_figure_rows_show_range_patches_distribution_and_area_only_with_a_scale(
    tiny_model: SegmentationModel,
) -> None:
    rgb = _plate((10, 12))
    plain = dict(
        figures.figure_rows(analyze_rgb(tiny_model, rgb, "p.png", InferenceOptions(mode="tiles")), "iso")
    )
    assert plain["Share range"].startswith("Ri ") and "range" in plain["Share range"]
    assert plain["Corrosion patches"].startswith("1 (largest 10.00 % of the asset")
    assert plain["D610 distribution"].startswith("S (spot)")
    assert plain["Grade"] == "ISO 4628-3: Ri 4 (reference 8 %)"
    assert "Corrosion area" not in plain and "Scale" not in plain
    result = analyze_rgb(tiny_model, rgb, "p.png", InferenceOptions(mode="tiles"), mm_per_px=0.5)
    scaled = dict(figures.figure_rows(result, "astm"))
    assert scaled["Corrosion area"] == "30 mm²" and scaled["Scale"] == "0.5 mm/px"
    assert scaled["Grade"] == f"ASTM D610: {result.assessment.astm.label}-S"


def test_a_photo_named_results_keeps_its_record(tmp_path: Path, tiny_model: SegmentationModel) -> None:
    photo = write_png(tmp_path / "results.png", _plate())
    summary = run_batch(tiny_model, [photo], tmp_path / "out")
    record = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert record["file"] == str(photo)  # the photo's record, not replaced by the run record
    assert "a photo's own record has that name" in summary.csv_error
    assert len(_rows(summary.csv_path)) == 1


def test_every_record_and_row_states_the_models_typical_error(
    tmp_path: Path, tiny_model: SegmentationModel, uncalibrated_model: SegmentationModel
) -> None:
    photo = write_png(tmp_path / "p.png", synthetic_pipe(seed=3, size=(60, 80))[0])
    for model, name in ((tiny_model, "calibrated"), (uncalibrated_model, "plain")):
        out = tmp_path / name
        summary = run_batch(model, [photo], out, BatchOptions())
        (row,) = _rows(summary.csv_path)
        record = json.loads((out / row["json_file"]).read_text(encoding="utf-8"))
        assert record["model_accuracy"] == row["model_accuracy"] == model.accuracy_line
        run = json.loads(companion_path(summary.csv_path).read_text(encoding="utf-8"))
        assert run["model"]["accuracy"] == model.accuracy_line
    assert tiny_model.accuracy_line.startswith("Model estimate: typically within ±9 points")
    assert "accuracy unknown" in uncalibrated_model.accuracy_line
    # a model without range calibration: no range, the reason said, every photo flagged
    assert row["corroded_share_low"] == "" and row["needs_review"] == "yes"
    assert "no range calibration" in row["review_reasons"] and "no range calibration" in record["range_note"]
    assert run["model"]["share_range"] is None and "no range calibration" in run["model"]["share_range_note"]


def test_the_run_record_names_each_share_columns_unit_and_what_it_is_of(
    tmp_path: Path, tiny_model: SegmentationModel
) -> None:
    """`corroded_share` says no unit in its name (renaming it would break readers of earlier files), so the
    run record says it: a share of the asset, where `corrosion_percent` is of the photo."""
    photo = write_png(tmp_path / "p.png", synthetic_pipe(seed=3, size=(60, 80))[0])
    summary = run_batch(tiny_model, [photo], tmp_path / "out", BatchOptions())
    run = json.loads(companion_path(summary.csv_path).read_text(encoding="utf-8"))
    units = run["column_units"]
    assert "corroded_share" in run["columns"]
    assert (
        units["corroded_share"]
        == units["largest_patch_share"]
        == "% of the asset's pixels (corrosion + asset)"
    )
    assert units["corrosion_percent"] == "% of the photo's pixels"
    assert "low end of the share's calibrated range" in units["corroded_share_low"]  # its 80 % is named
    assert "model.share_range.label" in units["corroded_share_high"]
    assert set(units) <= set(run["columns"]) and "file" not in units
