"""Ctrl+C in a terminal signals the whole foreground process group: with `--workers N` that is the
Dask workers too. The batch must stop as after one photo on a single process, and say what the CSV says."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reliability.conftest import cli_command, cli_env, read_csv, small_photos

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups"),
    pytest.mark.slow,
]
_PROGRESS = re.compile(r"^\[(\d+)/(\d+)\] ")


def _run_and_press(cmd: list[str], at: int, times: int = 1) -> tuple[int, str]:
    """Start `cmd` as a terminal's foreground job (a process group of its own); when its progress
    reaches photo `at`, SIGINT the group as Ctrl+C does (`times` times, the second once the first
    was taken); (rc, stderr). Whatever is left of the group afterwards is killed."""
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env(), start_new_session=True
    )
    assert proc.stderr is not None
    seen, sent = [], 0
    try:
        for line in proc.stderr:  # one line per photo when stderr is not a terminal
            seen.append(line)
            match = _PROGRESS.match(line)
            if (sent == 0 and match and int(match.group(1)) >= at) or (
                sent and line.startswith("Stopping after this photo")
            ):
                os.killpg(proc.pid, signal.SIGINT)
                sent += 1
            if sent == times:
                break
        seen.append(proc.stderr.read())
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        _kill_group_left(proc.pid)
    assert proc.stdout is not None
    return proc.returncode, "".join(seen) + proc.stdout.read()


def _kill_group_left(pgid: int) -> None:
    """The workers of a parent that died before closing its cluster: they would outlive the test."""
    with contextlib.suppress(ProcessLookupError):  # none left: the group closed cleanly
        os.killpg(pgid, signal.SIGKILL)


def test_ctrl_c_to_the_group_stops_the_cluster_batch_and_counts_what_the_csv_lists(
    fast_dir: Path, model_path: Path
) -> None:
    pytest.importorskip("distributed")
    small_photos(fast_dir / "photos", 150, size=(120, 160))
    out = fast_dir / "out"
    cmd = cli_command("analyze", fast_dir / "photos", "--out", out, "--model", model_path, "--device", "cpu")
    rc, text = _run_and_press([*cmd, "--workers", "2"], at=10)
    assert rc == 1, text
    assert "Traceback" not in text and "Restarting worker" not in text, text  # the workers lived on
    assert "Interrupted." not in text, text  # nor did a worker leave with the command's message
    assert "Stopped before the end; run the same command again to resume." in text
    analysed = int(re.search(r"150 photos: (\d+) analysed", text).group(1))
    rows = [r for r in read_csv(out / "results.csv") if r["status"] == "ok"]
    records = [p for p in out.glob("*.json") if p.name != "results.json"]
    assert analysed == len(rows) == len(records), "the summary counts exactly what the CSV lists"
    assert 10 <= analysed < 60, "the photos queued behind the stop were not begun"
    assert not (out / ".corroscope.lock").exists()
