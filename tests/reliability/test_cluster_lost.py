"""A Dask scheduler that goes away mid-batch is a stop, not a crash: the photos it had not returned are
"not analysed", results.csv and results.json list the finished ones, the folder is released, and the
command says so in one line with its own exit status; the same command then resumes."""

from __future__ import annotations

import contextlib
import csv
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app import analyze_cli, cli
from app.core import outlock
from app.core.batch_types import FAILED, PlannedPhoto
from app.core.dask_client import LOST_REASON, SchedulerCalls
from app.core.errors import EngineLost
from app.core.export import CSV_NAME
from app.core.files import write_png
from app.core.synthetic import synthetic_pipe

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")


class _Client:
    """What `SchedulerCalls` asks of a Dask client; its scheduler goes away at the first call."""

    status = "running"

    def nthreads(self, callback_timeout: float) -> dict[str, int]:
        self.status = "connecting"  # what distributed's client does when its connection closes
        raise OSError("Timed out trying to connect to tcp://127.0.0.1:8799 after 20 s")

    def cancel(self, futures: list) -> None:
        raise AssertionError("nothing is asked of a lost scheduler")


class _Future:
    def __init__(self, exc: Exception | None = None) -> None:
        self.exc = exc

    def done(self) -> bool:
        return self.exc is not None

    def result(self) -> None:
        raise self.exc


class _Event:
    def set(self) -> None:
        raise AssertionError("nothing is asked of a lost scheduler")

    clear = set


def test_each_call_to_a_lost_scheduler_is_engine_lost_and_nothing_more_is_asked() -> None:
    from distributed.client import FutureCancelledError

    item = PlannedPhoto(0, Path("p.png"), "p", ())
    running = SchedulerCalls(_Client(), "tcp://127.0.0.1:8799")
    failed = running.outcome(item, _Future(ValueError("bad")))  # a photo that raised fails, alone
    assert failed is not None and failed.state == FAILED and "ValueError: bad" in failed.failure.reason
    with pytest.raises(
        EngineLost, match=r"lost the Dask scheduler at tcp://127\.0\.0\.1:8799: OSError: Timed"
    ):
        running.nthreads()
    assert running.lost
    calls = SchedulerCalls(running.client, "tcp://127.0.0.1:8799")  # a client already reconnecting
    with pytest.raises(EngineLost, match="the connection to it closed"):
        calls.outcome(item, _Future(FutureCancelledError("k", LOST_REASON)))
    with pytest.raises(EngineLost):  # a photo sent as the connection closed: never finished, not waited for
        calls.wait(_Future(), lambda: False, _Event())
    with pytest.raises(EngineLost):
        calls.stop(lambda: True, _Event())
    calls.cancel([object()])  # in a `finally`: neither raises nor waits
    calls.forget(_Event())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _dask(*args: str) -> subprocess.Popen:
    """A `dask scheduler` / `dask worker` process, in a process group of its own (killed as a whole)."""
    return subprocess.Popen(
        [sys.executable, "-m", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


@contextlib.contextmanager
def _cluster(distributed) -> Iterator[tuple[str, subprocess.Popen]]:
    """A real scheduler and one worker process on loopback, as `dask scheduler` and `dask worker` start
    them; (address, the scheduler's process)."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = _dask(
        "distributed.cli.dask_scheduler",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--dashboard-address",
        ":0",
    )
    procs = [scheduler]
    try:
        procs.append(_dask("distributed.cli.dask_worker", address, "--nthreads", "1", "--no-dashboard"))
        with distributed.Client(address, timeout="30s") as client:
            client.wait_for_workers(1, timeout=60)
        yield address, scheduler
    finally:
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


def _rows(out: Path) -> list[dict[str, str]]:
    with open(out / CSV_NAME, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.slow
def test_a_scheduler_killed_mid_batch_is_a_stop_with_the_csv_written_and_the_folder_released(
    tmp_path: Path, tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    distributed = pytest.importorskip("distributed")
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(12):
        write_png(folder / f"p{i:02d}.png", synthetic_pipe(seed=i, size=(240, 320))[0])
    out = tmp_path / "out"
    args = ["analyze", str(folder), "--out", str(out), "--model", str(tiny_model_path), "--device", "cpu"]
    args += ["--mode", "tiles"]
    finished = analyze_cli.ProgressBar.finished
    with _cluster(distributed) as (address, scheduler):

        def kill_after_three(bar: analyze_cli.ProgressBar, outcome) -> None:
            finished(bar, outcome)
            if outcome.index == 2:  # the scheduler dies with photos sent and not yet returned
                os.killpg(scheduler.pid, signal.SIGKILL)
                scheduler.wait(timeout=30)

        monkeypatch.setattr(analyze_cli.ProgressBar, "finished", kill_after_three)
        start = time.monotonic()
        rc = cli.main([*args, "--scheduler", address])
        seconds = time.monotonic() - start
    captured = capsys.readouterr()
    assert rc == analyze_cli.EXIT_ENGINE_LOST == 3, captured.err
    assert "Traceback" not in captured.err and "Failed to reconnect" not in captured.err, captured.err
    lost = [line for line in captured.err.splitlines() if line.startswith("error: ")]
    assert len(lost) == 1 and lost[0].startswith(f"error: lost the Dask scheduler at {address}: "), lost
    assert lost[0].endswith("; run the same command again to resume")
    assert seconds < 15, "the lost scheduler was not waited for (Dask's 20 s reconnection)"
    rows = _rows(out)
    done = [r for r in rows if r["status"] == "ok"]
    assert len(rows) == 12 and len(done) >= 3
    assert {r["status"] for r in rows[len(done) :]} == {"not analysed"}, "none failed for the lost scheduler"
    analysed = int(re.search(r"12 photos: (\d+) analysed, 0 failed", captured.out).group(1))
    # a photo its worker finished as the scheduler went is listed from its record, though never counted
    assert 3 <= analysed <= len(done) <= analysed + 1
    assert (out / "results.json").is_file()
    assert not (out / outlock.LOCK_NAME).exists(), "the output folder was left locked"
    # The same command (here on this machine) resumes: the finished photos are skipped.
    monkeypatch.undo()
    assert cli.main(args) == cli.EXIT_OK
    assert f"{len(done)} skipped" in capsys.readouterr().out
    assert [r["status"] for r in _rows(out)] == ["ok"] * 12
