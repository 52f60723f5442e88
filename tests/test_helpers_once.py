"""`built_once`: an expensive artefact is built by the first worker that asks, reused by the others."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.helpers.once import built_once


class _WorkerTemp:
    """What a worker's `tmp_path_factory` answers under xdist: its own folder inside the run's."""

    def __init__(self, run: Path, worker: str) -> None:
        self.base = run / f"popen-{worker}"
        self.base.mkdir(parents=True, exist_ok=True)

    def getbasetemp(self) -> Path:
        return self.base


def test_workers_of_one_run_build_it_once(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    builds: list[Path] = []
    started = threading.Barrier(4)

    def build(folder: Path) -> None:
        builds.append(folder)
        (folder / "model.bin").write_bytes(b"x")

    def worker(out: list[Path], temp: _WorkerTemp) -> None:
        started.wait()
        out.append(built_once(temp, "shared-thing", build))

    folders: list[Path] = []
    temps = [_WorkerTemp(tmp_path, f"gw{i}") for i in range(4)]
    threads = [threading.Thread(target=worker, args=(folders, temp)) for temp in temps]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1 and len(folders) == 4 and len(set(folders)) == 1
    assert (folders[0] / "model.bin").read_bytes() == b"x"
    assert folders[0].parent == tmp_path  # the run's folder, where every worker looks


def test_a_build_that_failed_is_redone(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    temp = _WorkerTemp(tmp_path, "gw1")

    def broken(folder: Path) -> None:
        (folder / "half").write_text("")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        built_once(temp, "flaky-thing", broken)
    folder = built_once(
        temp,
        "flaky-thing",
        lambda f: (f / "whole").write_text(""),
    )
    assert sorted(p.name for p in folder.iterdir()) == [".built", "whole"]


def test_without_xdist_it_is_a_fresh_temporary_folder(tmp_path_factory, monkeypatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    folder = built_once(tmp_path_factory, "plain", lambda f: (f / "a").write_text(""))
    assert (folder / "a").is_file() and folder.parent == tmp_path_factory.getbasetemp()
