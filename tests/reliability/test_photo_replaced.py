"""A photo replaced on disk while it is analysed: its figures and its recorded identity never come from
two different files (the record then marks the new photo complete with the old one's figures)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app import cli
from app.core import batch_photo, outlock
from app.core.files import write_png
from app.core.photo_decode import start_decode
from app.core.synthetic import synthetic_pipe
from tests.reliability.conftest import read_csv


def _two_pipes(tmp_path: Path) -> tuple[Path, Path]:
    first, _ = synthetic_pipe(seed=1, size=96)
    second, _ = synthetic_pipe(seed=7, size=96)
    (tmp_path / "photos").mkdir()
    photo = write_png(tmp_path / "photos" / "site.png", first)
    other = write_png(tmp_path / "other.png", second)
    return photo, other


def test_the_decode_gives_the_bytes_it_first_read_even_when_the_file_is_replaced(tmp_path: Path) -> None:
    """A PNG (decoded at scale 1) was read again for its pixels after its header and hash were taken."""
    photo, other = _two_pipes(tmp_path)
    expected = np.asarray(Image.open(photo).convert("RGB"))
    with start_decode(photo, 10**8, 1 << 30, (64, 64), sha256=True) as decode:
        os.replace(other, photo)
        assert np.array_equal(decode.full(), expected)
        assert decode.sha256 != hashlib.sha256(photo.read_bytes()).hexdigest()


def test_a_photo_replaced_during_its_analysis_is_failed_and_analysed_again_next_run(
    tmp_path: Path, tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo, other = _two_pipes(tmp_path)
    out = tmp_path / "out"
    real = batch_photo.analyze_view

    def replaced_meanwhile(*args, **kwargs):
        if other.exists():
            os.replace(other, photo)  # another picture renamed over it while the network runs
        return real(*args, **kwargs)

    monkeypatch.setattr(batch_photo, "analyze_view", replaced_meanwhile)
    args = ["analyze", str(photo.parent), "--out", str(out), "--model", str(tiny_model_path)]
    assert cli.main([*args, "--engine", "serial", "--device", "cpu"]) == 1
    row = read_csv(out / "results.csv")[0]
    assert row["status"] == "failed" and "changed while it was analysed" in row["error"]
    assert not (out / "site.json").exists(), "no record may hold the old photo's figures"
    monkeypatch.undo()
    assert cli.main([*args, "--engine", "serial", "--device", "cpu"]) == 0
    record = json.loads((out / "site.json").read_text("utf-8"))
    assert record["photo"]["sha256"] == hashlib.sha256(photo.read_bytes()).hexdigest()


def test_a_photo_finished_after_its_run_released_the_folder_writes_nothing(
    tmp_path: Path, tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cluster worker's photo finished after its run ended (cut off, scheduler lost) still landed a
    whole set in a folder the run had released, maybe to another run; here the lock goes mid-photo."""
    photo, _other = _two_pipes(tmp_path)
    out = tmp_path / "out"
    real = batch_photo.analyze_view

    def run_ended_meanwhile(*args, **kwargs):
        outlock._HELD[os.path.realpath(out)].release()  # as the client does on its way out
        return real(*args, **kwargs)

    monkeypatch.setattr(batch_photo, "analyze_view", run_ended_meanwhile)
    args = ["analyze", str(photo.parent), "--out", str(out), "--model", str(tiny_model_path)]
    assert cli.main([*args, "--engine", "serial", "--device", "cpu"]) == 1
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("site")) == []
    assert not [p for p in out.iterdir() if p.name.endswith(".part")]
    row = read_csv(out / "results.csv")[0]
    assert row["status"] == "failed" and "has ended" in row["error"]
