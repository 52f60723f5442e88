"""Exports are safe to open: file names that look like spreadsheet formulas stay text in the CSV, and
output names made from hostile input names stay in the output folder without overwriting each other."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import unicodedata
from pathlib import Path

import pytest

from app.core.export import CSV_NAME
from app.core.files import encode_png, write_png
from app.core.model import SegmentationModel
from app.core.pipeline import BatchOptions, run_batch
from app.core.synthetic import synthetic_pipe
from tests.reliability.conftest import cli_command, cli_env

FORMULA_NAMES = (
    '=HYPERLINK("https:evil.example","click").png',
    "+cmd@SUM(1+1).png",
    "-2+3.png",
    "@SUM(A1).png",
    "=1+1 photo.jpg",
)

# Names a camera, a phone, a colleague or an attacker could give a photo (POSIX allows all of these).
HOSTILE_NAMES = (
    "..\\..\\..\\escape.png",
    "..png",
    "...png",
    " .png",
    "CON.png",
    "nul.jpg",
    "LPT1.tif",
    'a:b*c?d|e<f>g"h.png',
    "tab\there.png",
    "newline\nhere.png",
    "x" * 240 + ".png",  # 244 bytes: near the 255-byte limit of most file systems
    "写真" * 40 + ".jpg",  # 80 characters, 244 bytes in UTF-8
    "café.png",  # NFC
    unicodedata.normalize("NFD", "café.png"),  # the same name in NFD: another file on Linux
    "Pipe.png",
    "pipe.png",  # equal to the one before on Windows and macOS
    "pipe.PNG",
)


def _csv_cells(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def test_formula_file_names_stay_text_in_the_csv_of_the_real_cli(model_path: Path, tmp_path: Path) -> None:
    """Run from the photos' folder with relative names, so the file column starts with the name."""
    rgb = synthetic_pipe(seed=2, size=(24, 32))[0]
    for name in FORMULA_NAMES:
        write_png(tmp_path / name, rgb)
    (tmp_path / "=BROKEN()+1.png").write_bytes(b"not a photo")  # its row is a failure row
    names = [*FORMULA_NAMES, "=BROKEN()+1.png"]
    out = tmp_path / "out"
    done = subprocess.run(
        cli_command("analyze", "--out", out, "--model", model_path, "--device", "cpu", "--", *names),
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=cli_env(),
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    rows = _csv_cells(out / CSV_NAME)
    files = [r[0] for r in rows[1:]]
    assert files == ["'" + n for n in names]
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_hostile_names_stay_in_the_output_folder_and_never_collide(
    model: SegmentationModel, tmp_path: Path
) -> None:
    photos_dir = tmp_path / "photos"
    photos_dir.mkdir()
    rgb = synthetic_pipe(seed=5, size=(24, 32))[0]
    photos = []
    for name in HOSTILE_NAMES:
        path = photos_dir / name
        try:
            path.write_bytes(encode_png(rgb))  # not write_png: its temp name would be too long
        except OSError:  # a file system that refuses the name (not on Linux ext4/tmpfs)
            continue
        photos.append(path)
    assert len(photos) >= len(HOSTILE_NAMES) - 2
    out = tmp_path / "deep" / "out"
    out.parent.mkdir()

    def outside() -> list[Path]:
        return sorted(p for p in tmp_path.rglob("*") if out not in p.parents and p != out)

    outside_before = outside()
    summary = run_batch(model, photos, out)
    assert summary.ok, summary.failures
    assert outside() == outside_before, "something was written outside the output folder"
    written = [p for p in out.rglob("*")]
    assert all(p.parent == out and p.is_file() for p in written)
    assert len(written) == 3 * len(photos) + 2, "each photo has its own three outputs (+ results.csv/.json)"
    folded = {p.name.casefold() for p in written}
    assert len(folded) == len(written), "two outputs differ only by case (one file on Windows/macOS)"
    for p in written:
        assert p.name.isprintable() and not p.name.startswith((" ", "."))
        assert p.name.split(".")[0].split("_")[0].upper() not in {"CON", "NUL", "LPT1", "PRN", "AUX"}
        assert len(p.name.encode("utf-8")) <= 255


@pytest.mark.skipif(os.name != "posix", reason="a symlink to a folder elsewhere")
def test_a_symlink_in_the_output_folder_is_not_followed_to_overwrite(
    model: SegmentationModel, tmp_path: Path
) -> None:
    """An output name that already exists as a link pointing elsewhere is 'in the way': the target
    outside the output folder is never written through the link."""
    photo = write_png(tmp_path / "pipe.png", synthetic_pipe(seed=1, size=(24, 32))[0])
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "important.txt"
    victim.write_text("keep me")
    (out / "pipe_mask.png").symlink_to(victim)
    summary = run_batch(model, [photo], out, BatchOptions(resume=False))
    assert victim.read_text() == "keep me"
    assert len(summary.failures) == 1 and "already exists" in summary.failures[0].reason
    # with resume too: a link no record of ours proves ours is not ours to replace
    summary = run_batch(model, [photo], out)
    assert len(summary.failures) == 1 and "pipe_mask.png is in the way" in summary.failures[0].reason
    assert (out / "pipe_mask.png").is_symlink()
    # asked to overwrite: the link is replaced, not followed
    summary = run_batch(model, [photo], out, BatchOptions(overwrite=True))
    assert summary.ok
    assert victim.read_text() == "keep me"
    assert not (out / "pipe_mask.png").is_symlink()


def test_a_line_break_in_a_file_name_cannot_split_a_csv_row(model: SegmentationModel, tmp_path: Path) -> None:
    """Linux allows CR and LF in file names; each such photo must stay one row of the CSV."""
    rgb = synthetic_pipe(seed=3, size=(24, 32))[0]
    photos = []
    for name in ("carriage\rreturn.png", "line\nfeed.png", "both\r\n.png", "plain.png"):
        (tmp_path / name).write_bytes(encode_png(rgb))
        photos.append(tmp_path / name)
    summary = run_batch(model, photos, tmp_path / "out")
    assert summary.ok
    with open(summary.csv_path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["file"] for r in rows] == [str(p).replace("\r", "\\x0d").replace("\n", "\\x0a") for p in photos]
    assert {r["status"] for r in rows} == {"ok"}
    raw = summary.csv_path.read_bytes()
    assert raw.count(b"\r\n") == len(photos) + 1 and raw.count(b"\n") == len(photos) + 1  # RFC 4180 rows


def test_terminal_escapes_in_a_file_name_are_shown_in_the_csv_never_run(
    model: SegmentationModel, tmp_path: Path
) -> None:
    """`cat results.csv` must not turn a terminal red or retitle it: ESC, BEL and bidi overrides of a name
    are written as `\\x1b`, `\\x07`, `\\u202e` in every cell, and a rerun still finds each photo's row."""
    hostile = "esc\x1b[31mRED\x1b[0m\x1b]0;PWNED\x07"
    good = tmp_path / f"{hostile}.png"
    good.write_bytes(encode_png(synthetic_pipe(seed=3, size=(24, 32))[0]))
    bad = tmp_path / "gnp.\u202ebad\x9b.png"
    bad.write_bytes(b"not a photo")
    out = tmp_path / "out"
    for _run in range(2):
        run_batch(model, [good, bad], out, BatchOptions(input_folders=(tmp_path,)))
        text = (out / CSV_NAME).read_text(encoding="utf-8-sig")
        assert not any(c in text for c in "\x1b\x07\x9b\u202e"), "raw controls in the CSV"
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        assert [r["file"] for r in rows] == [
            "esc\\x1b[31mRED\\x1b[0m\\x1b]0;PWNED\\x07.png",
            "gnp.\\u202ebad\\x9b.png",
        ]
        assert [r["status"] for r in rows] == ["ok", "failed"], "one row each, found again on the rerun"
