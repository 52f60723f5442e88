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
    assert "a rough figure from 5 photos by leave-one-out: on average" in model.accuracy_line
    stored = json.loads(model.metadata[contract.KEY_ACCURACY])
    assert stored["photos"] == 5
    capsys.readouterr()
    assert main(["analyze", str(photos[0]), "--out", str(tmp_path / "o"), "--model", str(out)]) == 0
    assert "a rough figure from 5 photos" in capsys.readouterr().err
    run = json.loads((tmp_path / "o" / "results.json").read_text())
    assert "a rough figure from 5 photos" in json.dumps(run)


def test_a_validated_models_line_is_unchanged_and_an_adapted_one_without_grades_names_its_count() -> None:
    figures = ModelAccuracy(9.0, 10.0, 19.0, 0.77, 120, "5-fold cross-validation")
    assert figures.line() == (
        "Model estimate: typically within ±9 points of an inspector's mask (90 % within ±19); D610 grade "
        "equal on 77 % of test photos. Review before signing."
    )
    without_grade = ModelAccuracy(4.0, 4.0, 8.0, None, 9, "leave-one-out over the 9 reviewed photos")
    assert without_grade.line() == (
        "Model estimate, a rough figure from 9 photos by leave-one-out: on average 4 points off its "
        "corrected masks. Review before signing."
    )  # measured against the masks it was given, signed or not: not "an inspector's"
    assert figures.how_measured() == "5-fold cross-validation on 120 photos"
    assert without_grade.how_measured() == "leave-one-out over the 9 reviewed photos"  # no second count


def test_progress_lines_escape_photo_names(tmp_path: Path, base: Path, capsys) -> None:
    """A name's ESC sequence coloured the terminal and its newline split the line."""
    photos, masks = _site(tmp_path, 5)
    odd = photos[0].with_name("p0\x1b[31m\nred.png")
    photos[0].rename(odd)
    (masks / "p0_mask.reviewed.png").rename(masks / "p0\x1b[31m\nred_mask.reviewed.png")
    assert main(_args(photos[1:], masks, base, tmp_path / "site.onnx")) == 0
    err = capsys.readouterr().err
    assert "\x1b" not in err and "Reading p0\\x1b[31m\\x0ared.png" in err
    assert all(line.startswith("[") for line in err.splitlines())


def test_a_photo_that_does_not_exist_is_a_usage_error(
    tmp_path: Path, base: Path, no_slow_work: None, capsys
) -> None:
    """It counted as a photo ("5 of 6 photos", then success) or gave "0 reviewed photos"."""
    photos, masks = _site(tmp_path, 5)
    gone = tmp_path / "photos" / "p9.png"
    args = ["adapt", *map(str, photos), str(gone), "--reviewed-masks", str(masks), "--model", str(base)]
    assert main([*args, "--out", str(tmp_path / "site.onnx")]) == EXIT_USAGE
    assert capsys.readouterr().err.strip() == f"error: not found: {gone}"


@pytest.mark.parametrize("option", [["--l2", "nan"], ["--l2", "inf"], ["--l2", "-1"], ["--min-photos", "1"]])
def test_option_values_are_refused_before_the_model_loads(
    tmp_path: Path, base: Path, option: list[str], monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from app.core.model import SegmentationModel

    photos, masks = _site(tmp_path, 5)
    monkeypatch.setattr(SegmentationModel, "load", lambda *a, **k: pytest.fail("the model was loaded"))
    with pytest.raises(SystemExit) as exited:
        main([*_args(photos, masks, base, tmp_path / "site.onnx"), *option])
    assert exited.value.code == EXIT_USAGE
    assert f"argument {option[0]}" in capsys.readouterr().err


def test_masks_beside_the_photos_are_not_counted_as_photos_and_the_unpaired_are_named(
    tmp_path: Path, base: Path, capsys
) -> None:
    """`<stem>_mask.png` masks in the photo folder made "6 of 12 photos"."""
    photos, masks = _site(tmp_path, 6)
    folder = photos[0].parent
    for mask in sorted(masks.iterdir())[:5]:
        mask.rename(folder / mask.name.replace("_mask.reviewed.png", "_mask.png"))
    (masks / "p5_mask.reviewed.png").rename(folder / "gone_mask.png")  # its photo is not there
    assert main(_args(photos, folder, base, tmp_path / "site.onnx")) == 0
    out = capsys.readouterr().out
    assert f"5 of 6 photos have a reviewed mask in {folder}" in out
    assert "Without a mask: p5.png" in out and "Masks of no photo given: gone_mask.png" in out


def test_every_bad_mask_is_named_with_its_own_reason(tmp_path: Path, base: Path, capsys) -> None:
    """Only the first was reported; a wrong size got the colours hint; "instead.. A mask"."""
    import numpy as np
    from PIL import Image

    photos, masks = _site(tmp_path, 5)
    grey = read_reviewed_mask(masks / "p1_mask.reviewed.png").labels  # class ids as grey levels
    Image.fromarray(grey.astype(np.uint8)).save(masks / "p1_mask.reviewed.png")
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(masks / "p3_mask.reviewed.png")  # wrong size
    assert main(_args(photos, masks, base, tmp_path / "site.onnx")) == 1
    err = capsys.readouterr().err
    assert "2 reviewed masks cannot be used:" in err
    assert "save it in the class colours instead\n" in err and ".." not in err
    assert (
        "p3_mask.reviewed.png is 8x8 but its photo is 32x32: a reviewed mask must have its photo's size\n"
        in err
    )
    assert err.count("A mask must be in this model's class colours") == 1


def test_an_out_written_meanwhile_names_the_overwrite_option(
    tmp_path: Path, base: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """Two runs writing the same --out: the loser said "ask to overwrite to replace it"."""
    from app.core import adapt

    out = tmp_path / "site.onnx"
    real = adapt._check_edit
    monkeypatch.setattr(adapt, "_check_edit", lambda *a: real(*a) or out.write_bytes(b"the other run's"))
    photos, masks = _site(tmp_path, 5)
    assert main(_args(photos, masks, base, out)) == 1
    assert f"{out} already exists (pass --overwrite to replace it)" in capsys.readouterr().err
    assert out.read_bytes() == b"the other run's"


_SLOW_WRITE = """
import sys, time
from app.core import adapt, files

def slow(path, data, overwrite=False):
    with files.atomic_write(path, overwrite=overwrite) as fh:
        fh.write(data[:100])
        print("writing", flush=True)
        time.sleep(60)

adapt.atomic_write_bytes = slow
from app.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGHUP"])
def test_sigterm_or_sighup_stop_like_ctrl_c_and_leave_nothing(tmp_path: Path, base: Path, sig: str) -> None:
    """They left a hidden `.site.onnx.*.part` and exit 143 without a word."""
    import signal
    import subprocess
    import sys

    photos, masks = _site(tmp_path, 5)
    out = tmp_path / "out"
    out.mkdir()
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    cmd = [sys.executable, "-c", _SLOW_WRITE, *_args(photos, masks, base, out / "site.onnx")]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as proc:
        for line in proc.stdout:
            if line.startswith("writing"):
                break
        proc.send_signal(getattr(signal, sig))
        _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "Interrupted; nothing was written."
    assert list(out.iterdir()) == []


def test_no_model_bundled_or_passed_is_bad_usage_as_for_analyze(
    tmp_path: Path, no_slow_work: None, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """README: exit 2 for no usable model; adapt said 1 (photos failed) when none was bundled."""
    from app import adapt_cli

    photos, masks = _site(tmp_path, 2)
    monkeypatch.setattr(adapt_cli, "default_model_path", lambda *_a, **_k: None)
    args = ["adapt", str(photos[0].parent), "--reviewed-masks", str(masks), "--out", str(tmp_path / "s.onnx")]
    assert main(args) == EXIT_USAGE
    assert "No model to load" in capsys.readouterr().err and not (tmp_path / "s.onnx").exists()


def test_the_models_own_masks_of_a_batch_are_named_and_never_learnt_from(
    tmp_path: Path, base: Path, capsys
) -> None:
    """A batch's output folder given as the masks: its `<stem>_mask.png` are the model's own masks,
    which counted as corrections ("6 corrected masks") and were learnt from."""
    photos, _ = _site(tmp_path, 6)
    batch = tmp_path / "batch"
    args = ["analyze", str(photos[0].parent), "--out", str(batch), "--model", str(base), "--device", "cpu"]
    assert main(args) == 0
    capsys.readouterr()
    assert main(_args(photos, batch, base, tmp_path / "site.onnx")) != 0
    out = capsys.readouterr()
    text = out.out + out.err
    assert f"0 of 6 photos have a reviewed mask in {batch}" in text
    assert "The model's own masks, exported unchanged (not corrections): p0_mask.png" in text
    assert "Masks of no photo given" not in text and not (tmp_path / "site.onnx").exists()
