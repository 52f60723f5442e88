"""Site adaptation measured on a site the model has never seen: pipes repainted safety yellow.

`python -m bench.adapt [--model M] [--data DIR] [--draws 3] [--sizes 3 5 10] [--l2 X] [--json FILE]`:
the validation photos of `../shared/data/pipe-corrosion` (`val.txt`; the shipped model trained on
`train.txt`) have the asset pixels of their truth masks repainted (hue and saturation set in HSV, the
value channel kept, so the texture stays); the corrosion and the background are untouched. For each
size, `--draws` random sets of that many photos are "reviewed" (their truth masks), the model is adapted
(`app.core.adapt.adapt_model`, default settings unless `--l2`/`--class-balance`; a refused adaptation
keeps the base model, as the app does) and scored on the site's other photos: corroded-share error
(points) and asset IoU, base against adapted, resize mode as the app runs it. The "no harm" row runs
each adapted model on the same other photos unpainted. "Won back" in the summary is what the means over
draws win back, (base site - adapted site) / (base site - base unpainted); a row's own ratio is noisy
where its draw's repaint cost is small. `--cost` times one adaptation on 10 reviewed photos enlarged to
4000x3000 (12 MP) in a child process, with its peak RSS.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np

from app.core.adapt import AdaptRefused, AdaptSettings, adapt_model
from app.core.inference import segment
from app.core.model import SegmentationModel
from app.core.palette import DEFAULT_CLASSES
from app.core.photos import read_image
from app.core.reviewed import read_reviewed_mask, write_reviewed_mask
from app.core.stats import area_stats

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = ROOT / "models" / "corrosion-deeplabv3plus-mobilenetv2.int8.onnx"
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "pipe-corrosion"
ASSET = 1
SAFETY_YELLOW_HUE = 27  # OpenCV's 0-180 hue scale: RAL 1003 signal yellow


def repaint(rgb: np.ndarray, truth: np.ndarray, hue: int = SAFETY_YELLOW_HUE) -> np.ndarray:
    """The asset pixels painted `hue` (default safety yellow): hue set, saturation raised, brightness
    (texture) kept."""
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    asset = truth == ASSET
    h, s, v = hsv[..., 0], hsv[..., 1].astype(np.float32), hsv[..., 2].astype(np.float32)
    h[asset] = hue
    hsv[..., 1][asset] = np.clip(170 + 0.3 * s[asset], 0, 255).astype(np.uint8)
    hsv[..., 2][asset] = np.clip(40 + 0.85 * v[asset], 0, 255).astype(np.uint8)  # paint is bright
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


def _share(labels: np.ndarray) -> float:
    share = area_stats(labels, DEFAULT_CLASSES).corroded_share
    return 0.0 if share is None else share


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return 1.0 if union == 0 else np.count_nonzero(a & b) / union


def _scores(model: SegmentationModel, rgb: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    labels = segment(model, rgb).labels
    return abs(_share(labels) - _share(truth)), 100.0 * _iou(labels == ASSET, truth == ASSET)


def _site(data: Path, work: Path) -> tuple[list[str], dict, dict, dict]:
    """The val photos repainted into `work` (PNG, same names); truth labels and originals by id."""
    ids = (data / "val.txt").read_text().split()
    truths, originals, painted = {}, {}, {}
    for i in ids:
        rgb = read_image(data / "DATASET" / "original" / f"ORI_{i}.png")
        truth = read_reviewed_mask(data / "DATASET" / "ground_truth" / f"GT_{i}.png").labels
        truths[i], originals[i] = truth, rgb
        painted[i] = repaint(rgb, truth)
        cv2.imwrite(str(work / f"ORI_{i}.png"), cv2.cvtColor(painted[i], cv2.COLOR_RGB2BGR))
    return ids, truths, originals, painted


def _mean_sd(values: list[float]) -> dict[str, float]:
    return {"mean": statistics.fmean(values), "sd": statistics.pstdev(values) if len(values) > 1 else 0.0}


def run(args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-adapt-") as tmp:
        return _run(args, Path(tmp))


def _run(args: argparse.Namespace, work: Path) -> dict:
    ids, truths, originals, painted = _site(args.data, work)
    base = SegmentationModel.load(args.model, device="cpu")
    base_painted = {i: _scores(base, painted[i], truths[i]) for i in ids}
    base_plain = {i: _scores(base, originals[i], truths[i]) for i in ids}
    masks = args.data / "DATASET" / "ground_truth"
    rng = np.random.default_rng(args.seed)
    rows = []
    for n in args.sizes:
        for draw in range(args.draws):
            reviewed = sorted(rng.choice(ids, n, replace=False).tolist())
            others = [i for i in ids if i not in reviewed]
            out = work / f"site-{n}-{draw}.onnx"
            pairs = [(work / f"ORI_{i}.png", masks / f"GT_{i}.png") for i in reviewed]
            start = time.perf_counter()
            try:
                result = adapt_model(args.model, pairs, out, _settings(args))
                adapted, refused = SegmentationModel.load(out, device="cpu"), None
                loo = {"base": result.base.share_error, "adapted": result.adapted.share_error}
            except AdaptRefused as exc:
                adapted, refused, loo = base, str(exc), None
            seconds = time.perf_counter() - start
            site = [_scores(adapted, painted[i], truths[i]) for i in others]
            plain = [_scores(adapted, originals[i], truths[i]) for i in others]
            row = {
                "reviewed": n, "draw": draw, "photos": reviewed, "seconds": seconds, "refused": refused,
                "loo_share_error": loo,
                "base_site_share_error": statistics.fmean(base_painted[i][0] for i in others),
                "base_site_asset_iou": statistics.fmean(base_painted[i][1] for i in others),
                "base_plain_share_error": statistics.fmean(base_plain[i][0] for i in others),
                "adapted_site_share_error": statistics.fmean(s[0] for s in site),
                "adapted_site_asset_iou": statistics.fmean(s[1] for s in site),
                "adapted_plain_share_error": statistics.fmean(s[0] for s in plain),
            }  # fmt: skip
            cost = row["base_site_share_error"] - row["base_plain_share_error"]
            row["won_back"] = (row["base_site_share_error"] - row["adapted_site_share_error"]) / cost
            rows.append(row)
            print(json.dumps({k: v for k, v in row.items() if k != "photos"}), flush=True)
    return {"rows": rows, "summary": _summary(rows, args.sizes)}


def _settings(args: argparse.Namespace) -> AdaptSettings:
    return AdaptSettings(l2=args.l2, class_balance=args.class_balance)


def _summary(rows: list[dict], sizes: list[int]) -> list[dict]:
    out = []
    for n in sizes:
        mine = [r for r in rows if r["reviewed"] == n]
        entry = {"reviewed": n, "draws": len(mine), "refused": sum(r["refused"] is not None for r in mine)}
        for key in ("base_site_share_error", "adapted_site_share_error", "base_site_asset_iou",
                    "adapted_site_asset_iou", "base_plain_share_error", "adapted_plain_share_error",
                    "won_back", "seconds"):  # fmt: skip
            entry[key] = _mean_sd([r[key] for r in mine])
        mean = {k: v["mean"] for k, v in entry.items() if isinstance(v, dict)}
        cost = mean["base_site_share_error"] - mean["base_plain_share_error"]
        entry["won_back_of_means"] = (mean["base_site_share_error"] - mean["adapted_site_share_error"]) / cost
        entry["harm"] = mean["adapted_plain_share_error"] - mean["base_plain_share_error"]
        out.append(entry)
    return out


def cost(args: argparse.Namespace) -> dict:
    """One adaptation on 10 photos at 4000x3000 in this process (run as a child): seconds, peak RSS."""
    with tempfile.TemporaryDirectory(prefix="bench-adapt-12mp-") as tmp:
        return _cost(args, Path(tmp))


def _cost(args: argparse.Namespace, work: Path) -> dict:
    import psutil

    ids = (args.data / "val.txt").read_text().split()[:10]
    pairs = []
    for i in ids:
        rgb = read_image(args.data / "DATASET" / "original" / f"ORI_{i}.png")
        truth = read_reviewed_mask(args.data / "DATASET" / "ground_truth" / f"GT_{i}.png").labels
        big = cv2.resize(repaint(rgb, truth), (4000, 3000), interpolation=cv2.INTER_CUBIC)
        bgr = cv2.cvtColor(big, cv2.COLOR_RGB2BGR)
        cv2.imwrite(str(work / f"p{i}.jpg"), bgr, [cv2.IMWRITE_JPEG_QUALITY, 92])
        mask = cv2.resize(truth, (4000, 3000), interpolation=cv2.INTER_NEAREST)
        write_reviewed_mask(work / f"p{i}_mask.reviewed.png", mask)
        pairs.append((work / f"p{i}.jpg", work / f"p{i}_mask.reviewed.png"))
    del rgb, big, bgr, mask
    rss_before = psutil.Process().memory_info().rss
    marks: dict[str, float] = {}  # the wall time at which each stage began
    start, cpu = time.perf_counter(), time.process_time()  # CPU: every thread of the process

    def progress(done: int, total: int, what: str) -> None:
        marks.setdefault(what.split(" ")[0], time.perf_counter() - start)

    try:
        adapt_model(args.model, pairs, work / "site.onnx", _settings(args), progress=progress)
        refused = None
    except AdaptRefused as exc:
        refused = str(exc)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = _peak_rss()
    return {"photos": 10, "size": "4000x3000", "seconds": seconds, "cpu_seconds": cpu,
            "stage_starts": marks, "peak_rss_mb": peak / 2**20, "rss_before_mb": rss_before / 2**20,
            "refused": refused}  # fmt: skip


def _cost_in_child(args: argparse.Namespace) -> dict:
    """`cost` in a fresh process, so its peak RSS is the adaptation's alone."""
    child = subprocess.run(
        [sys.executable, "-m", "bench.adapt", "--cost-child", "--model", str(args.model),
         "--data", str(args.data), "--l2", str(args.l2), "--class-balance", str(args.class_balance)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(child.stdout.strip().splitlines()[-1])


def _peak_rss() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: kB


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sizes", type=int, nargs="+", default=[3, 5, 10])
    parser.add_argument("--draws", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--l2", type=float, default=AdaptSettings().l2)
    parser.add_argument("--class-balance", type=float, default=AdaptSettings().class_balance)
    parser.add_argument("--cost", action="store_true", help="also time an adaptation on 10 12-MP photos")
    parser.add_argument("--cost-only", action="store_true", help="only the 12-MP adaptation, no draws")
    parser.add_argument("--cost-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cost_child:
        print(json.dumps(cost(args)))
        return 0
    if args.cost_only:
        print(json.dumps(_cost_in_child(args)))
        return 0
    results = {"model": args.model.name, "draws": args.draws, "seed": args.seed,
               "settings": asdict(_settings(args)), **run(args)}  # fmt: skip
    if args.cost:
        results["cost"] = _cost_in_child(args)
    text = json.dumps(results, indent=2)
    print(json.dumps(results["summary"], indent=2))
    if "cost" in results:
        print(json.dumps(results["cost"]))
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
