"""Every kind of photo file, good and bad: valid ones analysed, bad ones reported by name with the
reason, bombs refused from the header before any decoding, and no traceback in the CLI or the GUI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.core.errors import ImageReadError
from app.core.export import CSV_NAME, output_stems
from app.core.model import SegmentationModel
from app.core.photos import find_images, read_image
from app.core.pipeline import DONE, FAILED, run_batch
from tests.helpers.outputs import output_paths
from tests.reliability.bad_files import (
    ALL_CASES,
    FOLDER_NAME,
    INVALID_CASES,
    VALID_CASES,
    InputCase,
    make_all,
    png_bomb,
)
from tests.reliability.conftest import cli_env, read_csv, run_cli


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_all(tmp_path_factory.mktemp("inputs") / FOLDER_NAME)


def _explicit(inputs: dict[str, Path]) -> list[Path]:
    """What a user names on the command line besides the folder: a .txt file, and a folder named like
    a photo (named explicitly, a folder is scanned for photos: this one holds none)."""
    return [inputs[c.name] for c in ALL_CASES if c.explicit_only]


# Photos of a batch over the folder and the explicit names (the folder named like a photo is scanned,
# not analysed; `read_image` on it is refused, see above).
BATCH_CASES = tuple(c for c in ALL_CASES if c.name != "folder named.jpg")
BATCH_INVALID = tuple(c for c in BATCH_CASES if not c.valid)


@pytest.mark.parametrize("case", VALID_CASES, ids=lambda c: c.name)
def test_valid_inputs_decode_to_the_right_picture(inputs: dict[str, Path], case: InputCase) -> None:
    rgb = read_image(inputs[case.name])
    assert case.expected is not None
    expected = case.expected()
    assert rgb.dtype == np.uint8 and rgb.shape == expected.shape
    diff = np.abs(rgb.astype(np.int16) - expected.astype(np.int16))
    assert float(diff.mean()) <= case.tolerance, f"mean difference {diff.mean():.3f}"


@pytest.mark.parametrize("case", INVALID_CASES, ids=lambda c: c.name)
def test_invalid_inputs_are_refused_naming_the_file_and_the_reason(
    inputs: dict[str, Path], case: InputCase
) -> None:
    path = inputs[case.name]
    with pytest.raises(ImageReadError) as info:
        read_image(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    assert case.reason in message


def test_a_folder_scan_finds_every_photo_whatever_the_case_of_its_extension(inputs: dict[str, Path]) -> None:
    folder = next(iter(inputs.values())).parent
    found = {p.name for p in find_images([folder])}
    assert found == {c.name for c in ALL_CASES if not c.explicit_only}


def test_a_missing_photo_is_reported_too(tmp_path: Path) -> None:
    with pytest.raises(ImageReadError, match="file not found"):
        read_image(tmp_path / "gone.jpg")


# VmHWM is the peak RSS of this process image only (ru_maxrss would carry the parent's over exec).
_PEAK_RSS = """
import sys
from app.core.errors import ImageReadError
from app.core.photos import read_image
for name in sys.argv[1:]:
    try:
        read_image(name)
    except ImageReadError as exc:
        print("refused", exc)
    else:
        print("decoded", name)
status = open("/proc/self/status").read().split("VmHWM:")[1]
print("peak_mb", int(status.split()[0]) / 1024)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the peak RSS from /proc")
def test_bombs_are_refused_before_any_pixel_is_decoded(tmp_path: Path) -> None:
    """A fresh process reads every bomb: all are refused, and its peak memory stays far below what
    decoding even one of them would take (169 MP grey is 169 MB, as RGB 507 MB)."""
    names = []
    for name, data in (
        ("400 MP.png", png_bomb(20000)),
        ("169 MP.png", png_bomb(13000)),
        ("169 MP bad checksum.png", png_bomb(13000, broken_text_crc=True)),
    ):
        (tmp_path / name).write_bytes(data)
        assert len(data) < 1_000_000
        names.append(str(tmp_path / name))
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_RSS, *names], capture_output=True, text=True, env=cli_env(), timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == ["refused"] * 3, done.stdout
    peak_mb = float(lines[-1].split()[1])
    assert peak_mb < 150, f"peak RSS {peak_mb:.0f} MB: a bomb was decoded"


def test_batch_analyses_the_valid_and_reports_the_invalid(
    inputs: dict[str, Path], model: SegmentationModel, tmp_path: Path
) -> None:
    folder = next(iter(inputs.values())).parent
    paths = find_images([folder, *_explicit(inputs)])
    assert len(paths) == len(BATCH_CASES)
    events = []
    summary = run_batch(model, paths, tmp_path / "out", progress=events.append)
    states = {e.path.name: e.state for e in events}
    assert states == {c.name: DONE if c.valid else FAILED for c in BATCH_CASES}
    reasons = {f.path.name: f.reason for f in summary.failures}
    for case in BATCH_INVALID:
        assert case.reason in reasons[case.name]
    stems = output_stems(paths)
    for path in paths:
        outs = output_paths(tmp_path / "out", stems[path])
        if states[path.name] == DONE:
            record = json.loads(outs.json.read_text(encoding="utf-8"))
            assert record["file"] == str(path)
            assert all(p.is_file() for p in outs.all())
            mask = read_image(outs.mask)
            assert mask.shape[:2] == read_image(path).shape[:2]
        else:
            assert not any(p.exists() for p in outs.all()), "no output for a refused photo"
    rows = {r["file"]: r for r in read_csv(tmp_path / "out" / CSV_NAME)}
    assert set(rows) == {str(p) for p in paths}
    for path in paths:
        assert rows[str(path)]["status"] == ("ok" if states[path.name] == DONE else "failed")


def test_the_cli_reports_every_bad_file_and_never_shows_a_traceback(
    inputs: dict[str, Path], model_path: Path, tmp_path: Path
) -> None:
    folder = next(iter(inputs.values())).parent
    out = tmp_path / "résultats ü"
    done = run_cli(
        "analyze", folder, *_explicit(inputs), "--out", out, "--model", model_path, "--device", "cpu"
    )
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    assert done.returncode == 1, done.stderr  # some photos failed
    assert f"{len(BATCH_INVALID)} photos failed:" in done.stderr
    for case in BATCH_INVALID:
        line = next((x for x in done.stderr.splitlines() if x.strip().startswith(str(inputs[case.name]))), "")
        assert case.reason in line, f"{case.name}: {line!r}"
    for case in VALID_CASES:
        assert (
            f"{inputs[case.name]}: corroded" in done.stdout or f"{inputs[case.name]}: no asset" in done.stdout
        )
    assert f"{len(BATCH_CASES)} photos: {len(VALID_CASES)} analysed" in done.stdout


def test_the_cli_with_only_bad_arguments_fails_plainly(model_path: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty folder"
    empty.mkdir()
    cases = [
        ("analyze", empty, "--out", tmp_path / "o", "--model", model_path),
        ("analyze", tmp_path / "no such photo.jpg", "--out", tmp_path / "o", "--model", model_path),
        ("analyze", empty, "--out", tmp_path / "o", "--model", tmp_path / "no such model.onnx"),
        ("analyze", empty, "--model", model_path),  # no --out
        ("analyze", empty, "--out", tmp_path / "o", "--mode", "sideways"),
    ]
    for args in cases:
        done = run_cli(*args)
        assert done.returncode != 0, args
        assert "Traceback" not in done.stderr, (args, done.stderr)
        assert done.stderr.strip(), args


def test_an_output_folder_that_is_a_file_is_a_plain_error(model_path: Path, tmp_path: Path) -> None:
    photo = tmp_path / "pipe.png"
    VALID_CASES[0].make(photo)
    blocker = tmp_path / "out"
    blocker.write_text("I am a file")
    done = run_cli("analyze", photo, "--out", blocker, "--model", model_path, "--device", "cpu")
    assert done.returncode == 2  # bad usage, said before the model loads
    assert "Traceback" not in done.stderr
    assert f"{blocker} is a file, not a folder" in done.stderr and "File exists" not in done.stderr
