"""Engines: the pipelined engine and a Dask cluster give the records, files and CSV of a serial run;
a cluster worker killed mid-run has its photos run again; without Dask the CLI says how to get it."""

from __future__ import annotations

import csv
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

from app import analyze_cli, cli
from app.core import cluster_task, exporters, outlock
from app.core.engines import DaskEngine, PipelinedEngine, SerialEngine, cluster_photo
from app.core.export import CSV_NAME
from app.core.files import write_png
from app.core.inference import InferenceOptions
from app.core.model import SegmentationModel
from app.core.pipeline import (
    DONE,
    FAILED,
    SKIPPED,
    BatchOptions,
    PhotoOutcome,
    plan_batch,
    process_photo,
    run_batch,
)
from app.core.synthetic import synthetic_pipe
from tests.helpers.outputs import RUN_DEPENDENT, comparable
from tests.reliability.integrity import assert_only_whole_files

EXPORTS = ("mask", "overlay", exporters.OVERLAY_JPEG_KIND, "json")


def _photos(folder: Path, count: int, size: tuple[int, int] = (96, 128)) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    photos = [write_png(folder / f"p{i:02d}.png", synthetic_pipe(seed=i, size=size)[0]) for i in range(count)]
    (folder / "p99_broken.png").write_bytes(b"not a png")
    return [*photos, folder / "p99_broken.png"]


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [{k: v for k, v in row.items() if k not in RUN_DEPENDENT} for row in csv.DictReader(fh)]


def _record(outcome: PhotoOutcome) -> dict | None:
    return None if outcome.record is None else comparable(dict(outcome.record))


def _files(out: Path) -> dict[str, bytes]:
    """Every output but the CSV; the JSON without its timing."""
    found = {}
    for f in sorted(out.iterdir()):
        if f.name in (CSV_NAME, "results.json") or f.name.startswith("."):  # run-wide files, the lock
            continue
        if f.suffix == ".json":
            found[f.name] = json.dumps(comparable(json.loads(f.read_bytes())))
        else:
            found[f.name] = f.read_bytes()
    return found


def _loopback_cluster(distributed, workers: int, threads: int, **more):
    """A real Dask LocalCluster of worker processes on loopback only (no dashboard port to collide)."""
    return distributed.LocalCluster(
        n_workers=workers,
        threads_per_worker=threads,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        **more,
    )


def test_pipelined_gives_the_records_files_and_order_of_serial(
    tmp_path: Path, tiny_model: SegmentationModel
) -> None:
    photos = _photos(tmp_path / "in", 9)
    options = BatchOptions(inference=InferenceOptions(mode="tiles"), exports=EXPORTS)
    serial = run_batch(tiny_model, photos, tmp_path / "serial", options, engine=SerialEngine())
    order: list[tuple[str, int]] = []
    piped = run_batch(
        tiny_model,
        photos,
        tmp_path / "piped",
        options,
        engine=PipelinedEngine(photos=3),
        started=lambda i, n, p: order.append(("start", i)),
        progress=lambda o: order.append(("done", o.index + 1)),
    )
    assert [o.state for o in piped.outcomes] == [DONE] * 9 + [FAILED]
    assert [(o.index, o.state, _record(o)) for o in piped.outcomes] == [
        (o.index, o.state, _record(o)) for o in serial.outcomes
    ]
    assert piped.failures == serial.failures
    assert order == [(kind, i) for i in range(1, 11) for kind in ("start", "done")]  # input order
    assert _files(tmp_path / "piped") == _files(tmp_path / "serial")
    assert _csv(piped.csv_path) == _csv(serial.csv_path)


def test_pipelined_cancel_finishes_the_photos_in_flight_and_resumes(
    tmp_path: Path, tiny_model: SegmentationModel
) -> None:
    photos = _photos(tmp_path / "in", 12)[:-1]
    whole = run_batch(tiny_model, photos, tmp_path / "whole")
    seen: list[PhotoOutcome] = []
    engine = PipelinedEngine(photos=2)
    first = run_batch(
        tiny_model,
        photos,
        tmp_path / "out",
        progress=seen.append,
        cancelled=lambda: len(seen) >= 2,
        engine=engine,
    )
    assert first.cancelled and 2 <= len(first.done) <= 2 + engine.photos + 1
    assert [o.index for o in first.outcomes] == list(range(len(first.outcomes)))
    listed = _csv(first.csv_path)
    finished = [r for r in listed if r["status"] == "ok"]
    assert len(finished) == len(first.done), "the CSV lists exactly the finished photos as finished"
    assert len(listed) == len(photos) and {r["status"] for r in listed[len(finished) :]} == {"not analysed"}
    second = run_batch(tiny_model, photos, tmp_path / "out", engine=engine)
    assert second.ok and second.skipped == first.done
    assert _csv(second.csv_path) == _csv(whole.csv_path)


def test_a_retried_cluster_photo_replaces_the_leftovers_of_its_dead_attempt(
    tmp_path: Path, tiny_model: SegmentationModel
) -> None:
    photos = _photos(tmp_path / "in", 2)[:-1]
    out = tmp_path / "out"
    out.mkdir()
    options = BatchOptions(model_path=tiny_model.path, device="cpu")
    first, second = plan_batch(photos, out, options, tiny_model).photos
    mask = dict(first.targets)["mask"]
    # the dead attempt noted its files in the folder's lock file, then wrote the mask and died
    names = tuple(p.name for _, p in first.targets)
    outlock.note_pending(out, outlock.Pending(first.source, tiny_model.sha256, "resize", names))
    mask.write_bytes(b"the mask of an attempt that died before its JSON")
    assert cluster_photo(first, options).state == DONE
    assert mask.read_bytes().startswith(b"\x89PNG")
    # An attempt that died after its JSON had finished the photo: done, neither redone nor refused.
    assert process_photo(second, options, tiny_model).state == DONE
    before = {p: p.read_bytes() for _, p in second.targets}
    again = cluster_photo(second, options)
    assert again.state == DONE and again.record["file"] == str(photos[1])
    assert {p: p.read_bytes() for _, p in second.targets} == before


def test_workers_without_dask_say_how_to_install_it(
    tmp_path: Path, tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    _photos(tmp_path / "in", 1)
    monkeypatch.setitem(sys.modules, "distributed", None)  # what an install without the extra sees
    args = ["analyze", str(tmp_path / "in"), "--out", str(tmp_path / "o"), "--model", str(tiny_model_path)]
    assert cli.main([*args, "--workers", "2"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "needs Dask, which is not installed" in err and "pip install '.[cluster]'" in err
    assert not (tmp_path / "o").exists()


@pytest.fixture
def distributed():
    return pytest.importorskip("distributed")  # the `cluster` extra (in `dev` too)


@pytest.mark.slow
def test_workers_2_on_a_local_cluster_gives_the_csv_of_serial(
    tmp_path: Path, tiny_model_path: Path, tiny_model: SegmentationModel, distributed, capsys
) -> None:
    photos = _photos(tmp_path / "in", 6)
    options = BatchOptions(input_folders=(tmp_path / "in",))  # the CLI's `file` cells are relative to it
    serial = run_batch(tiny_model, photos, tmp_path / "serial", options)  # mask, overlay PNG, JSON
    args = ["analyze", str(tmp_path / "in"), "--out", str(tmp_path / "o"), "--model", str(tiny_model_path)]
    args += ["--device", "cpu", "--overlay-png"]
    assert cli.main([*args, "--workers", "2"]) == cli.EXIT_FAILED  # the broken photo
    captured = capsys.readouterr()
    assert "Dask cluster of 2 worker processes" in captured.err
    assert DaskEngine(workers=1).describe().startswith("on a Dask cluster of 1 worker process on")
    lines = [line for line in captured.err.splitlines() if line.startswith("[")]
    assert [line.split("]")[0] for line in lines] == [f"[{i}/7" for i in range(1, 8)]  # input order
    assert _csv(tmp_path / "o" / CSV_NAME) == _csv(serial.csv_path)
    assert _files(tmp_path / "o") == _files(tmp_path / "serial")
    assert cli.main([*args, "--workers", "2"]) == cli.EXIT_FAILED  # resume: nothing redone
    assert "6 skipped" in capsys.readouterr().out


@pytest.mark.slow
def test_a_killed_worker_has_its_photos_run_again(
    tmp_path: Path, tiny_model_path: Path, tiny_model: SegmentationModel, distributed
) -> None:
    photos = _photos(tmp_path / "in", 16, size=(480, 640))[:-1]
    options = BatchOptions(inference=InferenceOptions(mode="tiles"), model_path=tiny_model_path, device="cpu")
    serial = run_batch(tiny_model, photos, tmp_path / "serial", options)
    with (
        _loopback_cluster(distributed, 2, 1) as cluster,
        distributed.Client(cluster) as client,
    ):
        pids = client.run(os.getpid)
        killed = threading.Event()

        def kill_one(outcome: PhotoOutcome) -> None:
            busy = [addr for addr, keys in client.processing().items() if keys]
            if busy and not killed.is_set():  # a worker in the middle of a later photo
                killed.set()
                os.kill(pids[busy[0]], signal.SIGKILL)

        summary = run_batch(
            tiny_model,
            photos,
            tmp_path / "out",
            options,
            progress=kill_one,
            engine=DaskEngine(address=cluster.scheduler_address),
        )
        assert killed.is_set()
        assert set(client.run(os.getpid).values()) != set(pids.values()), "the nanny restarted a worker"
    assert summary.ok and summary.done == tuple(photos)
    assert _csv(summary.csv_path) == _csv(serial.csv_path)
    assert_only_whole_files(tmp_path / "out", temp_files_allowed=False)  # the killed one's temp file: gone
    states = [o.state for o in run_batch(tiny_model, photos, tmp_path / "out", options).outcomes]
    assert states == [SKIPPED] * len(photos)


@pytest.mark.slow
def test_a_cancelled_cluster_batch_lists_what_finished_and_resumes(
    tmp_path: Path, tiny_model_path: Path, tiny_model: SegmentationModel, distributed
) -> None:
    photos = _photos(tmp_path / "in", 10, size=(240, 320))[:-1]
    options = BatchOptions(inference=InferenceOptions(mode="tiles"), model_path=tiny_model_path, device="cpu")
    whole = run_batch(tiny_model, photos, tmp_path / "whole", options)
    seen: list[PhotoOutcome] = []
    first = run_batch(
        tiny_model,
        photos,
        tmp_path / "out",
        options,
        progress=seen.append,
        cancelled=lambda: len(seen) >= 2,
        engine=DaskEngine(workers=1),
    )
    # the photos begun by the stop finish and count (one worker: the one running, and the one after
    # it, when the worker took it before the stop reached the cluster); the rest never begin
    assert first.cancelled and 2 <= len(first.done) <= 4
    assert [o.index for o in first.outcomes] == list(range(len(first.done)))
    listed = _csv(first.csv_path)
    rows = [r for r in listed if r["status"] == "ok"]
    assert len(rows) == len(first.done), "the CSV lists as finished exactly the photos the batch counted"
    assert [r for r in _csv(whole.csv_path) if r in rows] == rows  # finished, in order
    assert {r["status"] for r in listed if r not in rows} <= {"not analysed"} and len(listed) == len(photos)
    second = run_batch(tiny_model, photos, tmp_path / "out", options, engine=DaskEngine(workers=1))
    assert second.ok and set(first.done) <= set(second.skipped)
    assert _csv(second.csv_path) == _csv(whole.csv_path)


@pytest.mark.slow
def test_scheduler_runs_on_an_existing_cluster_with_paths_made_absolute(
    tmp_path: Path, tiny_model_path: Path, distributed, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    photos = _photos(tmp_path / "in", 3)[:-1]
    monkeypatch.chdir(tmp_path)  # the photos and --out given relative, as a user on the client types them
    with _loopback_cluster(distributed, 1, 2) as cluster:
        args = ["analyze", "in/p00.png", "in/p01.png", "in/p02.png", "--out", "o", "--device", "cpu"]
        rc = cli.main([*args, "--model", str(tiny_model_path), "--scheduler", cluster.scheduler_address])
    err = capsys.readouterr().err
    assert rc == cli.EXIT_OK, err
    assert f"on the Dask cluster at {cluster.scheduler_address}" in err
    # the provider is the workers' own: this machine's ("on CPU (CUDA not available ...)") says nothing
    model_line = next(line for line in err.splitlines() if line.startswith("Model: "))
    assert model_line.endswith(analyze_cli.ON_THE_CLUSTER) and " on CPU" not in model_line, model_line
    assert [r["file"] for r in _csv(tmp_path / "o" / CSV_NAME)] == [str(p) for p in photos]  # absolute


@pytest.mark.parametrize(
    "address",
    ["notaurl", "http://127.0.0.1:8786", "tcp://[::1", "tcp://127.0.0.1:8786/../x", "tcp://127.0.0.1:99999"],
)
def test_a_malformed_scheduler_address_is_a_usage_error_before_anything_loads(
    tmp_path: Path, address: str, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    _photos(tmp_path / "in", 1)

    def no_model(*_args, **_kwargs):
        raise AssertionError("the model was loaded for a batch that cannot run")

    monkeypatch.setattr(analyze_cli, "load_model", no_model)
    args = ["analyze", str(tmp_path / "in"), "--out", str(tmp_path / "o"), "--scheduler", address]
    assert cli.main(args) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert f"--scheduler {address} is not a Dask scheduler address" in err and "tcp://HOST:PORT" in err
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_an_unreachable_scheduler_is_an_error_and_frees_the_folder(
    tmp_path: Path, tiny_model_path: Path, distributed, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    _photos(tmp_path / "in", 1)
    monkeypatch.setattr(DaskEngine, "connect_timeout", "1s")
    with socket.socket() as sock:  # a port just freed: nothing answers there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    args = ["analyze", str(tmp_path / "in"), "--out", str(tmp_path / "o"), "--model", str(tiny_model_path)]
    assert cli.main([*args, "--scheduler", f"tcp://127.0.0.1:{port}"]) == cli.EXIT_FAILED
    err = capsys.readouterr().err
    assert f"error: cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in err
    assert "Traceback" not in err
    assert not (tmp_path / "o" / outlock.LOCK_NAME).exists(), "the output folder was left locked"


@pytest.mark.slow
def test_a_local_worker_closed_mid_photo_keeps_quiet(distributed, capfd) -> None:
    """A second Ctrl+C closes the cluster under a running photo: Dask's worker would say "Async
    instruction ... ended with CancelledError" on the console. Its errors still show."""
    with (
        _loopback_cluster(
            distributed, 1, 1, silence_logs=logging.WARNING, preload=[cluster_task.PRELOAD]
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        running = client.submit(time.sleep, 5, pure=False)
        while not any(client.processing().values()):
            time.sleep(0.05)
        time.sleep(0.5)  # the worker thread is in the task
        client.run(logging.getLogger("distributed.worker").error, "an error of Dask's")
        assert not running.done()
    err = capfd.readouterr().err
    assert "CancelledError" not in err
    assert "an error of Dask's" in err
