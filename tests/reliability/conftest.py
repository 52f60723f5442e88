"""Fixtures of the reliability suite: tiny models, generated photo folders, the real CLI as a process."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.files import write_png
from app.core.synthetic import synthetic_pipe

ROOT = Path(__file__).resolve().parents[2]


def cli_env() -> dict[str, str]:
    """The environment of a `corroscope` child process: this checkout first on the path, no display."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def cli_command(*args: str | os.PathLike[str]) -> list[str]:
    """`corroscope ARGS...`: the installed entry point next to this Python, else `python -m app`
    (the same `main`) when the project is not installed."""
    script = Path(sys.executable).with_name("corroscope.exe" if os.name == "nt" else "corroscope")
    head = [str(script)] if script.is_file() else [sys.executable, "-m", "app"]
    return [*head, *map(str, args)]


def run_cli(*args: str | os.PathLike[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli_command(*args),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        env=cli_env(),
        cwd=ROOT,
    )


def read_csv(path: Path, drop: tuple[str, ...] = ("seconds", "analysed_at")) -> list[dict[str, str]]:
    """Rows of a results CSV, without the columns that differ between two runs of the same photos."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [{k: v for k, v in row.items() if k not in drop} for row in csv.DictReader(fh)]


def small_photos(
    folder: Path, count: int, size: tuple[int, int] = (24, 32), distinct: int = 16
) -> list[Path]:
    """`count` small synthetic pipe photos (PNG); after `distinct` different ones, the pictures repeat
    (under new names), so a thousand photos take a second to write."""
    folder.mkdir(parents=True, exist_ok=True)
    pictures = [
        synthetic_pipe(seed=i, size=size, rust=0.05 + 0.02 * i)[0] for i in range(min(count, distinct))
    ]
    return [write_png(folder / f"pipe_{i:04d}.png", pictures[i % len(pictures)]) for i in range(count)]


@pytest.fixture(scope="session")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The channel-argmax test model (fixed 32x32 input, default classes) as a file."""
    from tests.helpers.tiny_models import channel_model

    return channel_model(tmp_path_factory.mktemp("rel-models") / "channel.onnx")


@pytest.fixture(scope="session")
def model(model_path: Path):
    from app.core.model import SegmentationModel

    return SegmentationModel.load(model_path, device="cpu")


@pytest.fixture
def fast_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder in memory (/dev/shm) where there is one: every output is fsync'ed, and 600 fsyncs on a
    CI disk take longer than the rest of the test. Else the test's temporary folder."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        folder = Path(tempfile.mkdtemp(prefix="corroscope-reliability-", dir=shm))
        yield folder
        shutil.rmtree(folder, ignore_errors=True)
    else:
        yield tmp_path
