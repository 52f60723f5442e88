"""Odd files, shared folders and a hostile console: each class with its one defence.

- reading: only regular files are opened, within a byte budget (FIFOs, devices, dangling links, padding);
- output names stay distinct after every shortening step;
- one run at a time in an output folder (a lock naming its holder; a dead holder's lock taken over);
- only files proven ours are replaced without --overwrite; results.csv merges or refuses;
- names that are not UTF-8; a console that breaks, fills up or is closed; Ctrl+C twice.
The files are made here; console cases run the real `corroscope analyze` as a process.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app.core import ownership
from app.core.errors import OutputLockedError
from app.core.export import CSV_NAME, RESULT_SCHEMA, output_stems, safe_stem
from app.core.model import SegmentationModel
from app.core.outlock import LOCK_NAME, OutputLock
from app.core.photos import find_images, read_image
from app.core.pipeline import DONE, FAILED, BatchOptions, run_batch
from tests.helpers.killed_run import die_while_writing
from tests.helpers.tiny_models import channel_model
from tests.reliability.conftest import ROOT, cli_command, cli_env, read_csv, run_cli, small_photos
from tests.reliability.integrity import snapshot

posix = pytest.mark.skipif(os.name != "posix", reason="FIFOs, devices and byte file names are POSIX")


def _analyze(*paths: Path | str, out: Path, model: Path) -> list[str | Path]:
    return ["analyze", *paths, "--out", out, "--model", model, "--device", "cpu"]


def _no_traceback(done: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in done.stderr and "Error:" not in done.stderr.replace("error:", ""), done.stderr


def _rows(out: Path) -> list[dict[str, str]]:
    return read_csv(out / CSV_NAME)


# reading: regular files only, within a budget -----------------------------------------------------
@posix
def test_a_fifo_named_on_the_command_line_is_refused_not_waited_for(tmp_path: Path, model_path: Path) -> None:
    (photo,) = small_photos(tmp_path / "in", 1)
    fifo = tmp_path / "in" / "camera.png"
    os.mkfifo(fifo)
    done = run_cli(*_analyze(photo, fifo, out=tmp_path / "out", model=model_path), timeout=60)
    assert done.returncode == 1, done.stderr
    _no_traceback(done)
    assert "camera.png: is a named pipe (FIFO), not a photo file" in done.stderr
    assert [(r["status"], r["error"]) for r in _rows(tmp_path / "out")] == [
        ("ok", ""),
        ("failed", "is a named pipe (FIFO), not a photo file"),
    ]


@posix
def test_a_fifo_swapped_in_for_a_listed_photo_during_the_batch_does_not_hang(tmp_path: Path, model) -> None:
    photos = small_photos(tmp_path / "in", 4)

    def swap(outcome) -> None:
        if outcome.index == 0:  # photo 2 is listed; now it becomes a FIFO nobody writes to
            photos[2].unlink()
            os.mkfifo(photos[2])

    result: list = []
    worker = threading.Thread(
        target=lambda: result.append(run_batch(model, photos, tmp_path / "out", progress=swap))
    )
    worker.start()
    worker.join(timeout=30)
    if worker.is_alive():  # unblock the hung reader so the test process can end, then fail
        with open(photos[2], "wb"):
            pass
        worker.join(timeout=10)
        pytest.fail("the batch hung on a FIFO")
    summary = result[0]
    assert [o.state for o in summary.outcomes] == [DONE, DONE, FAILED, DONE]
    assert summary.failures[0].reason == "is a named pipe (FIFO), not a photo file"


def test_a_device_and_a_padded_photo_are_refused_by_size_or_kind_without_reading_them(tmp_path: Path) -> None:
    (photo,) = small_photos(tmp_path, 1)
    padded = tmp_path / "padded.png"
    padded.write_bytes(photo.read_bytes())
    os.truncate(padded, 2 << 30)  # a valid PNG, then 2 GB of zeros (sparse: nothing is written)
    start = time.perf_counter()
    with pytest.raises(Exception, match=r"over the limit of 1024 MiB for one photo \(2048 MiB"):
        read_image(padded)
    if os.name == "posix":
        with pytest.raises(Exception, match="is a device, not a photo file"):
            read_image("/dev/zero")
    assert time.perf_counter() - start < 2, "read before refusing"
    # the budget is on the bytes read too, and may be lowered
    with pytest.raises(Exception, match="over the limit of 0 MiB"):
        read_image(photo, max_bytes=100)
    assert read_image(photo, max_bytes=photo.stat().st_size).shape == (24, 32, 3)


@posix
def test_odd_entries_in_a_folder_are_listed_with_their_reason(tmp_path: Path, model) -> None:
    folder = tmp_path / "in"
    (photo,) = small_photos(folder, 1)
    (folder / "gone.jpg").symlink_to(tmp_path / "deleted.jpg")
    (folder / "zero.png").symlink_to("/dev/zero")
    os.mkfifo(folder / "pipe.png")
    (folder / "loop.png").symlink_to(folder / "loop.png")
    (folder / "folder.png").mkdir()  # a folder named like a photo is not a photo: not listed
    found = find_images([folder])
    assert [p.name for p in found] == ["gone.jpg", "loop.png", "pipe.png", photo.name, "zero.png"]
    summary = run_batch(model, found, tmp_path / "out")
    reasons = {f.path.name: f.reason for f in summary.failures}
    assert reasons == {
        "gone.jpg": f"dangling symbolic link (to {tmp_path / 'deleted.jpg'}, which does not exist)",
        "loop.png": "symbolic link loop",
        "pipe.png": "is a named pipe (FIFO), not a photo file",
        "zero.png": "is a device, not a photo file",
    }
    assert [r["status"] for r in read_csv(summary.csv_path)] == ["failed", "failed", "failed", "ok", "failed"]


# output names --------------------------------------------------------------------------------------
def test_long_names_sharing_their_first_100_bytes_keep_distinct_outputs(tmp_path: Path, model) -> None:
    folder = tmp_path / "in"
    names = ["L" * 120 + "_red", "L" * 120 + "_blue", "é" * 70 + "_a", "é" * 70 + "_b", "Ł" * 60, "ł" * 60]
    photos = small_photos(folder, len(names))
    photos = [p.rename(folder / f"{n}.png") for p, n in zip(photos, names, strict=True)]
    stems = output_stems(photos)
    assert len({s.casefold() for s in stems.values()}) == len(photos)
    assert all(len(s.encode()) <= 100 and safe_stem(s) == s for s in stems.values())
    summary = run_batch(model, photos, tmp_path / "out")
    assert summary.ok and summary.done == tuple(photos)
    assert sorted(r["file"] for r in read_csv(summary.csv_path)) == sorted(map(str, photos))
    assert len([p for p in (tmp_path / "out").glob("*.json") if p.name != "results.json"]) == len(photos)
    again = run_batch(model, photos, tmp_path / "out")
    assert again.skipped == tuple(photos)


# one run at a time ---------------------------------------------------------------------------------
def test_a_second_run_into_a_locked_folder_says_who_holds_it_and_writes_nothing(
    tmp_path: Path, model_path: Path, model
) -> None:
    photos = small_photos(tmp_path / "in", 2)
    out = tmp_path / "out"
    out.mkdir()
    lock = OutputLock.acquire(out)  # another run, in this process, writing there now
    try:
        done = run_cli(*_analyze(tmp_path / "in", out=out, model=model_path))
        with pytest.raises(OutputLockedError, match=f"pid {os.getpid()} on {socket.gethostname()}"):
            run_batch(model, photos, out)
    finally:
        lock.release()
    assert done.returncode == 4  # not 1 (some photos failed): nothing was run
    _no_traceback(done)
    assert f"Another Corroscope run is writing into {out} (pid {os.getpid()} on {socket.gethostname()}" in (
        done.stderr
    )
    assert sorted(p.name for p in out.iterdir()) == []
    assert run_batch(model, photos, out).ok  # released: the folder is free again


def test_a_locked_folder_is_said_before_the_model_loads_and_its_lock_file_is_left_as_it_was(
    tmp_path: Path,
) -> None:
    """A second run loaded its model (seconds, a model in GPU memory) and only then found the folder
    locked; a run given a model file that does not exist shows the lock is checked first."""
    small_photos(tmp_path / "in", 1)
    out = tmp_path / "out"
    out.mkdir()
    lock = OutputLock.acquire(out)
    before = (out / LOCK_NAME).read_bytes()
    try:
        done = run_cli(*_analyze(tmp_path / "in", out=out, model=tmp_path / "no-such-model.onnx"))
        assert (out / LOCK_NAME).read_bytes() == before
    finally:
        lock.release()
    assert done.returncode == 4, done.stderr
    assert "Another Corroscope run is writing into" in done.stderr and "no-such-model" not in done.stderr


def test_the_gui_batch_takes_the_same_lock(tmp_path: Path, model) -> None:
    pytest.importorskip("PySide6")
    from app.ui import batch_job

    small_photos(tmp_path / "in", 2)
    out = tmp_path / "out"
    out.mkdir()
    lock = OutputLock.acquire(out)
    try:
        rows = batch_job.batch_rows(model, [tmp_path / "in"], BatchOptions(), out)
        assert len(next(rows)) == 2  # first the photos, then a row each
        with pytest.raises(OutputLockedError, match="Another Corroscope run"):
            next(rows)
    finally:
        lock.release()
    assert len([r for r in batch_job.batch_rows(model, [tmp_path / "in"], BatchOptions(), out)]) == 3


def test_two_models_into_one_folder_never_mix_and_a_dead_runs_lock_is_taken_over(
    tmp_path: Path, model_path: Path, model
) -> None:
    photos = small_photos(tmp_path / "in", 6)
    out = tmp_path / "out"
    die_while_writing("landing:_overlay.png", model_path, photos, out)  # run A killed: its lock file stays
    assert (out / LOCK_NAME).exists()
    other = channel_model(tmp_path / "other.onnx", sharpness=5.0)
    done = run_cli(*_analyze(tmp_path / "in", out=out, model=other))  # run B: another model
    _no_traceback(done)
    assert done.returncode == 1
    assert "written by an unfinished run of another model or mode" in done.stderr
    assert (out / LOCK_NAME).exists(), "B left photo 0 to A: the lock file keeps naming it"
    summary = run_batch(model, photos, out)  # A again: takes the lock over, finishes its photo 0
    assert summary.done == (photos[0],)
    assert all("another model or mode" in f.reason for f in summary.failures) and len(summary.failures) == 5
    assert not (out / LOCK_NAME).exists()
    shas = set()
    for photo in photos:  # each photo's files are those of the run that wrote its record
        record = ownership.load_record(out / f"{output_stems(photos)[photo]}.json")
        assert record is not None
        shas.add(record["model_sha256"])
        for name, proof in record["files"].items():
            assert ownership.proof_holds(out / name, proof), name
    assert shas == {model.sha256, SegmentationModel.load(other, device="cpu").sha256}


# only files proven ours are replaced -------------------------------------------------------------
def test_out_equal_to_the_input_folder_replaces_no_photo_and_resumes(
    tmp_path: Path, model_path: Path
) -> None:
    folder = tmp_path / "site"
    small_photos(folder, 3)
    (folder / "pipe_0001.png").rename(folder / "valve.png")
    (folder / "pipe_0002.png").rename(folder / "valve_mask.png")  # a photo named like an output
    photos_before = snapshot(folder)
    cmd = _analyze(folder, out=folder, model=model_path)
    first = run_cli(*cmd)
    _no_traceback(first)
    assert first.returncode == 1  # valve.png's mask would replace the photo valve_mask.png
    assert "its mask output valve_mask.png would replace a photo of this batch" in first.stderr
    now = snapshot(folder)
    assert {k: now[k] for k in photos_before} == photos_before
    status = {Path(r["file"]).name: r["status"] for r in _rows(folder)}
    assert status == {"pipe_0000.png": "ok", "valve.png": "failed", "valve_mask.png": "ok"}
    assert (folder / "valve_mask_mask.png").exists()  # the photo named like an output was analysed
    second = run_cli(*cmd)
    _no_traceback(second)
    assert "Left out 4 files Corroscope wrote" in second.stderr  # pipe_0000_* and valve_mask_*
    assert "3 photos: 0 analysed, 2 skipped" in second.stdout
    assert not list(folder.glob("*_mask_mask_mask.png")) and not list(folder.glob("pipe_0000_mask_*"))
    run_files = (CSV_NAME, "results.json")  # rewritten by every run
    assert {k: snapshot(folder)[k] for k in now if k not in run_files} == {
        k: v for k, v in now.items() if k not in run_files
    }


def test_files_in_the_output_folder_that_are_not_ours_are_never_replaced(tmp_path: Path, model) -> None:
    photos = small_photos(tmp_path / "in", 3)
    out = tmp_path / "out"
    out.mkdir()
    (out / "pipe_0000.json").write_text('{"inspector": "notes of mine"}')
    (out / "pipe_0001_mask.png").write_bytes(photos[1].read_bytes())  # a mask we did not write
    (out / ".draft.part").write_text("the user's own file")
    before = snapshot(out)
    summary = run_batch(model, photos, out)
    reasons = {f.path.name: f.reason for f in summary.failures}
    kept = "; it was not replaced (move it away, or ask to overwrite with --overwrite)"
    assert reasons == {
        "pipe_0000.png": f"pipe_0000.json is not a Corroscope record (it lacks our fields){kept}",
        "pipe_0001.png": "pipe_0001_mask.png is in the way: it was written by something else, not by "
        f"Corroscope for this photo{kept}",
    }
    assert summary.done == (photos[2],)
    now = snapshot(out)
    assert {k: now[k] for k in before} == before and (
        out / ".draft.part"
    ).read_text() == "the user's own file"
    assert not (out / "pipe_0000_mask.png").exists(), "nothing of a blocked photo is written"
    # edited by hand after we wrote it, or from another schema: not ours either, and no traceback
    record_path = out / "pipe_0002.json"
    record = json.loads(record_path.read_text("utf-8"))
    for change, why in (
        ({"corroded_share": 1.0}, "was changed after Corroscope wrote it (edited by hand?)"),
        ({"percent": "lots"}, "field 'percent' is missing or wrong"),
        ({"schema": 1}, f"was written by another version (record schema 1, not {RESULT_SCHEMA})"),
    ):
        record_path.write_text(json.dumps({**record, **change}), "utf-8")
        again = run_batch(model, photos[2:], out)
        assert why in again.failures[0].reason
        row = {r["file"]: r for r in read_csv(again.csv_path)}[str(photos[2])]
        assert (row["status"], row["error"]) == ("failed", again.failures[0].reason)
    assert run_batch(model, photos, out, BatchOptions(overwrite=True)).ok  # asked: replaced


def test_results_csv_keeps_the_rows_of_other_inputs_and_refuses_a_foreign_table(
    tmp_path: Path, model, model_path: Path
) -> None:
    a = small_photos(tmp_path / "a", 2)
    b = [p.rename(p.with_name(f"b_{p.name}")) for p in small_photos(tmp_path / "b", 2)]
    out = tmp_path / "out"
    run_batch(model, a, out)
    run_batch(model, b, out)
    assert [r["file"] for r in _rows(out)] == [str(p) for p in (*a, *b)]
    run_batch(model, a[:1], out)  # a rerun of some: their rows replaced in place
    assert [r["file"] for r in _rows(out)] == [str(p) for p in (*a, *b)]
    (out / CSV_NAME).write_text("date,inspector\n2026-01-01,me\n")
    foreign = (out / CSV_NAME).read_bytes()
    summary = run_batch(model, a, out)
    assert (
        summary.csv_error and "has other columns" in summary.csv_error and "not replaced" in summary.csv_error
    )
    assert (out / CSV_NAME).read_bytes() == foreign
    done = run_cli(*_analyze(tmp_path / "a", out=out, model=model_path))
    assert done.returncode == 1 and "the CSV could not be written" in done.stderr
    _no_traceback(done)


# names that are not UTF-8 --------------------------------------------------------------------------
@pytest.mark.skipif(sys.platform != "linux", reason="file names of any bytes")
def test_a_name_that_is_not_utf8_gets_its_outputs_csv_and_console_lines(
    tmp_path: Path, model_path: Path
) -> None:
    folder = tmp_path / "in"
    (photo,) = small_photos(folder, 1)
    raw = os.fsencode(folder) + b"/caf\xe9 \xff.png"
    os.rename(os.fsencode(photo), raw)
    out = tmp_path / "out"
    for expected in ("1 analysed", "1 skipped"):
        done = run_cli(*_analyze(folder, out=out, model=model_path))
        assert done.returncode == 0, done.stderr
        _no_traceback(done)
        assert expected in done.stdout and "caf\\xe9 \\xff.png" in done.stderr
    rows = _rows(out)
    (row,) = rows
    assert row["file"] == "caf\\xe9 \\xff.png" and row["status"] == "ok"  # relative to the folder given
    (record,) = [json.loads(p.read_text("utf-8")) for p in out.glob("*.json") if p.name != "results.json"]
    assert record["file"] == f"{folder}/caf\\xe9 \\xff.png" and record["relative_path"] == row["file"]


# the console ----------------------------------------------------------------------------------------
def _shell(command: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", "-c", command], capture_output=True, text=True, timeout=timeout, env=cli_env(), cwd=ROOT
    )


@posix
@pytest.mark.parametrize(
    "redirect", ["| head -1", "> /dev/full", "2>&-", ">&- 2>&-", "2> /dev/full | head -c 10"], ids=str
)
def test_the_batch_finishes_whatever_happens_to_the_console(
    tmp_path: Path, model_path: Path, redirect: str
) -> None:
    small_photos(tmp_path / "in", 6)
    out = tmp_path / "out"
    cli = " ".join(f"'{a}'" for a in cli_command(*_analyze(tmp_path / "in", out=out, model=model_path)))
    done = _shell(f"{cli} {redirect}; echo rc=$? >&2" if "|" not in redirect else f"{cli} {redirect}")
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr
    rows = _rows(out)
    assert len(rows) == 6 and {r["status"] for r in rows} == {"ok"}
    assert not (out / LOCK_NAME).exists()


def _ctrl_c_twice(cmd: list[str], after_s: float = 0.0, at_photo: int = 0) -> tuple[int | None, str]:
    """Start `cmd`; `after_s` seconds in, or once its progress reaches `at_photo`, press Ctrl+C twice,
    50 ms apart; (exit code, stderr)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=cli_env())
    assert proc.stderr is not None
    seen = []
    if at_photo:
        for line in proc.stderr:  # one line per photo when stderr is not a terminal
            seen.append(line)
            if line.startswith(f"[{at_photo}/"):
                break
    else:
        time.sleep(after_s)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=120)
    return proc.returncode, "".join(seen) + err


@posix
def test_two_ctrl_c_50_ms_apart_always_exit_130(tmp_path: Path, model_path: Path) -> None:
    """While the command loads, while it lists, and at photos all through the batch up to the last but
    one (where the rest of the work can end within the 50 ms)."""
    small_photos(tmp_path / "in", 30, size=(600, 800))
    moments = [{"after_s": 0.15}, {"after_s": 0.4}, *({"at_photo": n} for n in (1, 2, 8, 15, 22, 28, 29))]
    codes = []
    for i, when in enumerate(moments):
        cmd = cli_command(*_analyze(tmp_path / "in", out=tmp_path / f"out{i}", model=model_path))
        rc, err = _ctrl_c_twice(cmd, **when)
        assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
        codes.append((rc, when, err[-300:]))
    assert [c[0] for c in codes] == [130] * len(moments), [c for c in codes if c[0] != 130]


def test_the_stem_of_a_name_of_bytes_stays_in_utf8() -> None:
    stem = safe_stem(os.fsdecode(b"caf\xe9"))
    assert stem == "caf_" and stem.encode("utf-8")
