"""Bad usage and the tool's own words (the second hostile pass): review rules and scales that would switch
a rule off or overflow are refused as bad usage (exit 2) before any photo is read."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.reliability.conftest import cli_command, cli_env, read_csv, run_cli, small_photos

BAD_VALUES = [
    ("--review-margin", "nan"),
    ("--review-margin", "-0.1"),
    ("--review-margin", "inf"),
    ("--min-confidence", "nan"),
    ("--min-confidence", "-1"),
    ("--min-confidence", "1.5"),
    ("--mm-per-px", "inf"),
    ("--mm-per-px", "1e200"),
    ("--mm-per-px", "nan"),
    ("--mm-per-px", "0"),
    ("--mm-per-px", "1e-300"),  # squared to 0: "Corrosion area 0 mm²" for a corroded photo
]


@pytest.mark.parametrize("option, value", BAD_VALUES, ids=[f"{o}={v}" for o, v in BAD_VALUES])
def test_values_that_would_switch_a_rule_off_or_overflow_are_bad_usage(
    tmp_path: Path, model_path: Path, option: str, value: str
) -> None:
    photo = small_photos(tmp_path / "in", 1)[0]
    out = tmp_path / "out"
    done = run_cli("analyze", photo, "--out", out, "--model", model_path, f"{option}={value}")
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert f"argument {option}: must be" in done.stderr and value in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and not out.exists()


def test_the_largest_scale_taken_gives_finite_areas(tmp_path: Path, model_path: Path) -> None:
    photo = small_photos(tmp_path / "in", 1)[0]
    done = run_cli("analyze", photo, "--out", tmp_path / "out", "--model", model_path, "--mm-per-px", "10000")
    assert done.returncode == 0 and " m²" in done.stdout, (done.stdout, done.stderr)


def test_an_overlay_too_wide_for_jpeg_names_the_limit_and_the_png_option(
    tmp_path: Path, model_path: Path
) -> None:
    from app.core.files import write_png

    folder = tmp_path / "in"
    folder.mkdir()
    strip = np.zeros((2, 65_535, 3), np.uint8)
    strip[..., 0] = 200  # all corrosion
    write_png(folder / "strip.png", strip)
    done = run_cli("analyze", folder, "--out", tmp_path / "jpeg", "--model", model_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "at most 65,500 pixels a side" in done.stderr and "--overlay-png" in done.stderr, done.stderr
    done = run_cli("analyze", folder, "--out", tmp_path / "png", "--model", model_path, "--overlay-png")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "png" / "strip_overlay.png").stat().st_size > 0


def _damaged_exif_jpeg(path: Path) -> Path:
    """A JPEG whose EXIF block has a tag pointing past its end (Pillow warns when it opens it)."""
    import struct

    from PIL import Image

    entries = struct.pack("<HHII", 0x0112, 3, 1, 6) + struct.pack("<HHII", 0x010F, 2, 5000, 200)
    tiff = b"II*\x00" + struct.pack("<IH", 8, 2) + entries + b"\0\0\0\0"
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((32, 32, 3), (200, 30, 30), np.uint8)).save(path, exif=b"Exif\x00\x00" + tiff)
    return path


def test_damaged_exif_data_is_one_line_in_the_tools_words(tmp_path: Path, model_path: Path) -> None:
    photo = _damaged_exif_jpeg(tmp_path / "in" / "camera.jpg")
    done = run_cli("analyze", photo, "--out", tmp_path / "out", "--model", model_path)
    assert done.returncode == 0, done.stderr
    assert "Warning:" not in done.stderr and "warnings.warn" not in done.stderr, done.stderr
    notes = [line for line in done.stderr.splitlines() if "EXIF" in line]
    assert len(notes) == 1 and f"{photo}: its EXIF data (camera metadata) is damaged" in notes[0], notes


def test_files_named_like_photos_that_are_left_out_are_counted_and_named(
    tmp_path: Path, model_path: Path
) -> None:
    folder = tmp_path / "in"
    small_photos(folder, 1)
    (folder / "phone.jfif").write_bytes(_damaged_exif_jpeg(tmp_path / "x.jpg").read_bytes())  # a JPEG
    for name in ("IMG_1.heic", "anim.gif", "raw.DNG", "IMG_2.HEIC", ".IMG_3.jpg", "._pipe_0000.png"):
        (folder / name).write_bytes(b"not read")
    done = run_cli("analyze", folder, "--out", tmp_path / "out", "--model", model_path)
    assert done.returncode == 0 and "2 analysed" in done.stdout, (done.stdout, done.stderr)  # .jfif is read
    line = "Left out 6 files named like photos: 1 .dng, 1 .gif, 2 .heic (formats Corroscope does not read"
    assert line in done.stderr and "2 hidden (names starting with a dot)" in done.stderr, done.stderr


@pytest.mark.skipif(sys.platform != "linux", reason="FIFOs and symbolic links")
@pytest.mark.parametrize("kind", ["dangling link", "fifo"])
def test_a_reviewed_mask_that_is_a_dangling_link_or_a_fifo_fails_its_photo(
    tmp_path: Path, model_path: Path, kind: str
) -> None:
    (photo,) = small_photos(tmp_path / "in", 1)
    masks = tmp_path / "masks"
    masks.mkdir()
    mask = masks / f"{photo.stem}_mask.reviewed.png"
    if kind == "fifo":
        os.mkfifo(mask)
    else:
        mask.symlink_to(tmp_path / "gone.png")
    out = tmp_path / "out"
    done = run_cli(
        "analyze", photo, "--out", out, "--model", model_path, "--reviewed-masks", masks, timeout=60
    )
    assert done.returncode == 1, (done.stdout, done.stderr)
    why = "named pipe (FIFO)" if kind == "fifo" else "dangling symbolic link"
    assert mask.name in done.stderr and why in done.stderr, done.stderr
    (row,) = read_csv(out / "results.csv")
    assert row["status"] == "failed" and row["source"] == "", row


def test_a_multi_page_tiff_says_only_its_first_page_is_analysed(tmp_path: Path, model_path: Path) -> None:
    from PIL import Image

    pages = [Image.fromarray(np.full((40, 40, 3), c, np.uint8)) for c in ((200, 30, 30), (30, 30, 200))]
    photo = tmp_path / "in" / "scan.tif"
    photo.parent.mkdir(parents=True)
    pages[0].save(photo, save_all=True, append_images=pages[1:])
    single = tmp_path / "in" / "one.tif"
    pages[0].save(single)
    done = run_cli("analyze", photo.parent, "--out", tmp_path / "out", "--model", model_path)
    assert done.returncode == 0 and "2 analysed" in done.stdout, (done.stdout, done.stderr)
    notes = [line for line in done.stderr.splitlines() if "more than one page" in line]
    assert len(notes) == 1 and f"{photo} holds more than one page" in notes[0], done.stderr


def test_output_piped_into_a_reader_that_stops_ends_quietly(tmp_path: Path) -> None:
    """`corroscope project list P | head -1`: the reader goes away; no traceback, SIGPIPE's exit status."""
    import subprocess

    from app.cli_common import EXIT_BROKEN_PIPE
    from app.core.project import Project

    target = tmp_path / "p.corroscope"
    with Project.create(target) as project:
        for n in range(400):  # more than a pipe's buffer holds once the reader has gone
            project.ensure_asset(f"P-{n:03d}", location="rack " + "x" * 200)
    child = subprocess.Popen(
        cli_command("project", "list", target),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(),
    )
    assert child.stdout is not None and child.stderr is not None
    assert child.stdout.readline().startswith(b"Project ")
    child.stdout.close()  # `head -1` has what it wanted
    err = child.stderr.read().decode()
    assert child.wait(timeout=120) == EXIT_BROKEN_PIPE
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err
