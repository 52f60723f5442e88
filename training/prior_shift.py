"""A class-prior shift measured on a cross-validation run without retraining:
`python -m training.prior_shift runs/cv-shipped-e20 [--json OUT.json]`.

Each photo's corroded share is drawn again from its out-of-fold probabilities (`foldK/oof-probs.npz`)
with an offset added to the log-probability of corrosion and of asset (background's stays 0) before the
argmax: a systematic lean of the network towards one class of the pipe would show as an offset that
lowers the share error. The offsets are chosen on the other folds' photos only (nested: the grid's
lowest mean absolute share error there) and applied to the held-out fold, so the figure is out of fold
too. Printed: the share's mean absolute error and the photos within 10 points, as run and shifted, and
the paired difference photo by photo with its bootstrap 95 % interval.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.core.errors import CorroscopeError
from app.core.palette import DEFAULT_CLASSES
from training.range_fit import stored_probs

GRID = np.linspace(-1.5, 1.5, 13)  # log-probability offsets tried for corrosion and for asset, each
DRAWS, SEED = 10_000, 0
_FLOOR = 1e-4  # probabilities are stored as uint8: keep log() finite where one is 0
CORROSION = next(c.id for c in DEFAULT_CLASSES if c.name == "corrosion")
ASSET = next(c.id for c in DEFAULT_CLASSES if c.name == "asset")


@dataclass(frozen=True)
class OofPhoto:
    id: str
    fold: int
    share_true: float
    log_probs: np.ndarray  # H x W x C, float32


def load_run(cv: Path) -> list[OofPhoto]:
    """The run's photos with a true share and stored probabilities (`training.cv`'s layout)."""
    try:
        rows = json.loads((cv / "oof.json").read_text("utf-8"))["photos"]
    except (OSError, ValueError, KeyError) as exc:
        raise CorroscopeError(f"{cv}: no readable oof.json of a cross-validation run ({exc})") from exc
    probs = stored_probs(cv)
    photos = []
    for row in rows:
        if row.get("share_true") is None or row["id"] not in probs:
            continue
        p = probs[row["id"]].astype(np.float32) / 255.0
        photos.append(OofPhoto(row["id"], int(row["fold"]), float(row["share_true"]), np.log(p + _FLOOR)))
    if len(photos) < 4 or len({p.fold for p in photos}) < 2:
        raise CorroscopeError(f"{cv}: {len(photos)} photos with probabilities in too few folds")
    return photos


def shifted_share(log_probs: np.ndarray, corrosion: float, asset: float) -> float:
    """The corroded share (%) of the argmax after the offsets; NaN when no pipe is painted."""
    offsets = np.zeros(log_probs.shape[-1], dtype=np.float32)
    offsets[CORROSION], offsets[ASSET] = corrosion, asset
    ids = np.argmax(log_probs + offsets, axis=-1)
    rust, pipe = int((ids == CORROSION).sum()), int(((ids == CORROSION) | (ids == ASSET)).sum())
    return 100.0 * rust / pipe if pipe else float("nan")


def nested_shares(photos: list[OofPhoto], grid: np.ndarray = GRID) -> tuple[np.ndarray, dict[int, tuple]]:
    """Each photo's share under the offsets chosen on the other folds; (shares, fold -> offsets)."""
    pairs = [(float(c), float(a)) for c in grid for a in grid]
    truth = np.array([p.share_true for p in photos])
    table = np.array([[shifted_share(p.log_probs, c, a) for p in photos] for c, a in pairs])
    folds = np.array([p.fold for p in photos])
    shares, chosen = np.full(len(photos), np.nan), {}
    for fold in sorted(set(folds)):
        other = folds != fold
        errors = np.nanmean(np.abs(table[:, other] - truth[other]), axis=1)
        best = int(np.nanargmin(errors))
        chosen[int(fold)] = pairs[best]
        shares[~other] = table[best, ~other]
    return shares, chosen


def paired_interval(before: np.ndarray, after: np.ndarray) -> tuple[float, float, float]:
    """Mean of before - after (a positive value: the shift helps) and its bootstrap 95 % interval."""
    diff = before - after
    diff = diff[~np.isnan(diff)]
    idx = np.random.default_rng(SEED).integers(0, len(diff), (DRAWS, len(diff)))
    means = diff[idx].mean(axis=1)
    return float(diff.mean()), float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def measure(cv: Path) -> dict:
    photos = load_run(cv)
    truth = np.array([p.share_true for p in photos])
    base = np.array([shifted_share(p.log_probs, 0.0, 0.0) for p in photos])
    shifted, chosen = nested_shares(photos)
    base_err, shifted_err = np.abs(base - truth), np.abs(shifted - truth)
    mean, low, high = paired_interval(base_err, shifted_err)
    return {
        "run": str(cv),
        "photos": len(photos),
        "offsets_by_fold": {str(k): {"corrosion": c, "asset": a} for k, (c, a) in chosen.items()},
        "mae_as_run": float(np.nanmean(base_err)),
        "mae_shifted": float(np.nanmean(shifted_err)),
        "within_10_as_run": int((base_err <= 10).sum()),
        "within_10_shifted": int((shifted_err <= 10).sum()),
        "mae_gain": {"mean": mean, "low": low, "high": high},
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.prior_shift", description=__doc__.splitlines()[0])
    p.add_argument("cv", type=Path, help="a training.cv output folder (oof.json, foldK/oof-probs.npz)")
    p.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = p.parse_args(argv)
    try:
        figures = measure(args.cv)
    except CorroscopeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    gain = figures["mae_gain"]
    print(f"{figures['photos']} photos out of fold; offsets chosen per fold: {figures['offsets_by_fold']}")
    print(
        f"share error (mean absolute, points): {figures['mae_as_run']:.2f} as run, "
        f"{figures['mae_shifted']:.2f} shifted; within 10 points: {figures['within_10_as_run']} and "
        f"{figures['within_10_shifted']}; gain {gain['mean']:+.2f} [{gain['low']:+.2f}, {gain['high']:+.2f}]"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
