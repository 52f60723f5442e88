"""Memory of big photos through the real CLI: a photo's peak resident memory is bounded by its pixel count
(`BYTES_PER_PIXEL`, the promise in docs/reliability.md) above what the same command takes for a tiny
photo, and the default (pipelined) engine runs fewer big photos at once so a batch stays inside it too.

The photos are flat and red, which the channel-argmax model calls corrosion everywhere: the worst case
for the patch statistics. A flat PNG compresses to almost nothing, so a 16 MP one is cheap to write."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.core.files import write_png
from tests.reliability.conftest import ROOT, cli_command, cli_env

resource = pytest.importorskip("resource", reason="peak RSS of a child process needs the resource module")

BYTES_PER_PIXEL = 16  # docs/reliability.md: one photo takes at most this much above a tiny photo's run
SLACK_MB = 64  # allocator noise and the run's own bookkeeping
SIDE = 4000  # 16 MP
RED = (200, 40, 30)

# Runs the CLI as its only child and prints the child's peak resident memory in bytes (Linux: ru_maxrss
# is in kB), so no other child of the test process can raise the figure.
_PEAK = (
    "import resource, subprocess, sys; rc = subprocess.run(sys.argv[1:]).returncode; "
    "print('PEAK', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024); sys.exit(rc)"
)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss in kB on Linux")


def _peak_rss(*args: str | os.PathLike[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    """(peak resident bytes, stdout + stderr) of `corroscope ARGS...` run to its end (exit 0 asserted)."""
    proc = subprocess.run(
        [sys.executable, "-c", _PEAK, *cli_command(*args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=600,
        env={**cli_env(), **(env or {})},
        cwd=ROOT,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    peak = [line for line in proc.stdout.splitlines() if line.startswith("PEAK ")]
    return int(peak[-1].split()[1]), out


def _flat_photos(folder: Path, count: int, side: int) -> list[Path]:
    folder.mkdir(parents=True)
    image = np.empty((side, side, 3), np.uint8)
    image[...] = RED
    return [write_png(folder / f"red_{i}.png", image) for i in range(count)]


@pytest.fixture
def baseline(tmp_path: Path, model_path: Path) -> int:
    """Peak memory of the same command on one tiny photo: the interpreter, the libraries and the model."""
    _flat_photos(tmp_path / "tiny", 1, 32)
    peak, _ = _peak_rss("analyze", tmp_path / "tiny", "--out", tmp_path / "tiny-out", "--model", model_path)
    return peak


def _check(peak: int, baseline: int, pixels: int) -> None:
    figures = f"peak {peak / 2**20:.0f} MB, tiny photo {baseline / 2**20:.0f} MB, "
    figures += f"{(peak - baseline) / pixels:.1f} bytes a pixel above it"
    print("big photo figures:", figures)
    assert peak <= baseline + BYTES_PER_PIXEL * pixels + (SLACK_MB << 20), figures


def test_a_big_corroded_photo_stays_within_its_bytes_per_pixel(
    tmp_path: Path, model_path: Path, baseline: int
) -> None:
    _flat_photos(tmp_path / "big", 1, SIDE)
    out = tmp_path / "out"
    peak, text = _peak_rss("analyze", tmp_path / "big", "--out", out, "--model", model_path)
    assert "corroded 100.00 %" in text, text  # the worst case for the patch statistics
    assert (out / "red_0_overlay.jpg").is_file() and (out / "red_0_mask.png").is_file()
    _check(peak, baseline, SIDE**2)


def test_the_default_engine_runs_fewer_big_photos_at_once(
    tmp_path: Path, model_path: Path, baseline: int
) -> None:
    """Three 16 MP photos with the default engine and a batch budget that holds one of them: run one at a
    time, the batch peaks like a single photo (three at once would take three photos' memory)."""
    _flat_photos(tmp_path / "three", 3, SIDE)
    env = {"CORROSCOPE_BATCH_MEMORY_MB": "300"}
    peak, text = _peak_rss(
        "analyze", tmp_path / "three", "--out", tmp_path / "out", "--model", model_path, env=env
    )
    assert "3 analysed" in text, text
    assert "photos at once" in text, text  # the pipelined engine ran them
    _check(peak, baseline, SIDE**2)
