"""Corroscope's benchmarks in one run: `python -m bench.run` (`make bench`), `--smoke` for CI (seconds).

Sections (all by default, or pick with `--sections`): `net` (Keras `predict` / `tf.function` against
ONNX Runtime float / int8 at 1x and 2x the input size, batch 1 and 4, and the machine's limit), `photo`
(a 12 MP and a 50 MP JPEG through every stage, resize and tiles mode, peak memory), `batch` (200 photos:
photos/s, memory over the run), `engines` (12 MP JPEGs with every output written: the old serial
path with the PNG overlay, serial and pipelined with the JPEG one, ORT threads, 1 and 2 Dask workers,
memory over a long pipelined run), `ui` (cold start, first figures on screen for a photo opened in
the running window, the UI thread's longest stall during a batch).
Prints tables and writes `bench/results.json`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bench import report

log = logging.getLogger("bench")

SECTIONS = ("net", "photo", "batch", "engines", "ui")
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "bench" / "results.json"
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "pipe-corrosion"


def machine_info() -> dict:
    """CPU, memory, library versions and the load the numbers were taken under."""
    import onnxruntime as ort
    import psutil

    flags = ""
    model_name = platform.processor()
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="ignore")
        for line in cpuinfo.splitlines():
            if line.startswith("model name") and not model_name:
                model_name = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = line
    except OSError:
        pass
    isa = [f for f in ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "amx_tile") if f" {f}" in flags]
    return {
        "cpu": model_name or platform.machine(),
        "logical_cores": os.cpu_count(),
        "isa": isa,
        "memory_gib": round(psutil.virtual_memory().total / (1 << 30), 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "onnxruntime": ort.__version__,
        "load_average_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "other_busy_processes": busy_processes(),
    }


def busy_processes(threshold: float = 20.0) -> list[str]:
    """Other processes using the CPU now (e.g. a training run), to state the load honestly."""
    import psutil

    procs = [p for p in psutil.process_iter(["pid", "name", "cmdline"]) if p.pid != os.getpid()]
    for p in procs:
        with contextlib.suppress(psutil.Error):
            p.cpu_percent(None)
    time.sleep(1.0)
    busy = []
    for p in procs:
        try:
            pct = p.cpu_percent(None)
        except psutil.Error:
            continue
        if pct >= threshold:
            cmd = " ".join(p.info["cmdline"] or [p.info["name"] or "?"])[:100]
            busy.append(f"{pct:.0f}% {cmd}")
    return busy


def cuda_status() -> dict:
    """Whether ONNX Runtime's CUDA provider really runs here (onnxruntime-gpu lists it regardless)."""
    import onnxruntime as ort

    from app.core.model import cuda_unavailable_reason

    if "CUDAExecutionProvider" not in ort.get_available_providers():
        return {"available": False, "reason": "this onnxruntime build has no CUDA provider"}
    reason = cuda_unavailable_reason()
    if "no NVIDIA driver" in reason or "not found" in reason:
        return {"available": False, "reason": reason}
    return {"available": True, "reason": None}


def _photos(work: Path, smoke: bool) -> dict[str, Path]:
    from bench.photos import SIZES, make_jpeg

    sizes = {"0.3MP": (480, 640)} if smoke else SIZES
    return {
        name: make_jpeg(work / "photos" / f"photo_{name}.jpg", hw, seed=i + 1)
        for i, (name, hw) in enumerate(sizes.items())
    }


def _batch_folder(work: Path, count: int, size: tuple[int, int], name: str) -> Path:
    """`count` photos: 4 distinct JPEGs, then copies (hard links where possible)."""
    from bench.photos import make_jpeg

    folder = work / name
    folder.mkdir(parents=True, exist_ok=True)
    distinct = [make_jpeg(folder / f"p{i:04d}.jpg", size, seed=20 + i) for i in range(min(4, count))]
    for i in range(len(distinct), count):
        target = folder / f"p{i:04d}.jpg"
        try:
            os.link(distinct[i % len(distinct)], target)
        except OSError:
            shutil.copyfile(distinct[i % len(distinct)], target)
    return folder


def run_net(args, work: Path, results: dict, cuda: bool) -> Path:
    from bench import models, netbench

    nets = models.prepare(work / "models", args.smoke, args.keras, args.model, args.calibration_data)
    results["network"] = {
        "name": nets.name,
        "input_size": nets.input_size,
        "gflop_per_image": {str(k): v for k, v in nets.gflop.items()},
        "int8_argmax_agreement_percent": {str(k): v for k, v in nets.int8_agreement.items()},
        "preparation_s": nets.seconds,
        "machine_limit": netbench.conv_limit(args.smoke),
    }
    rows = netbench.run(nets, args.smoke, cuda=cuda)
    results["network"]["rows"] = [r.to_dict() for r in rows]
    results["network"]["ratios"] = netbench.ratios(rows)
    return nets.onnx_float[nets.input_size]


def run_photo(args, work: Path, model: Path, results: dict) -> None:
    from bench import pipeline

    rows = []
    for name, photo in _photos(work, args.smoke).items():
        for mode in args.modes:
            repeats = (
                1 if (mode == "tiles" and not args.smoke) or name == "50MP" else (2 if args.smoke else 3)
            )
            cmd = [
                "photo",
                "--model",
                str(model),
                "--photo",
                str(photo),
                "--mode",
                mode,
                "--repeats",
                str(repeats),
                "--out",
                str(work / "out_photo"),
            ]
            try:
                row = pipeline.run_child(cmd, timeout=args.case_timeout)
            except (RuntimeError, subprocess.TimeoutExpired) as exc:  # one case failing keeps the others
                log.error("%s %s: %s", name, mode, exc)
                results.setdefault("errors", []).append(f"photo {name} {mode}: {str(exc)[-500:]}")
                continue
            row["label"] = name
            rows.append(row)
            log.info(
                "%s %s: %.0f ms in memory, peak %.0f MB", name, mode, row["in_memory_ms"], row["peak_rss_mb"]
            )
    results["photos"] = rows


def run_batch(args, work: Path, model: Path, results: dict) -> None:
    from bench import pipeline
    from bench.photos import SIZES

    count = 4 if args.smoke else args.batch_photos
    size = (480, 640) if args.smoke else SIZES[args.batch_photo_size]
    folder = _batch_folder(work, count, size, "batch")
    out = work / "out_batch"
    row = pipeline.run_child(
        ["batch", "--model", str(model), "--photos", str(folder), "--out", str(out)], timeout=7200
    )
    row["photo_size"] = f"{size[1]}x{size[0]}"
    results["batch"] = row
    shutil.rmtree(out, ignore_errors=True)


# (label, engine, overlay, ORT threads, dask workers): each lever of the throughput goal on its own row
ENGINE_CASES = (
    ("serial, PNG overlay (before)", "serial", "png", "ort", None),
    ("serial, JPEG overlay", "serial", "jpeg", "ort", None),
    ("pipelined, JPEG, ORT default threads", "pipelined", "jpeg", "ort", None),
    (report.ENGINE_GOAL_CASE, "pipelined", "jpeg", "engine", None),
    ("Dask, 1 local worker", "dask", "jpeg", "engine", 1),
    ("Dask, 2 local workers", "dask", "jpeg", "engine", 2),
)


def run_engines(args, work: Path, model: Path, results: dict) -> None:
    """Each case of `ENGINE_CASES` in turn, `--engine-rounds` times over (so a burst of load elsewhere
    hits every case alike; the table shows each case's median round), then one long pipelined run."""
    from bench import engines
    from bench.photos import SIZES

    size = (480, 640) if args.smoke else SIZES["12MP"]
    folder = _batch_folder(work, 4 if args.smoke else args.engine_photos, size, "engines")
    long_run = (report.ENGINE_LONG_CASE, "pipelined", "jpeg", "engine", None)
    cases = [(r, c) for r in range(1 if args.smoke else args.engine_rounds) for c in ENGINE_CASES]
    rows = []
    for round_, (label, engine, overlay, threads, workers) in [*cases, (0, long_run)]:
        photos = folder
        if label == long_run[0]:
            photos = _batch_folder(work, 4 if args.smoke else args.flat_photos, size, "engines_long")
        cmd = [
            "--model",
            str(model),
            "--photos",
            str(photos),
            "--out",
            str(work / "out_engines"),
            "--engine",
            engine,
            "--overlay",
            overlay,
            "--threads",
            threads,
        ]
        if workers:
            cmd += ["--workers", str(workers)]
        try:
            row = engines.run_child(cmd, timeout=args.case_timeout)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:  # one case failing keeps the others
            log.error("engines %s: %s", label, exc)
            results.setdefault("errors", []).append(f"engines {label}: {str(exc)[-500:]}")
            continue
        row.update(label=label, round=round_, photo_size=f"{size[1]}x{size[0]}", load_average=os.getloadavg())
        rows.append(row)
        log.info("%s: %.0f ms/photo, %.2f photos/s", label, row["ms_per_photo"], row["photos_per_s"])
    results["engines_rounds"] = rows
    results["engines"] = report.median_rows(rows)


def run_ui(args, work: Path, model: Path, results: dict) -> None:
    from bench import ui_probe
    from bench.photos import SIZES, make_jpeg

    size = (480, 640) if args.smoke else SIZES["12MP"]
    photo = make_jpeg(work / "ui" / "photo.jpg", size, seed=7)
    cold = ui_probe.run_child(["coldstart", "--model", str(model), "--photo", str(photo)])
    repeats = "2" if args.smoke else "5"
    first = ui_probe.run_child(
        ["firstfigures", "--model", str(model), "--photo", str(photo), "--repeats", repeats]
    )
    folder = _batch_folder(work, 3 if args.smoke else 16, size, "ui_batch")
    stall = ui_probe.run_child(["stall", "--model", str(model), "--photos", str(folder)], timeout=1800)
    stall["photo_size"] = f"{size[1]}x{size[0]}"
    results["ui"] = {"coldstart": cold, "first_figures": first, "stall": stall}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true", help="tiny network and photos: checks the harness only")
    p.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    p.add_argument("--keras", type=Path, help="trained .keras file (default: build the default network)")
    p.add_argument(
        "--model",
        type=Path,
        help="ONNX model of the same network at its input size (e.g. "
        "models/X.onnx); default: exported from the Keras model",
    )
    p.add_argument(
        "--pipeline-model",
        type=Path,
        help="ONNX file for the photo, batch and UI sections, e.g. "
        "the shipped CPU model (default: --model, else the network's float export)",
    )
    p.add_argument(
        "--calibration-data",
        type=Path,
        help="photos for int8 calibration (default: the "
        "dataset next to the repo if present, else synthetic photos)",
    )
    p.add_argument(
        "--modes",
        nargs="+",
        choices=("resize", "tiles"),
        default=["resize", "tiles"],
        help="inference modes of the photo section",
    )
    p.add_argument("--case-timeout", type=float, default=1800, help="seconds allowed to one photo case")
    p.add_argument("--batch-photos", type=int, default=200)
    p.add_argument("--batch-photo-size", choices=("12MP", "50MP"), default="12MP")
    p.add_argument("--engine-photos", type=int, default=24, help="engines section: 12 MP photos per case")
    p.add_argument("--flat-photos", type=int, default=200, help="engines section: photos of the long run")
    p.add_argument("--engine-rounds", type=int, default=2, help="engines section: rounds over the cases")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results JSON (default bench/results.json)")
    p.add_argument("--work", type=Path, help="scratch folder (default: a temporary one, removed after)")
    p.add_argument("--label", default="", help="free text stored with the results (e.g. 'after strip fix')")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.calibration_data is None and DEFAULT_DATA.is_dir() and not args.smoke:
        args.calibration_data = DEFAULT_DATA
    started = time.perf_counter()
    results: dict = {
        "schema": 1,
        "smoke": args.smoke,
        "label": args.label,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": " ".join(["python -m bench.run", *(argv if argv is not None else sys.argv[1:])]),
        "git": _git_head(),
        "machine": machine_info(),
    }
    results["cuda"] = cuda_status()
    tmp = None if args.work else tempfile.TemporaryDirectory(prefix="corroscope-bench-")
    work = args.work or Path(tmp.name)
    work.mkdir(parents=True, exist_ok=True)
    try:
        model = args.model
        if "net" in args.sections:
            model = run_net(args, work, results, results["cuda"]["available"])
        model = args.pipeline_model or model
        if model is None:
            from bench.models import prepare

            nets = prepare(work / "models", args.smoke, args.keras, None, args.calibration_data, (1,))
            model = nets.onnx_float[nets.input_size]
        results["pipeline_model"] = str(model)
        sections = (("photo", run_photo), ("batch", run_batch), ("engines", run_engines), ("ui", run_ui))
        for name, section in sections:
            if name not in args.sections:
                continue
            try:
                section(args, work, model, results)
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:  # keep the other sections
                log.error("section %s failed: %s", name, exc)
                results.setdefault("errors", []).append(f"{name}: {str(exc)[-800:]}")
    finally:
        if tmp is not None:
            tmp.cleanup()
    results["machine"]["load_average_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    results["seconds"] = time.perf_counter() - started
    results["goals"] = report.goals(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(report.render(results))
    print(f"\nwrote {args.out}")
    return 0


def _git_head() -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
    except OSError:
        return None
    return out.stdout.strip() or None


if __name__ == "__main__":
    sys.exit(main())
