"""The benchmark harness in its smoke mode: every section runs and writes valid JSON. No timing is
asserted (benchmarks are not timed tests); `make bench` gives the real figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.once import built_once

pytest.importorskip("tensorflow", reason="the Keras rows need TensorFlow (the train extra)")
pytest.importorskip("PySide6", reason="the cold-start and UI-stall sections need PySide6")
pytest.importorskip("onnxruntime.quantization", reason="the int8 rows need onnxruntime's quantization")

ROOT = Path(__file__).resolve().parents[2]
ENGINES = {"keras_predict", "keras_tf_function", "ort_float", "ort_int8"}
STAGES = {
    "decode",
    "resize",
    "inference",
    "upsampling",
    "statistics",
    "measures",
    "full_decode",
    "overlay",
    "write",
}


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> tuple[dict, str]:
    """The smoke run's results and output, run once per test run (parallel workers share it)."""

    def build(tmp: Path) -> None:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "TF_CPP_MIN_LOG_LEVEL": "3"}
        command = [sys.executable, "-m", "bench.run", "--smoke", "--out", str(tmp / "results.json")]
        proc = subprocess.run(
            [*command, "--work", str(tmp / "work")],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        (tmp / "stdout.txt").write_text(proc.stdout, encoding="utf-8")

    tmp = built_once(tmp_path_factory, "bench", build)
    results = json.loads((tmp / "results.json").read_text(encoding="utf-8"))
    return results, (tmp / "stdout.txt").read_text(encoding="utf-8")


def test_network_rows_cover_every_engine_size_and_batch(smoke):
    results, _ = smoke
    net = results["network"]
    rows = net["rows"]
    assert {(r["engine"], r["size"], r["batch"]) for r in rows} == {
        (e, s, b) for e in ENGINES for s in (32, 64) for b in (1, 4)
    }
    assert all(r["median_ms"] > 0 and r["runs"] >= 3 and r["gflops"] > 0 for r in rows)
    assert net["gflop_per_image"]["64"] == pytest.approx(4 * net["gflop_per_image"]["32"], rel=1e-6)
    assert net["machine_limit"]["gflops_median"] > 0
    assert {(r["size"], r["batch"]) for r in net["ratios"]} == {(32, 1), (32, 4), (64, 1), (64, 4)}
    assert all(0.0 <= v <= 100.0 for v in net["int8_argmax_agreement_percent"].values())


def test_photo_batch_and_ui_sections(smoke):
    results, _ = smoke
    photos = results["photos"]
    assert {p["mode"] for p in photos} == {"resize", "tiles"}
    for p in photos:
        assert set(p["stages_ms"]) == STAGES
        assert p["total_ms"] >= p["in_memory_ms"] > 0
        assert 0.0 <= p["outside_ort_share"] <= 1.0
        assert p["peak_rss_mb"] >= p["rss_after_load_mb"] > 0
    batch = results["batch"]
    assert batch["photos"] == batch["done"] == 4 and batch["failed"] == 0
    assert batch["photos_per_s"] > 0 and batch["peak_rss_mb"] > 0
    ui = results["ui"]
    assert ui["coldstart"]["first_paint_s"] > 0 and ui["coldstart"]["first_result_s"] > 0
    assert "error" not in ui["coldstart"]
    first = ui["first_figures"]
    assert first["repeats"] == 2 and 0 < first["photo_on_screen_s"] <= first["first_figures_on_screen_s"]
    assert ui["stall"]["summary"].startswith("Batch finished: 3 of 3")
    assert ui["stall"]["heartbeats"] > 0 and ui["stall"]["longest_stall_ms"] >= 0


def test_results_say_where_and_under_what_load(smoke):
    results, stdout = smoke
    assert results["smoke"] is True
    machine = results["machine"]
    assert machine["logical_cores"] >= 1 and machine["onnxruntime"]
    assert isinstance(machine["other_busy_processes"], list)
    assert isinstance(results["cuda"]["available"], bool)
    if not results["cuda"]["available"]:
        assert "CUDA rows: none" in stdout
    assert "ONNX Runtime int8" in stdout and "Keras tf.function" in stdout
    assert "SMOKE" in stdout
    assert set(results["goals"]) >= {"batch_rss_growth"}


def test_engine_rows_cover_every_lever_and_finish_every_photo(smoke):
    results, text = smoke
    rows = {r["label"]: r for r in results["engines"]}
    assert {(r["engine"], r["overlay"], r["workers"]) for r in rows.values()} == {
        ("serial", "png", None),
        ("serial", "jpeg", None),
        ("pipelined", "jpeg", None),
        ("dask", "jpeg", 1),
        ("dask", "jpeg", 2),
    }
    assert all(r["done"] == r["photos"] and r["ms_per_photo"] > 0 for r in rows.values())
    assert "Dask, 2 local workers" in text and "12MP_all_outputs_pipelined_ms" in results["goals"]
