"""An expensive test artefact built once per test run, also when pytest-xdist runs the tests in several
worker processes: the first worker to ask builds it under a lock, the others wait and reuse it."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

_DONE = ".built"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    import fcntl  # POSIX; the suite runs in parallel only where pytest-xdist and fork-style workers do

    with path.open("a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def built_once(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], object]) -> Path:
    """The folder `name`, filled by `build(folder)` once per run: in this session's temporary folder,
    or, under xdist, in the folder that all workers of this run share (the parent of each one's)."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        folder = factory.mktemp(name)
        build(folder)
        return folder
    root = factory.getbasetemp().parent
    folder = root / name
    with _locked(root / f"{name}.lock"):
        if not (folder / _DONE).exists():
            shutil.rmtree(folder, ignore_errors=True)  # a worker's build that failed midway
            folder.mkdir()
            build(folder)
            (folder / _DONE).touch()
    return folder
