"""`corroscope project add` killed with SIGKILL half-way: the project opens, passes `PRAGMA
integrity_check`, and holds exactly the inspections committed before the kill (never half of one)."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.core.project import Project, add_inspection_photos
from tests.helpers.pipe_photos import photo_folder
from tests.reliability.conftest import cli_command, cli_env

pytestmark = [pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals"), pytest.mark.slow]
_PROGRESS = re.compile(r"^\[(\d+)/(\d+)\] ")
BEFORE = (dt.date(2022, 5, 1), dt.date(2023, 5, 1))
KILLED = dt.date(2024, 5, 1)


def _add_and_kill(target: str, folder: Path, model: Path, at: int, delay: float = 0.0) -> int:
    """Run `project add` as a process; SIGKILL it `delay` s after its progress reaches photo `at`."""
    cmd = cli_command(
        "project",
        "add",
        target,
        "--asset",
        "P-101-A",
        "--date",
        KILLED.isoformat(),
        folder,
        "--model",
        model,
        "--device",
        "cpu",
    )
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=cli_env())
    assert proc.stderr is not None
    try:
        for line in proc.stderr:
            match = _PROGRESS.match(line)
            if match and int(match.group(1)) >= at:
                time.sleep(delay)
                os.kill(proc.pid, signal.SIGKILL)
                break
    finally:
        proc.wait(timeout=120)
    return proc.returncode


def _committed(target: str, tmp_path: Path, tiny_model) -> dict[dt.date, int]:
    with Project.create(target) as project:
        for n, date in enumerate(BEFORE):
            folder = photo_folder(tmp_path / f"before{n}", 3, 0.1, seed=n)
            add_inspection_photos(project, tiny_model, "P-101-A", date, sorted(folder.iterdir()))
        return {i.date: i.photo_count for i in project.inspections()}


def _state(target: str) -> dict[dt.date, int]:
    with Project.open(target) as project:
        inspections = project.inspections()
        results = project.latest_results(i.id for i in inspections)
        for i in inspections:  # every stored photo has its result: nothing half-written
            assert len(results[i.id]) == i.photo_count
        return {i.date: i.photo_count for i in inspections}


def _integrity(target: str) -> None:
    if "://" not in target:
        with sqlite3.connect(target) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_killed_while_analysing_leaves_the_inspections_committed_before(
    target: str, tmp_path: Path, tiny_model, tiny_model_path: Path
) -> None:
    before = _committed(target, tmp_path, tiny_model)
    folder = photo_folder(tmp_path / "killed", 40, 0.2, seed=9)
    assert _add_and_kill(target, folder, tiny_model_path, at=20) == -signal.SIGKILL
    _integrity(target)
    assert _state(target) == before


@pytest.mark.parametrize("delay", [0.0, 0.06, 0.12])
def test_killed_as_it_stores_leaves_all_of_the_inspection_or_none(
    target: str, tmp_path: Path, tiny_model, tiny_model_path: Path, delay: float
) -> None:
    """Killed after the last photo is analysed, `delay` s on: on SQLite here the commit lands between
    0.05 and 0.1 s after the last progress line, so the delays straddle it. Whole or not at all."""
    before = _committed(target, tmp_path, tiny_model)
    folder = photo_folder(tmp_path / "killed", 120, 0.2, seed=9)
    rc = _add_and_kill(target, folder, tiny_model_path, at=120, delay=delay)
    assert rc in (-signal.SIGKILL, 0)  # 0: a fast machine finished before the kill
    _integrity(target)
    after = _state(target)
    assert after in (before, {**before, KILLED: 120})
    assert rc == -signal.SIGKILL or after == {**before, KILLED: 120}
    with Project.open(target) as project:  # and the project takes the next write
        again = add_inspection_photos(project, tiny_model, "P-101-A", KILLED, sorted(folder.iterdir())[:3])
    assert again.outcome is not None
    assert _state(target)[KILLED] in (3, 120)
