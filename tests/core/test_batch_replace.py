"""A photo's outputs replaced as one set: a failure part-way (a full disk) keeps the earlier set whole,
and earlier outputs of ours that a new run does not write again go, so none contradicts the new record."""

from __future__ import annotations

import dataclasses
import errno
from pathlib import Path

import pytest

from app.core import exporters
from app.core.files import write_png
from app.core.model import SegmentationModel
from app.core.pipeline import BatchOptions, run_batch
from app.core.synthetic import synthetic_pipe
from tests.helpers.outputs import output_paths

JPEG = exporters.OVERLAY_JPEG_KIND


def _photo(folder: Path, seed: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return write_png(folder / f"pipe_{seed:02d}.png", synthetic_pipe(seed=seed, size=(48, 64))[0])


@pytest.fixture
def disk_full_at_the_overlay():
    """The overlay's writer fails as a full disk makes it fail, after the mask was written."""
    kind = exporters.get("overlay")

    def full(path: Path, data: exporters.ExportInput, overwrite: bool) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    exporters.register(dataclasses.replace(kind, write=full))
    yield
    exporters.register(kind)


def test_a_failed_overwrite_keeps_the_earlier_outputs_whole(
    tmp_path: Path, tiny_model: SegmentationModel, request
) -> None:
    photo, out = _photo(tmp_path / "in"), tmp_path / "out"
    assert run_batch(tiny_model, [photo], out).done == (photo,)
    outs = output_paths(out, photo.stem)
    before = {p: (p.read_bytes(), p.stat().st_ino) for p in (outs.mask, outs.overlay, outs.json)}
    request.getfixturevalue("disk_full_at_the_overlay")
    summary = run_batch(tiny_model, [photo], out, BatchOptions(overwrite=True))
    assert summary.failures and "No space left on device" in summary.failures[0].reason
    after = {p: (p.read_bytes(), p.stat().st_ino) for p in before if p.exists()}
    assert after == before, "the mask written before the failure never landed: the same files stay"
    assert sorted(p.name for p in out.glob(".*.part")) == []


def test_an_overwrite_removes_the_earlier_outputs_it_does_not_write_again(
    tmp_path: Path, tiny_model: SegmentationModel
) -> None:
    photos = [_photo(tmp_path / "in", 0), _photo(tmp_path / "in", 1)]
    out = tmp_path / "out"
    first = BatchOptions(exports=("mask", JPEG, "json"))
    assert run_batch(tiny_model, photos, out, first).ok
    jpegs = [out / f"{p.stem}_overlay.jpg" for p in photos]
    assert all(j.is_file() for j in jpegs)
    jpegs[1].write_bytes(jpegs[1].read_bytes() + b"edited")  # changed since: no longer provably ours
    assert run_batch(tiny_model, photos, out, BatchOptions(overwrite=True)).ok  # mask, overlay PNG, JSON
    assert not jpegs[0].exists(), "an overlay of the earlier run would contradict the new record"
    assert jpegs[1].is_file(), "a file changed since the earlier run is not ours to remove"
    assert output_paths(out, photos[0].stem).overlay.is_file()
