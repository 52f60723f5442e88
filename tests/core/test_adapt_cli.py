"""`corroscope adapt`: its output checked before the slow work, its refusals naming the option, its
masks named as what they are (signed or not), and the adapted model's accuracy naming its photo count."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from app.cli import EXIT_USAGE, main
from app.core import adapt_checks, contract, files
from app.core.model import SegmentationModel
from app.core.model_accuracy import ModelAccuracy
from app.core.palette import DEFAULT_CLASSES
from app.core.reviewed import read_reviewed_mask, write_reviewed_mask
from tests.core.test_adapt import _site, site_model


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return site_model(tmp_path / "base.onnx")


@pytest.fixture
def no_slow_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails the test if the adaptation itself (reading photos, fitting) starts."""
    from app import adapt_cli

    monkeypatch.setattr(adapt_cli, "adapt_model", lambda *a, **k: pytest.fail("adapt_model ran"))


def _args(photos: list[Path], masks: Path, base: Path, out: Path) -> list[str]:
    folder = str(photos[0].parent)
    return ["adapt", folder, "--reviewed-masks", str(masks), "--model", str(base), "--out", str(out)]


def test_a_missing_out_folder_is_refused_before_any_work(
    tmp_path: Path, base: Path, no_slow_work: None, capsys
) -> None:
    photos, masks = _site(tmp_path, 5)
    out = tmp_path / "adapt" / "site.onnx"
    assert main(_args(photos, masks, base, out)) == EXIT_USAGE
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: --out: Cannot write {out}: the folder {out.parent} does not exist"]


def test_a_model_that_cannot_be_used_is_refused_before_any_mask_is_read(
    tmp_path: Path, no_slow_work: None, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """README: exit 2 for no usable model, before the photos and masks are read (they were read first,
    then the run failed with exit 1)."""
    from app import adapt_cli

    photos, masks = _site(tmp_path, 5)
    fake = tmp_path / "fake.onnx"
    fake.write_bytes(b"not a model at all")
    monkeypatch.setattr(adapt_cli, "reviewed_pairs", lambda *a, **k: pytest.fail("masks were read"))
    assert main(_args(photos, masks, fake, tmp_path / "site.onnx")) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "fake.onnx is not a usable ONNX model" in err and not (tmp_path / "site.onnx").exists()


def test_an_out_folder_that_cannot_be_written_is_refused_before_any_work(
    tmp_path: Path, base: Path, no_slow_work: None, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    photos, masks = _site(tmp_path, 5)

    def read_only(*_args, **_kwargs):  # as a read-only file system answers (root ignores chmod)
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(files.tempfile, "mkstemp", read_only)
    assert main(_args(photos, masks, base, tmp_path / "site.onnx")) == EXIT_USAGE
    assert f"Cannot write {tmp_path / 'site.onnx'}: Read-only file system" in capsys.readouterr().err


def test_an_existing_out_names_the_overwrite_option_before_any_work(
    tmp_path: Path, base: Path, no_slow_work: None, capsys
) -> None:
    photos, masks = _site(tmp_path, 5)
    taken = tmp_path / "site.onnx"
    taken.write_bytes(b"mine")
    assert main(_args(photos, masks, base, taken)) == EXIT_USAGE
    assert "already exists; pass --overwrite to replace it" in capsys.readouterr().err
    assert taken.read_bytes() == b"mine"


def test_the_probe_leaves_nothing_behind(tmp_path: Path, base: Path) -> None:
    adapt_checks.check_output(base, tmp_path / "site.onnx", overwrite=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["base.onnx"]


def test_unsigned_masks_are_used_but_not_called_reviewed(tmp_path: Path, base: Path, capsys) -> None:
    photos, masks = _site(tmp_path, 5)
    for signed in sorted(masks.iterdir())[:4]:  # re-saved as unsigned edits, as the window saves them
        labels = read_reviewed_mask(signed).labels
        signed.unlink()
        write_reviewed_mask(masks / signed.name.replace(".reviewed.", ".edited."), labels, DEFAULT_CLASSES)
    out = tmp_path / "site.onnx"
    args = [*_args(photos, masks, base, out), "--min-photos", "3"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert f"5 of 5 photos have a mask in {masks}: 5 corrected masks, 1 of them signed" in text
    assert "reviewed mask" not in text
    assert "Leave-one-out over 5 photos with corrected masks (1 of them signed);" in text
    model = SegmentationModel.load(out, device="cpu")
    trained_on = model.metadata[contract.KEY_TRAINED_ON]
    assert "adapted to 5 photos with corrected masks (1 of them signed)" in trained_on
    assert model.accuracy is not None and "(1 of them signed)" in model.accuracy.measured_on


def test_signed_masks_are_still_called_reviewed(tmp_path: Path, base: Path, capsys) -> None:
    photos, masks = _site(tmp_path, 5)
    assert main(_args(photos, masks, base, tmp_path / "site.onnx")) == 0
    text = capsys.readouterr().out
    assert f"5 of 5 photos have a reviewed mask in {masks}" in text
    assert "Leave-one-out over 5 reviewed photos;" in text


def test_the_adapted_models_accuracy_line_names_its_photo_count(tmp_path: Path, base: Path, capsys) -> None:
    photos, masks = _site(tmp_path, 5)
    out = tmp_path / "site.onnx"
    assert main(_args(photos, masks, base, out)) == 0
    model = SegmentationModel.load(out, device="cpu")
    assert "of the 5 photos it was adapted on, by leave-one-out" in model.accuracy_line
    stored = json.loads(model.metadata[contract.KEY_ACCURACY])
    assert stored["photos"] == 5
    capsys.readouterr()
    assert main(["analyze", str(photos[0]), "--out", str(tmp_path / "o"), "--model", str(out)]) == 0
    assert "of the 5 photos it was adapted on" in capsys.readouterr().err
    run = json.loads((tmp_path / "o" / "results.json").read_text())
    assert "of the 5 photos it was adapted on" in json.dumps(run)


def test_a_validated_models_line_is_unchanged_and_an_adapted_one_without_grades_names_its_count() -> None:
    figures = ModelAccuracy(9.0, 10.0, 19.0, 0.77, 120, "5-fold cross-validation")
    assert figures.line() == (
        "Model estimate: typically within ±9 points of an inspector's mask (90 % within ±19); D610 grade "
        "equal on 77 % of test photos. Review before signing."
    )
    without_grade = ModelAccuracy(4.0, 4.0, 8.0, None, 9, "leave-one-out over the 9 reviewed photos")
    assert "±8), measured on the 9 photos it was adapted on" in without_grade.line()
    assert figures.how_measured() == "5-fold cross-validation on 120 photos"
    assert without_grade.how_measured() == "leave-one-out over the 9 reviewed photos"  # no second count
