"""`corroscope project add` with a photo that cannot be read among good ones: that one fails with its
reason, the others are stored."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from app import cli
from app.core.project import Project
from app.core.project.photos import exif_time
from tests.helpers.pipe_photos import photo_folder


def _png_bomb(path: Path, side: int = 100_000) -> None:
    """A tiny PNG whose header claims side x side pixels (Pillow refuses to open it)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)


def test_exif_time_of_a_decompression_bomb_is_none(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    _png_bomb(bomb)
    assert exif_time(bomb) is None


def test_add_fails_a_decompression_bomb_and_stores_the_good_photos(
    tmp_path: Path, tiny_model_path: Path, monkeypatch, capsys
) -> None:
    """The failure is one line: the photo as typed (a relative path here), then the reason."""
    monkeypatch.chdir(tmp_path)
    folder = photo_folder(Path("bad"), 2, 0.1, seed=3)
    _png_bomb(folder / "bomb.png")
    target = str(tmp_path / "site.corroscope")
    assert cli.main(["project", "create", target]) == 0
    args = ["project", "add", target, "--asset", "P-101", "--date", "2025-06-01", str(folder)]
    assert cli.main([*args, "--model", str(tiny_model_path), "--device", "cpu"]) == cli.EXIT_FAILED
    captured = capsys.readouterr()
    assert "2 photos stored, 0 already stored, 1 failed" in captured.out
    failed = [line for line in captured.err.splitlines() if line.startswith("  failed:")]
    assert len(failed) == 1
    # Pillow's own refusal, in the words of the tool's pixel limit (as every other oversized photo)
    assert failed[0].startswith(f"  failed: {folder / 'bomb.png'}: image is too large (")
    assert failed[0].endswith("MP), over the limit of 150 MP")
    assert "Traceback" not in captured.err
    with Project.open(target) as project:
        (inspection,) = project.inspections("P-101")
        assert sorted(Path(p.path).name for p in project.photos(inspection.id)) == [
            "photo_000.png",
            "photo_001.png",
        ]
