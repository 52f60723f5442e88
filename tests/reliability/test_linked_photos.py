"""Links to one photo under different names are different photos to an inspector (each named on the
command line or in a folder): each is analysed with outputs of its own name; one path named twice is one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app import cli
from tests.reliability.conftest import read_csv, small_photos


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_every_name_of_a_linked_photo_is_analysed_under_its_own_name(
    tmp_path: Path, model_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    photo = small_photos(tmp_path / "small", 1)[0]
    big = tmp_path / "big"
    big.mkdir()
    for i in range(1, 4):
        (big / f"p{i:04d}.png").symlink_to(photo)
    argv = ["small/pipe_0000.png", "./small/pipe_0000.png", "small", "big/p0001.png", "big/p0002.png", "big"]
    rc = cli.main(["analyze", *argv, "--out", "out", "--model", str(model_path)])
    out = capsys.readouterr().out
    assert rc == cli.EXIT_OK, out
    assert "4 photos: 4 analysed" in out, out
    names = sorted(row["file"] for row in read_csv(tmp_path / "out" / "results.csv"))
    assert names == ["p0001.png", "p0002.png", "p0003.png", "pipe_0000.png"], names
    for stem in ("p0001", "p0002", "p0003", "pipe_0000"):
        assert (tmp_path / "out" / f"{stem}_mask.png").is_file()
