"""scripts/gpu-check as a dry run on the CPU (no install, a tiny model): every step runs and reports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from app.core.inference import shrink_area
from app.core.synthetic import synthetic_pipe
from bench import gpu_check

ROOT = Path(__file__).resolve().parents[2]
QUICK = ["--batches", "1", "2", "--repeats", "1", "--photo-size", "320x240"]


def test_the_script_runs_every_step_on_the_cpu(tiny_model_path: Path) -> None:
    env = {**os.environ, "GPU_CHECK_PYTHON": sys.executable, "QT_QPA_PLATFORM": "offscreen"}
    cmd = [str(ROOT / "scripts" / "gpu-check"), "--device", "cpu", "--model", str(tiny_model_path), *QUICK]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    out = proc.stdout
    assert "Selftest passed." in out
    assert "Argmax agreement cpu vs cpu on 3 sample photos: 100.000 %" in out
    for batch in (1, 2):
        for io in ("numpy", "io_binding"):
            assert f"| {batch} | {io} |" in out
    assert "320x240 photo in memory (segment): resize" in out and "tiles" in out
    assert "GPU check passed." in out


def test_agreement_below_the_threshold_fails(tiny_model_path: Path, capsys) -> None:
    rc = gpu_check.main(
        ["--device", "cpu", "--model", str(tiny_model_path), "--min-agreement", "1.5", *QUICK]
    )
    assert rc == 1
    assert "agreement 100.000 % < 150.0 %" in capsys.readouterr().err


def test_the_network_sees_what_both_modes_feed_it(tiny_model) -> None:
    rgb, _ = synthetic_pipe(0, 200)
    batch = gpu_check.network_inputs(tiny_model, rgb)
    assert batch.shape == (1 + 4, 32, 32, 3)  # the whole photo, then 2 x 2 tiles of the 56 px fine grid
    np.testing.assert_array_equal(batch[0], shrink_area(rgb, 32, 32))
