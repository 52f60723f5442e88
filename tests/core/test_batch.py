"""run_batch: outputs per photo, failures, cancel, resume after a stop or a kill, one CSV."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.analyze_args import CLI_EXPORTS
from app.core import batch_photo as batch_module
from app.core import exporters
from app.core.errors import ExportError
from app.core.export import CSV_NAME
from app.core.files import write_png
from app.core.inference import InferenceOptions, segment
from app.core.model import SegmentationModel
from app.core.palette import decode_mask
from app.core.photos import read_image
from app.core.pipeline import DONE, FAILED, SKIPPED, BatchOptions, PhotoOutcome, run_batch
from app.core.synthetic import synthetic_pipe
from tests.helpers.killed_run import die_while_writing
from tests.helpers.outputs import output_paths
from tests.helpers.tiny_models import channel_model


def _photos(folder: Path, count: int, size: tuple[int, int] = (48, 64)) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [
        write_png(folder / f"pipe_{i:02d}.png", synthetic_pipe(seed=i, size=size)[0]) for i in range(count)
    ]


def _csv(path: Path, drop: tuple[str, ...] = ("seconds", "analysed_at")) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [{k: v for k, v in row.items() if k not in drop} for row in csv.DictReader(fh)]


def test_outputs_for_good_photos_and_reasons_for_bad_ones(
    tmp_path: Path, tiny_model: SegmentationModel
) -> None:
    good = _photos(tmp_path / "in", 2)
    empty = tmp_path / "in" / "empty.jpg"
    empty.write_bytes(b"")
    events: list[PhotoOutcome] = []
    starts: list[tuple[int, int, str]] = []
    summary = run_batch(
        tiny_model,
        [*good, empty],
        tmp_path / "out",
        BatchOptions(inference=InferenceOptions(mode="tiles")),
        progress=events.append,
        started=lambda i, n, p: starts.append((i, n, p.name)),
    )
    assert summary.done == tuple(good) and not summary.skipped and not summary.ok
    assert [(f.path, f.reason) for f in summary.failures] == [(empty, "file is empty (0 bytes)")]
    assert [e.state for e in events] == [DONE, DONE, FAILED]
    assert starts == [(1, 3, "pipe_00.png"), (2, 3, "pipe_01.png"), (3, 3, "empty.jpg")]
    for path in good:
        outs = output_paths(tmp_path / "out", path.stem)
        ids, _ = decode_mask(read_image(outs.mask))
        np.testing.assert_array_equal(
            ids, segment(tiny_model, read_image(path), InferenceOptions(mode="tiles")).labels
        )
        assert (ids == synthetic_pipe(seed=int(path.stem[-2:]), size=(48, 64))[1]).mean() > 0.95
        assert read_image(outs.overlay).shape == (48, 64, 3)
        assert json.loads(outs.json.read_text(encoding="utf-8"))["file"] == str(path)
    rows = _csv(summary.csv_path)
    assert [r["file"] for r in rows] == [str(p) for p in (*good, empty)]
    assert [r["status"] for r in rows] == ["ok", "ok", "failed"]
    assert rows[2]["error"] == "file is empty (0 bytes)"


def test_cancel_then_resume_gives_the_csv_of_one_run(tmp_path: Path, tiny_model: SegmentationModel) -> None:
    photos = _photos(tmp_path / "in", 4)
    bad = tmp_path / "in" / "bad.png"
    bad.write_bytes(b"not a png at all")
    photos.insert(2, bad)
    whole = run_batch(tiny_model, photos, tmp_path / "whole")

    seen: list[PhotoOutcome] = []
    first = run_batch(
        tiny_model, photos, tmp_path / "parts", progress=seen.append, cancelled=lambda: len(seen) >= 2
    )
    assert first.cancelled and len(first.done) == 2 and not first.ok
    listed = _csv(first.csv_path)  # what is finished, and what the stopped run never reached
    assert [r["status"] for r in listed] == ["ok", "ok"] + ["not analysed"] * 3
    assert listed[4]["error"].startswith("not analysed: the batch was stopped")
    states: list[str] = []
    second = run_batch(tiny_model, photos, tmp_path / "parts", progress=lambda e: states.append(e.state))
    assert states == [SKIPPED, SKIPPED, FAILED, DONE, DONE]
    assert second.skipped == tuple(photos[:2]) and second.done == (photos[3], photos[4])
    assert _csv(second.csv_path) == _csv(whole.csv_path)


def test_leftovers_of_an_interrupted_photo_are_replaced_on_resume(
    tmp_path: Path, tiny_model: SegmentationModel, tiny_model_path: Path
) -> None:
    (photo,) = _photos(tmp_path / "in", 1)
    out = tmp_path / "out"
    outs = output_paths(out, photo.stem)
    die_while_writing("landing:_overlay.png", tiny_model_path, [photo], out)  # the mask landed, no JSON
    assert outs.mask.exists() and not outs.json.exists()
    assert len(list(out.glob(".pipe_00_overlay.png.*.part"))) == 1
    (out / ".notes.abc123.part").write_bytes(b"a file of the user's")  # named like a temp file
    summary = run_batch(tiny_model, [photo], out)
    assert summary.done == (photo,)
    assert read_image(outs.mask).shape == (48, 64, 3)
    assert [p.name for p in out.glob(".*.part")] == [".notes.abc123.part"]  # only our temp file went


def test_a_photo_killed_while_writing_leaves_only_temp_files_which_resume_removes(
    tmp_path: Path, tiny_model: SegmentationModel, tiny_model_path: Path
) -> None:
    (photo,) = _photos(tmp_path / "in", 1)
    out = tmp_path / "out"
    die_while_writing("overlay", tiny_model_path, [photo], out)  # outputs land together: none landed
    assert [p.name for p in out.iterdir() if not p.name.startswith(".")] == []
    assert len(list(out.glob(".pipe_00_mask.png.*.part"))) == 1
    assert run_batch(tiny_model, [photo], out).done == (photo,)
    assert list(out.glob(".*.part")) == []


def test_existing_outputs_are_kept_unless_overwrite(tmp_path: Path, tiny_model: SegmentationModel) -> None:
    """A photo refused because its files are in the way keeps its earlier row in results.csv (its files
    are as they were), instead of a failure row that says the folder holds nothing of it."""
    photos = _photos(tmp_path / "in", 2)
    out = tmp_path / "out"
    first = run_batch(tiny_model, photos[:1], out)
    before = output_paths(out, photos[0].stem).json.read_bytes()
    table = _csv(first.csv_path)
    again = run_batch(tiny_model, photos, out, BatchOptions(resume=False))
    why = again.failures[0].reason
    assert "already exists and was kept (move it away, or pass --overwrite to replace it)" in why, why
    assert again.done == (photos[1],)
    assert output_paths(out, photos[0].stem).json.read_bytes() == before
    rows = _csv(again.csv_path)
    assert rows[0] == table[0] and rows[0]["status"] == "ok"  # the earlier row, as it was
    assert rows[1]["file"].endswith(photos[1].name) and rows[1]["status"] == "ok"
    redone = run_batch(tiny_model, photos[:1], out, BatchOptions(overwrite=True))
    assert redone.done == (photos[0],)


def test_results_of_another_model_are_not_reused_or_replaced(
    tmp_path: Path, tiny_model: SegmentationModel
) -> None:
    (photo,) = _photos(tmp_path / "in", 1)
    out = tmp_path / "out"
    run_batch(tiny_model, [photo], out)
    other = SegmentationModel.load(channel_model(tmp_path / "other.onnx", sharpness=5.0), device="cpu")
    table = _csv(out / "results.csv")
    blocked = run_batch(other, [photo], out)
    assert "another model or mode" in blocked.failures[0].reason
    assert _csv(out / "results.csv") == table  # the files and their row stay the first model's
    assert run_batch(other, [photo], out, BatchOptions(overwrite=True)).done == (photo,)
    record = json.loads(output_paths(out, photo.stem).json.read_text(encoding="utf-8"))
    assert record["model_sha256"] == other.sha256


def test_same_stem_in_two_folders_does_not_collide(tmp_path: Path, tiny_model: SegmentationModel) -> None:
    a = _photos(tmp_path / "a", 1)[0]
    b = _photos(tmp_path / "b", 1)[0]
    summary = run_batch(tiny_model, [a, b], tmp_path / "out")
    assert summary.done == (a, b)
    assert len([p for p in (tmp_path / "out").glob("*.json") if p.name != "results.json"]) == 2


def _text_exporter(fail: bool = False) -> exporters.Exporter:
    def write(path: Path, data: exporters.ExportInput, overwrite: bool) -> None:
        if fail:
            raise RuntimeError("printer on fire")
        assert data.overlay.shape == data.photo_rgb.shape
        path.write_text(f"{data.result.stats.corroded_share}")

    return exporters.Exporter("text", "Share as text", ".txt", write, default=False)


@pytest.fixture
def text_format():
    yield
    exporters.unregister("text")


def test_a_registered_format_is_written_and_required_for_completeness(
    tmp_path: Path, tiny_model: SegmentationModel, text_format: None
) -> None:
    (photo,) = _photos(tmp_path / "in", 1)
    out = tmp_path / "out"
    exporters.register(_text_exporter())
    options = BatchOptions(exports=("mask", "overlay", "json", "text"))
    assert run_batch(tiny_model, [photo], out, options).done == (photo,)
    assert (out / "pipe_00.txt").exists()
    assert (
        json.loads(output_paths(out, photo.stem).json.read_text("utf-8"))["outputs"]["text"] == "pipe_00.txt"
    )
    (out / "pipe_00.txt").unlink()
    assert run_batch(tiny_model, [photo], out, options).done == (photo,)  # redone
    exporters.register(_text_exporter(fail=True))
    failed = run_batch(tiny_model, [photo], tmp_path / "out2", options)
    assert "printer on fire" in failed.failures[0].reason
    assert not output_paths(tmp_path / "out2", photo.stem).json.exists()


def _figures(record: dict) -> dict:
    """A record without what differs from run to run (time, seconds, the files' proofs, the seal)."""
    return {k: v for k, v in record.items() if k not in ("analysed_at", "seconds", "files", "record_sha256")}


def _photo_file(folder: Path, kind: str) -> Path:
    """A synthetic pipe saved as `kind`: the decoders' paths (OpenCV, Pillow, EXIF turns, other modes)."""
    from PIL import Image

    big = kind in ("jpeg", "jpeg turned", "grey jpeg", "cmyk jpeg")
    rgb = synthetic_pipe(seed=5, size=(300, 400) if big else (48, 64))[0]
    img = Image.fromarray(rgb)
    suffix = {"png palette": ".png", "png rgba": ".png", "tiff": ".tif", "webp": ".webp", "bmp": ".bmp"}
    path = folder / f"pipe{suffix.get(kind, '.jpg')}"
    if kind == "png palette":
        img = img.convert("P", palette=Image.Palette.ADAPTIVE)
    elif kind == "png rgba":
        img.putalpha(200)
    elif kind in ("grey jpeg", "cmyk jpeg"):
        img = img.convert("L" if kind == "grey jpeg" else "CMYK")
    exif = Image.Exif()
    if kind == "jpeg turned":
        exif[0x0112] = 6  # shown turned a quarter: the decode is turned, a copy
    options: dict = {"quality": 92, "exif": exif} if path.suffix == ".jpg" else {}
    if kind == "webp":
        options = {"lossless": True}
    img.save(path, **options)
    return path


@pytest.mark.parametrize(
    "kind",
    [
        "small jpeg",  # scale 1 (under twice the tiny model's input)
        "jpeg",  # a reduced decode beside the full one
        "jpeg turned",
        "grey jpeg",
        "cmyk jpeg",
        "png palette",
        "png rgba",
        "tiff",
        "webp",
        "bmp",
    ],
)
def test_a_batch_that_keeps_no_result_writes_the_bytes_of_one_that_does(
    tmp_path: Path, tiny_model: SegmentationModel, kind: str
) -> None:
    """Keeping no result, the batch makes no confidence map and blends the overlay into the decoded
    photo: every file the same bytes (figures the same values) as the window's batch, which keeps both."""
    from app.core.batch_types import PlannedPhoto

    photo = _photo_file(tmp_path, kind)
    exports = ("mask", "overlay", exporters.OVERLAY_JPEG_KIND, "json")
    options = BatchOptions(exports=exports)
    written = {}
    for keep in (False, True):
        out = tmp_path / f"keep_{keep}"
        out.mkdir()
        item = PlannedPhoto(0, photo, photo.stem, tuple(exporters.targets(out, photo.stem, exports).items()))
        outcome = batch_module.process_photo(item, options, tiny_model, keep_result=keep)
        assert outcome.state == DONE
        written[keep] = {p.name: p.read_bytes() for p in out.iterdir()}
    kept = outcome.result
    assert kept is not None and kept.confidence is not None  # the window's batch still gets its map
    np.testing.assert_array_equal(outcome.photo, read_image(photo))  # and the photo, not the overlay
    assert (
        written[False].keys()
        == written[True].keys()
        == {"pipe_mask.png", "pipe_overlay.png", "pipe_overlay.jpg", "pipe.json"}
    )
    for name in ("pipe_mask.png", "pipe_overlay.png", "pipe_overlay.jpg"):
        assert written[False][name] == written[True][name], name
    lean, full = (json.loads(written[k]["pipe.json"]) for k in (False, True))
    assert _figures(lean) == _figures(full)


def test_a_format_reading_the_photo_gets_the_photo_not_its_overlay(
    tmp_path: Path, tiny_model: SegmentationModel, text_format: None
) -> None:
    """A format that reads the photo itself (a report) keeps the overlay from being blended into it."""
    (photo,) = _photos(tmp_path / "in", 1)
    seen: list[bool] = []

    def write(path: Path, data: exporters.ExportInput, overwrite: bool) -> None:
        seen.append(np.array_equal(data.photo_rgb, read_image(photo)))
        path.write_text("ok")

    exporters.register(exporters.Exporter("text", "Photo check", ".txt", write, default=False))
    assert not exporters.overlay_only(("mask", exporters.OVERLAY_JPEG_KIND, "text", "json"))
    assert exporters.overlay_only(("mask", "overlay", exporters.OVERLAY_JPEG_KIND, "json"))
    options = BatchOptions(exports=("mask", exporters.OVERLAY_JPEG_KIND, "json", "text"))
    assert run_batch(tiny_model, [photo], tmp_path / "out", options).done == (photo,)
    assert seen == [True]


def test_an_output_folder_that_cannot_be_made(tmp_path: Path, tiny_model: SegmentationModel) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ExportError, match="Cannot create the output folder"):
        run_batch(tiny_model, [], blocker / "out")


@pytest.mark.slow
def test_a_killed_run_leaves_only_whole_files_and_resumes(tmp_path: Path) -> None:
    model = channel_model(tmp_path / "m.onnx")
    photos = _photos(tmp_path / "in", 12, size=(160, 200))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "app", "analyze", str(tmp_path / "in"), "--out", str(out)]
    cmd += ["--model", str(model), "--device", "cpu", "--mode", "tiles"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stderr:  # one line per photo when stderr is not a terminal
            if line.startswith("[3/"):
                os.kill(proc.pid, signal.SIGKILL)
                break
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    for f in out.iterdir():
        if f.suffix == ".png" and not f.name.startswith("."):
            read_image(f)  # every PNG under its final name is whole
        elif f.suffix == ".json":
            json.loads(f.read_text(encoding="utf-8"))
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "skipped" in done.stdout
    loaded = SegmentationModel.load(model, device="cpu")
    options = BatchOptions(
        inference=InferenceOptions(mode="tiles"), input_folders=(tmp_path / "in",), exports=CLI_EXPORTS
    )
    whole = run_batch(loaded, photos, tmp_path / "whole", options)
    assert _csv(out / CSV_NAME) == _csv(whole.csv_path)
    assert len(_csv(out / CSV_NAME)) == len(photos)


def test_an_unexpected_error_fails_that_photo_only(
    tmp_path: Path, tiny_model: SegmentationModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    photos = _photos(tmp_path / "in", 3)
    real_read = batch_module.start_decode

    def read_or_explode(path: Path, *args, **kwargs):
        if path == photos[1]:
            raise RuntimeError("decoder exploded")
        return real_read(path, *args, **kwargs)

    monkeypatch.setattr(batch_module, "start_decode", read_or_explode)
    summary = run_batch(tiny_model, photos, tmp_path / "out")
    assert summary.done == (photos[0], photos[2])
    assert [(f.path, f.reason) for f in summary.failures] == [(photos[1], "RuntimeError: decoder exploded")]


def test_overlay_jpeg_is_the_rgb_overlay_encoded(tmp_path: Path, tiny_model: SegmentationModel) -> None:
    """The JPEG exporter blends straight into OpenCV's channel order: the file is byte for byte the
    RGB overlay encoded, whether or not the RGB overlay (the PDF's) was made first."""
    from app.core.analysis import analyze_rgb
    from app.core.files import encode_jpeg, mark_jpeg
    from app.core.overlay import blend_overlay
    from app.core.overlay_style import OverlayStyle

    rgb = synthetic_pipe(seed=3, size=(600, 80))[0]
    result = analyze_rgb(tiny_model, rgb, "pipe.png")
    opacity = {0: 0.8}
    expected = mark_jpeg(encode_jpeg(blend_overlay(rgb, result.labels, result.classes, None, opacity), 90))
    jpeg = exporters.get(exporters.OVERLAY_JPEG_KIND)
    for first_rgb in (False, True):
        data = exporters.ExportInput(result, rgb, OverlayStyle.of(None, opacity))
        if first_rgb:
            assert data.overlay.shape == rgb.shape
        path = tmp_path / f"{first_rgb}_overlay.jpg"
        jpeg.write(path, data, False)
        assert path.read_bytes() == expected
