"""Measured benefit of smart select: one box per validation photo, before/after, against the ground truth.

`python -m bench.smart_select [--model M] [--data DIR] [--split val.txt] [--json FILE]`: the shipped model
(int8 on the CPU, as the app runs it) segments each photo of the split (`app.core.inference.segment`);
then one smart-select box, the ground-truth pipe's bounding box (the inspector's one drag), recomputes
the pipe region. Reports pipe-vs-background IoU and the corroded-share error (percentage points against
the ground truth's share), mean and worst, before and after; seeded by the network's probabilities and,
as a second row, by the labels + confidence alone. `--large WxH` also times both tools on a synthetic
photo of that size (e.g. 4000x3000, 12 MP), where the working copy and the full-resolution border count.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from functools import partial
from pathlib import Path

import cv2
import numpy as np

from app.core.inference import segment
from app.core.model import SegmentationModel
from app.core.palette import DEFAULT_CLASSES
from app.core.select_similar import select_similar
from app.core.smart_select import Marks, SmartSelectError, SmartSelectOptions, smart_select
from app.core.stats import area_stats
from app.core.synthetic import synthetic_pipe

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = ROOT / "models" / "corrosion-deeplabv3plus-mobilenetv2.int8.onnx"
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "pipe-corrosion"
CORROSION, ASSET, BACKGROUND = 0, 1, 2


def _pipe(labels: np.ndarray) -> np.ndarray:
    return (labels == CORROSION) | (labels == ASSET)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return 1.0 if union == 0 else np.count_nonzero(a & b) / union


def _share(labels: np.ndarray) -> float:
    share = area_stats(labels, DEFAULT_CLASSES).corroded_share
    return 0.0 if share is None else share


def _scores(labels: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    return {
        "pipe_iou": 100.0 * _iou(_pipe(labels), _pipe(truth)),
        "share_error": abs(_share(labels) - _share(truth)),
        "corrosion_iou": 100.0 * _iou(labels == CORROSION, truth == CORROSION),
    }


def _box(truth: np.ndarray) -> tuple[float, float, float, float]:
    ys, xs = np.nonzero(_pipe(truth))
    return float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)


def _after(rgb, labels, truth, seed: str, probs, confidence, options) -> tuple[np.ndarray, str]:
    """The labels after the smart-select box, and the refusal's message when it refused (labels kept:
    the inspector reads the message and adds a click)."""
    kwargs = {"probabilities": probs} if seed == "probabilities" else {"confidence": confidence}
    try:
        edit = smart_select(rgb, labels, Marks(box=_box(truth)), DEFAULT_CLASSES, options=options, **kwargs)
    except SmartSelectError as exc:
        return labels, str(exc)
    out = labels.copy()
    if edit is not None:
        out[edit.box[0] : edit.box[2], edit.box[1] : edit.box[3]] = edit.after
    return out, ""


def run(model_path: Path, data_dir: Path, split: Path, options: SmartSelectOptions) -> dict:
    from training.data import find_pairs, load_pair, select

    model = SegmentationModel.load(model_path, device="cpu")
    ids = split.read_text(encoding="utf-8").split()
    rows = []
    for pair in select(find_pairs(data_dir), ids):
        rgb, truth, _ = load_pair(pair)
        seg = segment(model, rgb)
        probs = seg.probabilities  # the network's softmax at its input size (resize mode)
        row = {"id": pair.id, "size": f"{rgb.shape[1]}x{rgb.shape[0]}", "before": _scores(seg.labels, truth)}
        boxed = seg.labels.copy()
        x0, y0, x1, y1 = (int(v) for v in _box(truth))
        outside = np.ones(boxed.shape, bool)
        outside[y0:y1, x0:x1] = False
        boxed[outside] = BACKGROUND
        row["box_only"] = _scores(boxed, truth)
        for seed in ("probabilities", "confidence"):
            start = time.perf_counter()
            after, why = _after(rgb, seg.labels, truth, seed, probs, seg.confidence, options)
            row[f"after_{seed}"] = _scores(after, truth) | {
                "seconds": time.perf_counter() - start,
                "refused": why,
            }
        rows.append(row)
    return {"model": model_path.name, "model_sha256": model.sha256, "photos": len(rows), "rows": rows}


def _large_scene(width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(photo, truth, model labels, 256 x 256 probabilities): a synthetic pipe whose "model" missed a third
    of it. Drawn at a quarter of the size and enlarged (drawing 12 MP takes minutes), with fresh noise."""
    rgb, truth = synthetic_pipe(3, (max(64, height // 4), max(64, width // 4)))
    if rgb.shape[:2] != (height, width):
        rgb = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_LINEAR)
        truth = cv2.resize(truth, (width, height), interpolation=cv2.INTER_NEAREST)
        noise = np.random.default_rng(0).integers(-6, 7, size=(height, width, 1), dtype=np.int16)
        rgb = np.clip(rgb.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    labels = truth.copy()
    cut = int(width * 0.66)
    labels[:, cut:][_pipe(truth)[:, cut:]] = BACKGROUND
    small = cv2.resize(labels, (256, 256), interpolation=cv2.INTER_NEAREST)
    probs = np.full((256, 256, 3), 0.1, np.float32)
    np.put_along_axis(probs, small[:, :, None].astype(np.intp), 0.8, axis=2)
    return rgb, truth, labels, probs


def _load_baseline(path: Path):
    """An old `app/core/smart_select.py` (`git show REV:app/core/smart_select.py > FILE`), as a module."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("baseline_smart_select", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _timed(fn) -> tuple[float, float, object]:
    """(wall ms, CPU ms of this process, result)."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return 1000 * (time.perf_counter() - wall), 1000 * (time.process_time() - cpu), out


def _session(code, rgb, labels, box, click, probs, options, new: bool) -> tuple[list, bool]:
    """A box, then a click inside it on the labels the box left: [(what, wall, cpu)] and the edits."""
    marks_box = Marks(box=box)
    marks_click = Marks(box=box, include=(click,))
    times, edits = [], []

    opts = options if new else code.SmartSelectOptions()  # the old code with its own defaults

    def call(marks, lab, photo=None):
        kwargs = {"photo": photo} if new and hasattr(code, "prepare_photo") else {}
        m = code.Marks(marks.box, marks.include, marks.exclude)
        return code.smart_select(rgb, lab, m, probabilities=probs, options=opts, **kwargs)

    cv2.setRNGSeed(1)  # GrabCut's k-means: the same draws for old and new code
    if new:  # the first box on a photo makes the working copy and the seed, which clicks reuse

        def first():
            made = code.prepare_photo(rgb, probabilities=probs, options=opts)
            return made, call(marks_box, labels, made)

        wall, cpu, (photo, edit) = _timed(first)
    else:
        photo = None
        wall, cpu, edit = _timed(lambda: call(marks_box, labels))
    times.append(("box", wall, cpu))
    edits.append(edit)
    after = labels.copy()
    if edit is not None:
        after[edit.box[0] : edit.box[2], edit.box[1] : edit.box[3]] = edit.after
    cv2.setRNGSeed(2)
    wall, cpu, edit = _timed(lambda: call(marks_click, after, photo))
    times.append(("click", wall, cpu))
    edits.append(edit)
    return times, edits


def _applied(labels: np.ndarray, edit) -> np.ndarray:
    out = labels.copy()
    if edit is not None:
        out[edit.box[0] : edit.box[2], edit.box[1] : edit.box[3]] = edit.after
    return out


def agreement(model_path: Path, data_dir: Path, ids: list[str], size: tuple[int, int], baseline) -> dict:
    """Per photo of `ids` enlarged to `size` (w, h; bicubic, as a camera photo's pixel count), one box (the
    ground-truth pipe's bounds) by this code and by the `baseline` module (its own defaults): CPU ms of
    each (working copy included) and the IoU of this code's pipe region with the baseline's; and the
    baseline against itself with another GrabCut seed (how far GrabCut's own randomness moves it)."""
    import app.core.smart_select as current
    from training.data import find_pairs, load_pair, select

    model = SegmentationModel.load(model_path, device="cpu")
    rows = []
    for pair in select(find_pairs(data_dir), ids):
        rgb, truth, _ = load_pair(pair)
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_CUBIC)
        truth = cv2.resize(truth, size, interpolation=cv2.INTER_NEAREST)
        seg = segment(model, rgb)
        marks, pipes, cpu = Marks(box=_box(truth)), {}, {}
        for name, code, seed in (("new", current, 1), ("old", baseline, 1), ("old_seed2", baseline, 2)):
            cv2.setRNGSeed(seed)
            m = code.Marks(marks.box)
            _wall, ms, edit = _timed(
                partial(code.smart_select, rgb, seg.labels, m, probabilities=seg.probabilities)
            )
            pipes[name], cpu[name] = _pipe(_applied(seg.labels, edit)), ms
        row = {"id": pair.id, "new_cpu_ms": cpu["new"], "old_cpu_ms": cpu["old"]}
        row["iou_new_old"] = 100.0 * _iou(pipes["new"], pipes["old"])
        row["iou_old_seed2"] = 100.0 * _iou(pipes["old_seed2"], pipes["old"])
        print(f"{pair.id}: {row}", flush=True)
        rows.append(row)
    out = {"size": f"{size[0]}x{size[1]}", "photos": len(rows), "rows": rows}
    for key in ("new_cpu_ms", "old_cpu_ms", "iou_new_old", "iou_old_seed2"):
        values = [r[key] for r in rows]
        out[key] = {"median": statistics.median(values), "mean": statistics.fmean(values)}
        out[key] |= {"min": min(values), "max": max(values)}
    return out


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return a.box == b.box and np.array_equal(a.after, b.after)


def time_sizes(sizes: list[tuple[int, int]], options: SmartSelectOptions, repeat: int, baseline) -> dict:
    """Per size: wall and CPU ms of a first box (working copy included) and of a click after it, median and
    worst of `repeat`, for this code and, alternating with it, the `baseline` module; and whether their
    edits are identical (GrabCut's RNG seeded alike). Also select similar once per repeat."""
    import app.core.smart_select as current

    out = {}
    for width, height in sizes:
        rgb, truth, labels, probs = _large_scene(width, height)
        box = _box(truth)
        ys, xs = np.nonzero(_pipe(truth) & ~_pipe(labels))
        click = (float(xs[len(xs) // 2]), float(ys[len(ys) // 2]))
        codes = [("new", current, True)] + ([("old", baseline, False)] if baseline is not None else [])
        got: dict[str, dict[str, list[float]]] = {}
        identical = True
        similar = []
        for r in range(repeat):
            edits = {}
            for name, code, new in codes if r % 2 == 0 else codes[::-1]:  # alternate who goes first
                times, edits[name] = _session(code, rgb, labels, box, click, probs, options, new)
                for what, wall, cpu in times:
                    got.setdefault(f"{name}_{what}", {"wall": [], "cpu": []})
                    got[f"{name}_{what}"]["wall"].append(wall)
                    got[f"{name}_{what}"]["cpu"].append(cpu)
            if "old" in edits:
                identical &= all(_same(a, b) for a, b in zip(edits["new"], edits["old"], strict=True))
            ys2, xs2 = np.nonzero(truth == CORROSION)
            at = (float(xs2[len(xs2) // 2]), float(ys2[len(ys2) // 2]))
            similar.append(_timed(partial(select_similar, rgb, labels, at, probabilities=probs))[0])
        row = {"size": f"{width}x{height}", "repeat": repeat, "select_similar_ms": statistics.median(similar)}
        for key, v in got.items():
            for kind in ("wall", "cpu"):
                row[f"{key}_{kind}_ms"] = {"median": statistics.median(v[kind]), "worst": max(v[kind])}
        if baseline is not None:
            row["identical_to_old"] = identical
        out[row["size"]] = row
    return out


def _print_timing(timing: dict) -> None:
    head = ("size", "code", "action", "wall median", "worst", "CPU median", "worst")
    print("{:>10s} {:>4s} {:>6s} {:>12s} {:>8s} {:>11s} {:>8s}".format(*head))
    for size, row in timing.items():
        for code in ("old", "new"):
            for what in ("box", "click"):
                wall, cpu = row.get(f"{code}_{what}_wall_ms"), row.get(f"{code}_{what}_cpu_ms")
                if wall is None:
                    continue
                print(
                    f"{size:>10s} {code:>4s} {what:>6s} {wall['median']:12.0f} {wall['worst']:8.0f} "
                    f"{cpu['median']:11.0f} {cpu['worst']:8.0f}"
                )
        if "identical_to_old" in row:
            print(f"{size:>10s} edits identical to the old code's: {row['identical_to_old']}")


def summary(rows: list[dict]) -> dict[str, dict[str, float]]:
    out = {}
    for key in ("before", "box_only", "after_probabilities", "after_confidence"):
        iou = [r[key]["pipe_iou"] for r in rows]
        err = [r[key]["share_error"] for r in rows]
        corr = [r[key]["corrosion_iou"] for r in rows]
        base = [r["before"]["pipe_iou"] for r in rows]
        out[key] = {
            "pipe_iou_mean": statistics.fmean(iou),
            "pipe_iou_worst": min(iou),
            "pipe_iou_better": sum(a > b + 0.05 for a, b in zip(iou, base, strict=True)),
            "pipe_iou_worse": sum(a < b - 0.05 for a, b in zip(iou, base, strict=True)),
            "share_error_mean": statistics.fmean(err),
            "share_error_median": statistics.median(err),
            "share_error_worst": max(err),
            "corrosion_iou_mean": statistics.fmean(corr),
            "refused": sum(bool(r[key].get("refused")) for r in rows),
        }
    return out


_ROW_NAMES = {
    "before": "model alone",
    "box_only": "+ box, no GrabCut",
    "after_probabilities": "+ box (probabilities)",
    "after_confidence": "+ box (labels+conf.)",
}


def _print_table(table: dict[str, dict[str, float]]) -> None:
    print(
        f"{'':22s} {'pipe IoU':>17s} {'corroded-share error (points)':>30s} {'corr.':>7s} {'pipe IoU':>12s}"
    )
    print(
        f"{'':22s} {'mean':>8s} {'worst':>8s} {'mean':>10s} {'median':>9s} {'worst':>9s} "
        f"{'IoU':>7s} {'up/down':>12s}"
    )
    for key, s in table.items():
        print(
            f"{_ROW_NAMES[key]:22s} {s['pipe_iou_mean']:8.1f} {s['pipe_iou_worst']:8.1f} "
            f"{s['share_error_mean']:10.2f} {s['share_error_median']:9.2f} {s['share_error_worst']:9.2f} "
            f"{s['corrosion_iou_mean']:7.1f} {s['pipe_iou_better']:>8d}/{s['pipe_iou_worse']:<3d}"
        )


def _report(result: dict) -> None:
    print(
        f"{result['model']} on {result['photos']} photos; one box per photo (the ground-truth pipe's bounds)"
    )
    _print_table(result["summary"])
    refused = {k: v["refused"] for k, v in result["summary"].items() if v["refused"]}
    if refused:
        print(f"refused (labels kept; the tool asks for a click): {refused}")
    seconds = [r["after_probabilities"]["seconds"] for r in result["rows"]]
    median, worst = 1000 * statistics.median(seconds), 1000 * max(seconds)
    print(f"smart select: median {median:.0f} ms a photo, max {worst:.0f} ms")


def _where(path: Path) -> str:
    """A path as the results file may hold it: relative to the repository (or beside it), never this
    machine's absolute path."""
    path = path.resolve()
    if path.is_relative_to(ROOT):
        return path.relative_to(ROOT).as_posix()
    if path.is_relative_to(ROOT.parent):
        return "../" + path.relative_to(ROOT.parent).as_posix()
    return path.name


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.smart_select", description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--split", type=Path, help="ids to run (default DATA/val.txt)")
    p.add_argument("--sure-pipe", type=float, default=SmartSelectOptions.sure_pipe)
    p.add_argument("--probable-pipe", type=float, default=SmartSelectOptions.probable_pipe)
    p.add_argument("--sure-background", type=float, default=SmartSelectOptions.sure_background)
    p.add_argument("--iterations", type=int, default=SmartSelectOptions.iterations)
    p.add_argument("--min-kept", type=float, default=SmartSelectOptions.min_kept)
    p.add_argument("--working-pixels", type=int, default=SmartSelectOptions.working_pixels)
    p.add_argument("--converged", type=float, default=SmartSelectOptions.converged)
    p.add_argument("--large", help="also time both tools on a synthetic photo of this size, e.g. 4000x3000")
    p.add_argument("--baseline", type=Path, help="an old app/core/smart_select.py to time alternately")
    p.add_argument("--repeat", type=int, default=3, help="boxes and clicks timed per size (default 3)")
    p.add_argument("--timing-only", action="store_true", help="skip the validation photos")
    p.add_argument(
        "--agreement",
        type=int,
        metavar="N",
        help="with --baseline and --large: the first N photos of the split enlarged to that size, one box "
        "each by the baseline and this code: IoU of their pipe regions and CPU time",
    )
    p.add_argument("--json", type=Path, help="also write every photo's figures here")
    a = p.parse_args(argv)
    options = SmartSelectOptions(
        sure_pipe=a.sure_pipe,
        probable_pipe=a.probable_pipe,
        sure_background=a.sure_background,
        iterations=a.iterations,
        min_kept=a.min_kept,
        working_pixels=a.working_pixels,
        converged=a.converged,
    )
    if a.timing_only:  # keep the validation figures already in the JSON file
        kept = a.json.read_text(encoding="utf-8") if a.json is not None and a.json.is_file() else "{}"
        result = {k: v for k, v in json.loads(kept).items() if k not in ("large", "timing")}
    else:
        result = run(a.model, a.data, a.split or a.data / "val.txt", options)
        result["summary"] = summary(result["rows"])
    result["options"] = (
        result.get("options", {})
        | vars(a)
        | {
            "model": _where(a.model),
            "data": _where(a.data),
            "split": None if a.split is None else _where(a.split),
            "json": None,
            "baseline": None if a.baseline is None else a.baseline.name,
        }
    )
    if not a.timing_only:
        _report(result)
    if a.large:
        w, h = (int(v) for v in a.large.lower().split("x"))
        baseline = None if a.baseline is None else _load_baseline(a.baseline)
        result["timing"] = time_sizes([(256, 256), (w, h)], options, a.repeat, baseline)
        result["timing_load_average"] = os.getloadavg()
        _print_timing(result["timing"])
        print(f"load average {os.getloadavg()}")
    if a.agreement:
        w, h = (int(v) for v in a.large.lower().split("x"))
        ids = (a.split or a.data / "val.txt").read_text(encoding="utf-8").split()[: a.agreement]
        result["agreement"] = agreement(a.model, a.data, ids, (w, h), _load_baseline(a.baseline))
        result["agreement_load_average"] = os.getloadavg()
        print({k: v for k, v in result["agreement"].items() if k != "rows"})
    if a.json:
        a.json.write_text(json.dumps(result, indent=2, default=lambda o: o.item()) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
