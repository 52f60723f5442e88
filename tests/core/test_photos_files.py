"""Reading photos of every common kind, refusing bad files by name, and atomic writes."""

from __future__ import annotations

import errno
import os
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from app.core import files
from app.core.errors import ExportError, ImageReadError, OutputExistsError
from app.core.files import atomic_write_bytes, write_png
from app.core.photos import find_images, probe_image, read_image


def _pattern(h: int = 24, w: int = 40) -> np.ndarray:
    """An asymmetric colour picture, so every flip or rotation shows."""
    yy, xx = np.mgrid[0:h, 0:w]
    return np.stack([xx * 255 // w, yy * 255 // h, (xx + yy) % 7 * 30], axis=2).astype(np.uint8)


def _save_cv(path: Path, img: np.ndarray) -> Path:
    ok, buf = cv2.imencode(path.suffix, img)
    assert ok
    buf.tofile(str(path))
    return path


@pytest.mark.parametrize("ext", [".png", ".bmp", ".tif", ".webp"])
def test_lossless_formats_round_trip(tmp_path: Path, ext: str) -> None:
    rgb = _pattern()
    path = tmp_path / f"photo{ext}"
    if ext == ".webp":
        Image.fromarray(rgb).save(path, lossless=True)
    else:
        Image.fromarray(rgb).save(path)
    np.testing.assert_array_equal(read_image(path), rgb)


def test_jpeg_and_non_ascii_path(tmp_path: Path) -> None:
    folder = tmp_path / "Prüfung 管道 ü"
    folder.mkdir()
    path = folder / "Rohr_äöü_腐食.jpg"
    Image.fromarray(_pattern()).save(path, quality=95)
    got = read_image(path)
    assert got.shape == (24, 40, 3)
    np.testing.assert_array_equal(got, np.asarray(Image.open(path).convert("RGB")))
    assert probe_image(path) == (40, 24)


def test_write_png_round_trip_non_ascii(tmp_path: Path) -> None:
    rgb = _pattern()
    path = write_png(tmp_path / "maske_ß.png", rgb)
    np.testing.assert_array_equal(read_image(path), rgb)


def test_16_bit_colour_and_grey(tmp_path: Path) -> None:
    rgb16 = (_pattern().astype(np.uint16) * 257 + 3).astype(np.uint16)
    colour = _save_cv(tmp_path / "c16.png", rgb16[:, :, ::-1])
    np.testing.assert_array_equal(read_image(colour), (rgb16 >> 8).astype(np.uint8))
    tif = _save_cv(tmp_path / "c16.tif", rgb16[:, :, ::-1])
    np.testing.assert_array_equal(read_image(tif), (rgb16 >> 8).astype(np.uint8))
    grey16 = rgb16[:, :, 0]
    grey = _save_cv(tmp_path / "g16.png", grey16)
    got = read_image(grey)
    np.testing.assert_array_equal(got, np.repeat((grey16 >> 8).astype(np.uint8)[:, :, None], 3, axis=2))


def test_a_32_bit_grey_tiff_keeps_its_tones(tmp_path: Path) -> None:
    """A 32-bit integer TIFF read as near white: its values were clipped at 65535 before the shift."""
    grey8 = _pattern()[:, :, 0]
    Image.fromarray(grey8.astype(np.int32) << 23).save(tmp_path / "g32.tif")
    got = read_image(tmp_path / "g32.tif")
    np.testing.assert_array_equal(got, np.repeat(grey8[:, :, None], 3, axis=2))


def test_grey_palette_and_cmyk(tmp_path: Path) -> None:
    rgb = _pattern()
    Image.fromarray(rgb[:, :, 0]).save(tmp_path / "g.png")
    np.testing.assert_array_equal(read_image(tmp_path / "g.png"), np.repeat(rgb[:, :, :1], 3, axis=2))
    pal = Image.fromarray(rgb).quantize(16)
    pal.save(tmp_path / "p.png")
    np.testing.assert_array_equal(read_image(tmp_path / "p.png"), np.asarray(pal.convert("RGB")))
    cmyk = Image.fromarray(rgb).convert("CMYK")
    cmyk.save(tmp_path / "k.jpg", quality=95)
    cmyk.save(tmp_path / "k.tif")
    expected = np.asarray(Image.open(tmp_path / "k.jpg").convert("RGB")).astype(int)
    assert np.abs(read_image(tmp_path / "k.jpg").astype(int) - expected).max() == 0
    tif = read_image(tmp_path / "k.tif").astype(int)
    assert np.abs(tif - np.asarray(cmyk.convert("RGB")).astype(int)).max() == 0


def test_alpha_is_composited_onto_white(tmp_path: Path) -> None:
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)
    rgba[..., 0] = 200
    rgba[0, :, 3] = 0  # transparent -> white
    rgba[1, :, 3] = 255  # opaque -> the colour
    rgba[2:, :, 3] = 128  # half -> between
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    got = read_image(tmp_path / "a.png")
    assert (got[0] == 255).all()
    assert (got[1] == (200, 0, 0)).all()
    a = 128 / 255
    assert tuple(got[2, 0]) == (round(200 * a + 255 * (1 - a)), round(255 * (1 - a)), round(255 * (1 - a)))
    la = np.stack([np.full((4, 4), 50, np.uint8), np.full((4, 4), 0, np.uint8)], axis=2)
    Image.fromarray(la, "LA").save(tmp_path / "la.png")
    assert (read_image(tmp_path / "la.png") == 255).all()


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("ext", [".png", ".jpg", ".tif"])
def test_exif_orientation_is_applied(tmp_path: Path, orientation: int, ext: str) -> None:
    """Turned exactly once: a TIFF's orientation tag was applied twice (Pillow's reader turns it too)."""
    img = Image.fromarray(_pattern())
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"o{orientation}{ext}"
    img.save(path, exif=exif)
    reference = tmp_path / f"o{orientation}.ref.png"  # a PNG's orientation Pillow leaves to exif_transpose
    img.save(reference, exif=exif)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(reference)).convert("RGB"))
    if ext == ".jpg":  # lossy: its own pixels, turned
        expected = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))
    got = read_image(path)
    np.testing.assert_array_equal(got, expected)
    assert probe_image(path) == (expected.shape[1], expected.shape[0])


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: p.write_bytes(b""), "empty (0 bytes)"),
        (lambda p: p.write_bytes(os.urandom(3000)), "not an image"),
        (lambda p: p.write_text("hello, I am text"), "not an image"),
        (lambda p: p.mkdir(), "is a folder"),
        (lambda p: None, "not found"),
    ],
)
def test_bad_files_raise_our_error_naming_the_file(tmp_path: Path, make, reason: str) -> None:
    path = tmp_path / "bad_ßild.jpg"
    make(path)
    with pytest.raises(ImageReadError) as info:
        read_image(path)
    assert str(path) in str(info.value)
    assert reason in str(info.value)


@pytest.mark.parametrize("ext", [".jpg", ".png", ".webp", ".tif"])
def test_truncated_files_are_refused(tmp_path: Path, ext: str) -> None:
    rng = np.random.default_rng(1)
    full = tmp_path / f"full{ext}"
    Image.fromarray(rng.integers(0, 256, (200, 200, 3), dtype=np.uint8)).save(full)
    data = full.read_bytes()
    cut = tmp_path / f"cut{ext}"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match="cut"):
        read_image(cut)


def _png_bomb(path: Path, side: int) -> Path:
    """A valid 1-bit PNG of side x side pixels that is only kilobytes on disk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = zlib.compress(bytes(side * (1 + -(-side // 8))), 1)
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows) + chunk(b"IEND", b""))
    return path


def test_decompression_bomb_is_refused_from_the_header(tmp_path: Path) -> None:
    path = _png_bomb(tmp_path / "bomb.png", 13000)  # 169 MP
    assert path.stat().st_size < 200_000
    assert probe_image(path) == (13000, 13000)
    with pytest.raises(ImageReadError, match="over the limit of 150 MP"):
        read_image(path)
    with pytest.raises(ImageReadError, match="over the limit"):
        read_image(tmp_path / "bomb.png", max_pixels=1000)


def test_a_huge_jpeg_is_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "huge.jpg"
    Image.new("RGB", (4000, 3000), (9, 99, 199)).save(path)
    with pytest.raises(ImageReadError, match="over the limit"):
        read_image(path, max_pixels=1_000_000)


def test_find_images_lists_folders_and_keeps_named_files(tmp_path: Path) -> None:
    for name in ("b.JPG", "a.png", "c.tiff", "notes.txt", ".hidden.png"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.webp").write_bytes(b"x")
    named = tmp_path / "notes.txt"
    got = find_images([tmp_path, named, tmp_path / "a.png"])
    assert [p.name for p in got] == ["a.png", "b.JPG", "c.tiff", "notes.txt"]
    assert [p.name for p in find_images([tmp_path], recursive=True)][-1] == "d.webp"


def test_atomic_write_never_overwrites_unless_asked(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    atomic_write_bytes(path, b"first")
    with pytest.raises(OutputExistsError, match="already exists"):
        atomic_write_bytes(path, b"second")
    assert path.read_bytes() == b"first"
    atomic_write_bytes(path, b"third", overwrite=True)
    assert path.read_bytes() == b"third"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


def test_failed_write_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ExportError, match="Cannot write"):
        atomic_write_bytes(tmp_path / "missing-folder" / "x.png", b"data")

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "fsync", disk_full)
    with pytest.raises(ExportError, match="No space left on device"):
        atomic_write_bytes(tmp_path / "x.png", b"data" * 1000)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_written_files_get_the_usual_mode_not_mkstemps_0600(tmp_path: Path) -> None:
    plain = tmp_path / "plain.bin"
    plain.write_bytes(b"x")  # what open() gives under this umask
    path = atomic_write_bytes(tmp_path / "atomic.bin", b"x")
    assert path.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777


@pytest.mark.skipif(os.name != "posix", reason="symbolic links to folders")
def test_a_recursive_scan_follows_linked_folders_once_and_never_into_the_output(tmp_path: Path) -> None:
    """Users link site folders into one: `--recursive` reads them; a link loop ends, and a link into the
    output folder is not followed."""
    site, out, top = tmp_path / "site1", tmp_path / "out", tmp_path / "rec2"
    for folder in (site / "day2", out, top):
        folder.mkdir(parents=True)
    for photo in (site / "a.png", site / "day2" / "b.png", out / "x_overlay.png"):
        photo.write_bytes(b"photo")
    (top / "site1").symlink_to(site)
    (site / "day2" / "loop").symlink_to(top)  # back up: a loop
    (top / "results").symlink_to(out)
    found = find_images([top], recursive=True, skip=[out])
    assert found == [top / "site1" / "a.png", top / "site1" / "day2" / "b.png"]
    assert find_images([top]) == [], "without --recursive, subfolders are not read, linked or not"


def test_a_truncated_png_is_refused_in_the_tools_words_only(tmp_path: Path) -> None:
    """OpenCV's own "[ WARN:0] ... PNG input buffer is incomplete" line never reaches stderr beside the
    tool's message (a child process: OpenCV writes to the C stream, and its log level is per process)."""
    import subprocess
    import sys

    _ok, buf = cv2.imencode(".png", np.full((200, 200, 3), 50, np.uint8))
    photo = tmp_path / "cut.png"
    photo.write_bytes(bytes(buf)[: len(buf) // 2])
    code = (
        "import sys\nfrom app.core.photos import read_image\n"
        "try:\n    read_image(sys.argv[1])\nexcept Exception as e:\n    print(e)"
    )
    run = subprocess.run([sys.executable, "-c", code, str(photo)], capture_output=True, text=True, timeout=60)
    assert "corrupt or truncated image" in run.stdout
    assert "WARN" not in run.stderr and "grfmt_png" not in run.stderr, run.stderr


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_two_names_of_one_file_are_two_photos_and_one_path_named_twice_is_one(tmp_path: Path) -> None:
    """Dropping a link by its target made 3,000 links to one photo "1 photo" and left `big/p2.png`, named
    on the command line, unmentioned; `a.png` and `./a.png` (or a photo and its folder) stay one."""
    small, big = tmp_path / "small", tmp_path / "big"
    big.mkdir()
    small.mkdir()
    photo = write_png(small / "a.png", np.zeros((4, 4, 3), np.uint8))
    for name in ("p1.png", "p2.png"):
        (big / name).symlink_to(photo)
    os.link(photo, small / "hard.png")
    again = Path(str(small) + "/./a.png")
    found = find_images([photo, again, small, big / "p1.png", big / "p2.png", big])
    assert found == [photo, small / "hard.png", big / "p1.png", big / "p2.png"]


def test_a_png_cut_short_is_refused_in_words_without_libpng_s_own_line(tmp_path: Path) -> None:
    """libpng (under OpenCV) printed "libpng error: PNG input buffer is incomplete" on the console, between
    a batch's progress lines, before the photo's own failure."""
    import subprocess
    import sys

    rgb = (np.random.default_rng(0).random((300, 400, 3)) * 255).astype(np.uint8)
    whole = tmp_path / "whole.png"
    Image.fromarray(rgb).save(whole)
    cut = tmp_path / "cut.png"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    code = "import sys; from app.core.photos import read_image; read_image(sys.argv[1])"
    done = subprocess.run([sys.executable, "-c", code, str(cut)], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "truncated" in done.stderr
    assert "libpng" not in done.stderr, done.stderr
    assert np.array_equal(read_image(whole), rgb)  # a whole PNG still goes the fast way, unchanged
