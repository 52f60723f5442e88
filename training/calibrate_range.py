"""Calibrate the corroded share's range: `python -m training.calibrate_range --model M.onnx --data DIR
--split-file val.txt --out range.json`.

Runs the model once over the listed photos as the app does (resize mode, probabilities at full size),
keeps each photo's histogram of corrosion probability over the pipe's pixels (cached beside `--out`),
and picks the probability thresholds (low, high) of the narrowest mean range that holds the true share
(from the ground-truth mask) for at least `--coverage` of the photos. Leave-one-out coverage says how
well that choice carries to a photo it was not chosen on.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.core.errors import CorroscopeError
from app.core.inference import InferenceOptions, segment
from app.core.model import SegmentationModel
from app.core.photos import read_image
from app.core.share_range import LEVELS, RangeThresholds, corrosion_histogram, range_from_histogram
from app.core.stats import area_stats
from training.data import find_pairs, load_pair, select

log = logging.getLogger("training.calibrate_range")


@dataclass(frozen=True)
class PhotoCounts:
    """What calibration needs of one photo: the predicted histogram and share, and the true share."""

    pair_id: str
    counts: np.ndarray  # pixels of the predicted pipe at each corrosion probability level
    graded: int
    share: float | None
    true_share: float | None


def measure(model: SegmentationModel, data: Path, ids: list[str]) -> list[PhotoCounts]:
    """Run the model over the photos with these ids and keep what the range needs."""
    options = InferenceOptions(corrosion_probability=True)
    out = []
    for pair in select(find_pairs(data), ids):
        seg = segment(model, read_image(pair.image), options)
        counts, graded, share = corrosion_histogram(seg.labels, seg.corrosion_probability, model.classes)
        _, truth, _ = load_pair(pair, classes=model.classes)
        out.append(
            PhotoCounts(pair.id, counts, graded, share, area_stats(truth, model.classes).corroded_share)
        )
    return out


def _bounds(photos: list[PhotoCounts]) -> tuple[np.ndarray, np.ndarray]:
    """above[p, k]: % of photo p's pipe at level >= k, clamped so every range holds the share."""
    counts = np.stack([p.counts for p in photos]).astype(np.float64)
    above = (
        100.0 * np.cumsum(counts[:, ::-1], axis=1)[:, ::-1] / np.array([p.graded for p in photos])[:, None]
    )
    share = np.array([p.share for p in photos])[:, None]
    return np.minimum(above, share), np.maximum(above, share)  # as a lower bound / as an upper bound


def grid(photos: list[PhotoCounts]) -> tuple[np.ndarray, np.ndarray]:
    """(coverage, mean width) for every (low level, high level); NaN where low > high."""
    as_low, as_high = _bounds(photos)
    truth = np.array([p.true_share for p in photos])
    # [p, lo, hi]: the upper bound comes from the low threshold, the lower bound from the high one.
    upper, lower = as_high[:, :, None], as_low[:, None, :]
    inside = (lower <= truth[:, None, None] + 1e-9) & (truth[:, None, None] <= upper + 1e-9)
    coverage, width = inside.mean(axis=0), (upper - lower).mean(axis=0)
    invalid = np.tril(np.ones((LEVELS, LEVELS), bool), k=-1)  # lo > hi
    coverage[invalid], width[invalid] = np.nan, np.nan
    return coverage, width


def choose(photos: list[PhotoCounts], target: float) -> tuple[int, int] | None:
    """The (low, high) levels of the narrowest mean width with coverage >= target; None if none reach it."""
    coverage, width = grid(photos)
    ok = np.nan_to_num(coverage, nan=-1.0) >= target
    if not ok.any():
        return None
    masked = np.where(ok, width, np.inf)
    lo, hi = np.unravel_index(int(np.argmin(masked)), masked.shape)
    return int(lo), int(hi)


def _inside(photo: PhotoCounts, levels: tuple[int, int]) -> bool:
    r = range_from_histogram(photo.counts, photo.graded, photo.share, _thresholds(levels))
    return r is not None and r.low - 1e-9 <= photo.true_share <= r.high + 1e-9


def _thresholds(levels: tuple[int, int]) -> RangeThresholds:
    return RangeThresholds(levels[0] / 255, levels[1] / 255)


def calibrate(photos: list[PhotoCounts], target: float) -> dict:
    """The chosen thresholds with their coverage and width, and the leave-one-out coverage."""
    usable = [p for p in photos if p.share is not None and p.true_share is not None]
    levels = choose(usable, target)
    if levels is None:
        raise CorroscopeError(f"no thresholds reach {target:.0%} coverage on {len(usable)} photos")
    r = [range_from_histogram(p.counts, p.graded, p.share, _thresholds(levels)) for p in usable]
    loo = []
    for i, held in enumerate(usable):
        rest = choose(usable[:i] + usable[i + 1 :], target)
        loo.append(rest is not None and _inside(held, rest))
    return {
        "thresholds": {"low": round(levels[0] / 255, 4), "high": round(levels[1] / 255, 4)},
        "levels": {"low": levels[0], "high": levels[1]},
        "photos": len(photos),
        "usable": len(usable),
        "coverage": float(np.mean([_inside(p, levels) for p in usable])),
        "mean_width": float(np.mean([x.width for x in r])),
        "median_width": float(np.median([x.width for x in r])),
        "leave_one_out_coverage": float(np.mean(loo)),
        "per_photo": [
            {
                "id": p.pair_id,
                "share": round(p.share, 4),
                "true": round(p.true_share, 4),
                "low": round(x.low, 4),
                "high": round(x.high, 4),
            }
            for p, x in zip(usable, r, strict=True)
        ],
    }


def _cached(model: SegmentationModel, a: argparse.Namespace, ids: list[str]) -> list[PhotoCounts]:
    cache = a.out.with_suffix(".cache.npz")
    cache.parent.mkdir(parents=True, exist_ok=True)
    key = f"{model.sha256}:{','.join(ids)}"
    if cache.is_file():
        z = np.load(cache, allow_pickle=False)
        if str(z["key"]) == key:
            log.info("using cached probabilities from %s", cache)
            return [
                PhotoCounts(
                    i, c, int(g), None if np.isnan(s) else float(s), None if np.isnan(t) else float(t)
                )
                for i, c, g, s, t in zip(
                    z["ids"], z["counts"], z["graded"], z["share"], z["true"], strict=True
                )
            ]
    photos = measure(model, a.data, ids)
    nan = float("nan")
    np.savez(
        cache,
        key=key,
        ids=np.array(ids),
        counts=np.stack([p.counts for p in photos]),
        graded=np.array([p.graded for p in photos]),
        share=np.array([nan if p.share is None else p.share for p in photos]),
        true=np.array([nan if p.true_share is None else p.true_share for p in photos]),
    )
    return photos


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    p = argparse.ArgumentParser(
        prog="python -m training.calibrate_range", description=__doc__.splitlines()[0]
    )
    p.add_argument("--model", required=True, type=Path, help="a contract .onnx file")
    p.add_argument("--data", required=True, type=Path, help="dataset folder (photos and masks)")
    p.add_argument("--split-file", required=True, type=Path, help="ids to calibrate on, one a line (val.txt)")
    p.add_argument("--out", required=True, type=Path, help="JSON file for the thresholds and figures")
    p.add_argument("--coverage", type=float, default=0.8, help="share of photos the range must hold")
    p.add_argument("--device", default="cpu", choices=("cpu", "auto"))
    a = p.parse_args(argv)
    try:
        ids = [line.strip() for line in a.split_file.read_text(encoding="utf-8").splitlines() if line.strip()]
        model = SegmentationModel.load(a.model, a.device)
        result = {
            "model": a.model.name,
            "model_sha256": model.sha256,
            "split_file": str(a.split_file),
            "target_coverage": a.coverage,
            **calibrate(_cached(model, a, ids), a.coverage),
        }
    except (CorroscopeError, OSError) as exc:
        log.error("%s", exc)
        return 1
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    log.info(
        "thresholds low %.3f high %.3f: %d of %d true shares inside (%.0f %%), mean width %.2f points, "
        "leave-one-out coverage %.0f %%",
        result["thresholds"]["low"],
        result["thresholds"]["high"],
        round(result["coverage"] * result["usable"]),
        result["usable"],
        100 * result["coverage"],
        result["mean_width"],
        100 * result["leave_one_out_coverage"],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
