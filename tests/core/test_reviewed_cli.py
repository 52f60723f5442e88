"""`corroscope analyze --reviewed-masks DIR`: figures from the reviewed masks, refusals per photo."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from app import cli
from app.core.files import write_png
from app.core.grading import ReviewPolicy, assess
from app.core.palette import DEFAULT_CLASSES, decode_mask, encode_mask
from app.core.patches import patch_stats
from app.core.reviewed import ReviewState, write_reviewed_mask
from app.core.stats import area_stats
from app.core.synthetic import synthetic_pipe
from tests.helpers.outputs import output_paths

REAL_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "pipe-corrosion"


def _analyze(paths: list[Path], out: Path, masks: Path, model: Path, *extra: str) -> int:
    args = ["analyze", *map(str, paths), "--out", str(out), "--model", str(model), "--device", "cpu"]
    return cli.main([*args, "--reviewed-masks", str(masks), *extra])


def _rows(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "results.csv", encoding="utf-8-sig", newline="") as fh:
        return {r["file"]: r for r in csv.DictReader(fh)}


def _record(out: Path, stem: str) -> dict:
    return json.loads(output_paths(out, stem).json.read_text(encoding="utf-8"))


def _check_figures_equal_the_mask(
    record: dict, row: dict[str, str], labels: np.ndarray, source: str = "reviewed"
) -> None:
    stats = area_stats(labels, DEFAULT_CLASSES)
    expected = assess(stats, record["mean_confidence"], ReviewPolicy(), source=source)
    assert record["pixels"] == dict(stats.pixels)
    assert record["percent"] == {k: round(v, 6) for k, v in stats.percent.items()}
    want_share = None if stats.corroded_share is None else round(stats.corroded_share, 6)
    assert record["corroded_share"] == want_share
    for key, grade in (("astm_d610", expected.astm), ("iso_4628_3", expected.iso)):
        got = record[key]
        assert (None if got is None else (got["value"], got["label"])) == (
            None if grade is None else (grade.value, grade.label)
        )
    assert record["needs_review"] == expected.needs_review
    patches = patch_stats(labels, DEFAULT_CLASSES)
    assert record["patch_count"] == (None if patches is None else patches.count)
    assert record["labels_source"] == row["source"] == source
    assert row["reviewed_mask_file"] == record["reviewed_mask"] and row["reviewed_mask_file"].endswith(".png")
    # a reviewed map has no range: the range comes from the model's probabilities
    assert record["corroded_share_low"] is None and row["corroded_share_low"] == ""
    assert row["corroded_share"] == ("" if want_share is None else f"{want_share:.4f}")
    assert row["astm_d610"] == ("" if expected.astm is None else str(expected.astm.value))
    assert row["iso_4628_3"] == ("" if expected.iso is None else expected.iso.label)
    for name, pct in stats.percent.items():
        assert row[f"{name}_percent"] == f"{round(pct, 6):.4f}"  # the CSV is written from the record


@pytest.mark.real_data
def test_real_photos_with_their_ground_truth_as_reviewed_masks(tmp_path: Path, tiny_model_path: Path):
    if not (REAL_DATA / "DATASET").is_dir():
        pytest.skip(f"real data not found at {REAL_DATA}")
    ids = (REAL_DATA / "val.txt").read_text().split()[:4]
    photos = [REAL_DATA / "DATASET" / "original" / f"ORI_{i}.png" for i in ids]
    masks = REAL_DATA / "DATASET" / "ground_truth"
    out = tmp_path / "out"
    assert _analyze(photos, out, masks, tiny_model_path, "--mm-per-px", "0.5") == 0
    rows = _rows(out)
    for pair_id, photo in zip(ids, photos, strict=True):
        labels, _ = decode_mask(np.asarray(Image.open(masks / f"GT_{pair_id}.png").convert("RGB")))
        record, row = _record(out, photo.stem), rows[str(photo)]
        _check_figures_equal_the_mask(record, row, labels, "edited")
        # a mask from another tool, signed by nobody: edited figures, still to review
        assert record["figures_source"] == row["source"] == "edited" and record["needs_review"]
        corrosion_px = np.count_nonzero(labels == 0)  # class 0 is corrosion
        assert record["corrosion_area_mm2"] == pytest.approx(corrosion_px * 0.25, abs=1e-3)
        assert record["reviewed_mask"] == str(masks / f"GT_{pair_id}.png")
        assert record["reviewed_by"] == row["reviewed_by"] == "" and row["reviewed_at"] == ""
        written = np.asarray(Image.open(output_paths(out, photo.stem).mask).convert("RGB"))
        assert np.array_equal(decode_mask(written)[0], labels), "the mask written is the reviewed one"


def _photos(root: Path, n: int, size=(40, 56)) -> tuple[list[Path], list[np.ndarray]]:
    root.mkdir(parents=True, exist_ok=True)
    photos, labels = [], []
    for i in range(n):
        rgb, lab = synthetic_pipe(seed=20 + i, size=size)
        photos.append(write_png(root / f"pipe{i}.png", rgb))
        labels.append(lab)
    return photos, labels


def test_each_mask_name_is_found_and_its_review_record_reaches_json_and_csv(
    tmp_path: Path, tiny_model_path: Path
):
    photos, labels = _photos(tmp_path / "photos", 4)
    masks = tmp_path / "masks"
    masks.mkdir()
    state = ReviewState.reviewed_now("=A. Inspector", note="weld seam")
    write_reviewed_mask(masks / "pipe0_mask.reviewed.png", labels[0], review=state)
    Image.fromarray(encode_mask(labels[1])).save(masks / "pipe1_mask.png")  # RGB in the class colours
    Image.fromarray(encode_mask(labels[2])).save(masks / "pipe2.png")
    out = tmp_path / "out"
    assert _analyze(photos, out, masks, tiny_model_path) == 0
    rows = _rows(out)
    sources = ("reviewed", "edited", "edited")  # only pipe0's mask is signed
    for photo, lab, source in zip(photos[:3], labels[:3], sources, strict=True):
        record, row = _record(out, photo.stem), rows[str(photo)]
        _check_figures_equal_the_mask(record, row, lab, source)
        assert record["figures_source"] == row["source"] == source
    assert not _record(out, "pipe0")["needs_review"] and _record(out, "pipe1")["needs_review"]
    first = _record(out, "pipe0")
    assert (first["reviewed_by"], first["reviewed_at"], first["review_note"]) == (
        "=A. Inspector",
        state.reviewed_at,
        "weld seam",
    )
    assert rows[str(photos[0])]["reviewed_by"] == "'=A. Inspector"  # never a spreadsheet formula
    model_only = _record(out, "pipe3")
    assert model_only["figures_source"] == rows[str(photos[3])]["source"] == "model"
    assert model_only["reviewed_mask"] is None and rows[str(photos[3])]["reviewed_by"] == ""


def test_a_wrong_size_or_off_palette_mask_fails_that_photo_and_the_run_goes_on(
    tmp_path: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture[str]
):
    photos, labels = _photos(tmp_path / "photos", 3)
    masks = tmp_path / "masks"
    masks.mkdir()
    Image.fromarray(encode_mask(labels[0][:-4])).save(masks / "pipe0_mask.png")  # 4 rows short
    off = encode_mask(labels[1]).copy()
    off[:10] = (40, 200, 90)  # far from every class colour
    Image.fromarray(off).save(masks / "pipe1_mask.png")
    write_reviewed_mask(masks / "pipe2_mask.reviewed.png", labels[2])
    out = tmp_path / "out"
    assert _analyze(photos, out, masks, tiny_model_path) == cli.EXIT_FAILED
    err = capsys.readouterr().err
    rows = _rows(out)
    h, w = labels[0].shape
    assert rows[str(photos[0])]["status"] == "failed"
    assert f"is {w}x{h - 4} but its photo is {w}x{h}" in rows[str(photos[0])]["error"]
    assert rows[str(photos[1])]["status"] == "failed"
    assert "far from every class colour" in rows[str(photos[1])]["error"]
    assert "RGB (40, 200, 90)" in err
    assert not output_paths(out, "pipe0").json.exists(), "a refused photo writes nothing"
    assert rows[str(photos[2])]["status"] == "ok" and rows[str(photos[2])]["source"] == "edited"  # unsigned
    _check_figures_equal_the_mask(_record(out, "pipe2"), rows[str(photos[2])], labels[2], "edited")


def test_a_resumed_run_redoes_a_photo_whose_mask_appeared(tmp_path: Path, tiny_model_path: Path):
    photos, labels = _photos(tmp_path / "photos", 2)
    masks = tmp_path / "masks"
    masks.mkdir()
    out = tmp_path / "out"
    assert _analyze(photos, out, masks, tiny_model_path) == 0
    assert {r["source"] for r in _rows(out).values()} == {"model"}
    write_reviewed_mask(masks / "pipe1_mask.reviewed.png", labels[1], review=ReviewState.reviewed_now("B"))
    assert _analyze(photos, out, masks, tiny_model_path) == 0
    rows = _rows(out)
    assert rows[str(photos[0])]["source"] == "model" and rows[str(photos[1])]["source"] == "reviewed"
    _check_figures_equal_the_mask(_record(out, "pipe1"), rows[str(photos[1])], labels[1])


def test_reviewed_masks_must_be_a_folder(tmp_path: Path, tiny_model_path: Path, capsys) -> None:
    photos, _ = _photos(tmp_path / "photos", 1)
    rc = _analyze(photos, tmp_path / "out", tmp_path / "nope", tiny_model_path)
    assert rc == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "--reviewed-masks" in err and "is not a folder" in err


def test_masks_in_the_output_folder_never_take_our_own_mask_as_reviewed(
    tmp_path: Path, tiny_model_path: Path
):
    photos, labels = _photos(tmp_path / "photos", 2)
    out = tmp_path / "out"
    out.mkdir()
    signed = ReviewState.reviewed_now("C")
    write_reviewed_mask(out / "pipe1_mask.reviewed.png", labels[1], review=signed)  # beside our outputs
    for _ in range(2):  # the second run finds our pipe0_mask.png there: still the model's figures
        assert _analyze(photos, out, out, tiny_model_path) == 0
        rows = _rows(out)
        assert rows[str(photos[0])]["source"] == "model" and rows[str(photos[1])]["source"] == "reviewed"
    assert _record(out, "pipe0")["reviewed_mask"] is None


def test_a_reviewed_file_name_without_a_signature_is_an_edit_and_still_needs_review(
    tmp_path: Path, tiny_model_path: Path
) -> None:
    photos, labels = _photos(tmp_path / "photos", 3)
    masks = tmp_path / "masks"
    masks.mkdir()
    write_reviewed_mask(masks / "pipe0_mask.reviewed.png", labels[0])  # no record: nobody signed it
    write_reviewed_mask(masks / "pipe1_mask.edited.png", labels[1], review=ReviewState("edited"))
    write_reviewed_mask(masks / "pipe2_mask.reviewed.png", labels[2], review=ReviewState.reviewed_now("D"))
    out = tmp_path / "out"
    assert _analyze(photos, out, masks, tiny_model_path) == 0
    rows = _rows(out)
    for photo, source in zip(photos, ("edited", "edited", "reviewed"), strict=True):
        record, row = _record(out, photo.stem), rows[str(photo)]
        assert record["figures_source"] == record["labels_source"] == row["source"] == source
        assert record["needs_review"] == (source == "edited")
        if source == "edited":
            assert record["review_reasons"][0] == "edited, not marked reviewed yet"
            assert record["reviewed_by"] == row["reviewed_by"] == ""
    assert rows[str(photos[2])]["reviewed_by"] == "D"


def test_figures_from_a_mask_keep_the_models_own_beside_them(tmp_path: Path, tiny_model_path: Path):
    """The window's export of an edit kept the model's share beside the mask's; `analyze --reviewed-masks`
    wrote `model_figures` for neither an edited nor a signed mask."""
    photos, labels = _photos(tmp_path / "photos", 2)
    masks, out, plain = tmp_path / "masks", tmp_path / "out", tmp_path / "plain"
    masks.mkdir()
    all_asset = np.ones_like(labels[0])  # class 1: no corrosion, whatever the model sees
    write_reviewed_mask(masks / "pipe0_mask.png", all_asset)  # another tool's mask: edited
    write_reviewed_mask(masks / "pipe1_mask.reviewed.png", all_asset, review=ReviewState.reviewed_now("E"))
    assert _analyze(photos, out, masks, tiny_model_path) == 0
    args = ["analyze", *map(str, photos), "--out", str(plain), "--model", str(tiny_model_path)]
    assert cli.main([*args, "--device", "cpu"]) == 0
    for photo in photos:
        record, model = _record(out, photo.stem), _record(plain, photo.stem)
        assert record["corroded_share"] == 0.0 and model["corroded_share"] > 0
        own = record["model_figures"]
        assert own["corroded_share"] == pytest.approx(model["corroded_share"], abs=1e-6)
        assert (own["astm_d610"], own["iso_4628_3"]) == (
            model["astm_d610"]["label"],
            model["iso_4628_3"]["label"],
        )
    assert _record(plain, photos[0].stem).get("model_figures") is None  # the model's figures: none beside


def test_a_resumed_run_redoes_a_mask_record_made_without_the_models_figures(
    tmp_path: Path, tiny_model_path: Path, capsys
):
    """Results from masks written by an earlier version lack the model's own figures: redone, not kept."""
    from app.core.record import PhotoRecord

    photos, labels = _photos(tmp_path / "photos", 1)
    masks, out = tmp_path / "masks", tmp_path / "out"
    masks.mkdir()
    write_reviewed_mask(masks / "pipe0_mask.png", labels[0])
    assert _analyze(photos, out, masks, tiny_model_path) == 0
    json_path = output_paths(out, "pipe0").json
    data = json.loads(json_path.read_text(encoding="utf-8"))
    del data["model_figures"]
    json_path.write_bytes(PhotoRecord(data).seal().to_bytes())  # as an earlier version sealed it
    capsys.readouterr()
    assert _analyze(photos, out, masks, tiny_model_path) == 0
    assert "1 photo: 1 analysed" in capsys.readouterr().out
    assert _record(out, "pipe0")["model_figures"]["corroded_share"] is not None


def test_the_models_own_mask_of_an_earlier_run_is_no_correction(tmp_path: Path, tiny_model_path: Path):
    """`<stem>_mask.png` from an earlier run holds the model's mask: given back as a mask folder it is not
    taken as an edit (its figures stay the model's, `source=model`), unless its pixels were changed."""
    photos, _ = _photos(tmp_path / "photos", 2)
    first = tmp_path / "first"
    assert cli.main(["analyze", *map(str, photos), "--out", str(first), "--model", str(tiny_model_path)]) == 0
    changed = first / "pipe1_mask.png"
    with Image.open(changed) as im:
        repainted, record = im.copy(), im.info.get("corroscope.review")
    assert record and json.loads(record)["source"] == "model", "the model's mask carries its record"
    repainted.paste(0, (0, 0, 8, 8))  # another tool that keeps the record while it paints corrosion
    kept = PngInfo()
    kept.add_itxt("corroscope.review", record)
    repainted.save(changed, pnginfo=kept)
    out = tmp_path / "again"
    assert _analyze(photos, out, first, tiny_model_path) == 0
    rows = _rows(out)
    same = _record(out, "pipe0")
    assert same["figures_source"] == rows[str(photos[0])]["source"] == "model"
    assert same["reviewed_mask"] is None and same["labels_source"] == "model"
    edited = _record(out, "pipe1")
    assert edited["figures_source"] == rows[str(photos[1])]["source"] == "edited"
    assert edited["reviewed_mask"].endswith("pipe1_mask.png")
