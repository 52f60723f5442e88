"""Can any error signal leave a quarter of the photos unflagged with none off by more than 10 points?

For each per-photo signal of a cross-validation's out-of-fold predictions (the held-out range's width,
the model's uncertainty, a classifier of the miss itself fitted on the other folds, given the photos the
fold networks' own view of how novel each is (`training.embedding_signals`), and, given a second CV on
the same folds, the two networks' disagreement),
photos are ranked from the most to the least trusted: how many of the most trusted quarter are off by
more than `OFF_LIMIT` points, and how many photos could pass before the first such miss.

    python -m training.flag_signals runs/cv-shipped-e20 --other runs/cv-hierarchical-e20
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from training.range_fit import CONFIDENCE, OFF_LIMIT, CvPhoto, held_out, load_cv


def ranked_misses(signal: np.ndarray, error: np.ndarray, limit: float = OFF_LIMIT) -> tuple[int, int]:
    """(photos off by more than `limit` among the quarter with the lowest `signal`, how many of the
    lowest pass before the first such photo)."""
    order = np.argsort(signal, kind="stable")
    off = error[order] > limit
    first_miss = int(np.argmax(off)) if off.any() else len(off)
    return int(off[: len(off) // 4].sum()), first_miss


def _logistic(x: np.ndarray, y: np.ndarray, ridge: float = 1.0, steps: int = 50) -> np.ndarray:
    """Weights (bias first) of an L2-penalised logistic regression by Newton's method; x standardised."""
    a = np.c_[np.ones(len(x)), x]
    penalty = ridge * np.diag(np.r_[0.0, np.ones(x.shape[1])])
    w = np.zeros(a.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(a @ w)))
        hessian = (a.T * (p * (1.0 - p))) @ a + penalty
        w -= np.linalg.solve(hessian, a.T @ (p - y) + penalty @ w)
    return w


def learned_miss(photos: Sequence[CvPhoto], limit: float = OFF_LIMIT) -> np.ndarray:
    """Each photo's odds of being off by more than `limit`, from a logistic regression on the difficulty
    features fitted on the other folds only (so no photo scores itself)."""
    x = np.stack([p.x for p in photos])
    x = (x - x.mean(axis=0)) / np.where(x.std(axis=0) > 1e-9, x.std(axis=0), 1.0)
    off = np.array([p.error > limit for p in photos], dtype=np.float64)
    folds = np.array([p.fold for p in photos])
    out = np.empty(len(photos))
    for f in np.unique(folds):
        held = folds == f
        w = _logistic(x[~held], off[~held])
        out[held] = np.c_[np.ones(held.sum()), x[held]] @ w
    return out


def signals(
    cv: Path, other: Path | None = None, coverage: float = 0.8, data_dir: Path | None = None
) -> tuple[np.ndarray, dict]:
    """Each photo's share error and its signals (lower: trusted more), in the order of `load_cv`; with
    `data_dir` (the CV's photos) also the fold networks' own view of how novel a photo is."""
    _rows, photos = load_cv(cv)
    _figures, per_photo = held_out(photos, coverage, CONFIDENCE)
    width = {r["id"]: r["high"] - r["low"] for r in per_photo}
    error = np.array([p.error for p in photos])
    out = {
        "held-out 80 % range width": np.array([width[p.id] for p in photos]),
        "1 - mean confidence": np.array([1.0 - (p.mean_confidence or 0.0) for p in photos]),
        "a miss classifier fitted on the other folds": learned_miss(photos),
    }
    if data_dir is not None:
        from training.embedding_signals import embedding_signals

        ids, folds = [p.id for p in photos], [p.fold for p in photos]
        out |= embedding_signals(cv, data_dir, ids, folds, list(error))
    if other is not None:
        _other_rows, second = load_cv(other)
        share = {p.id: p.share_pred for p in second}
        keep = np.array([p.id in share for p in photos])
        gap = np.array([abs(p.share_pred - share.get(p.id, np.nan)) for p in photos])
        out = {name: values[keep] for name, values in out.items()}
        out[f"disagreement with {other.name}"] = gap[keep]
        error = error[keep]
    return error, out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.flag_signals", description=__doc__.splitlines()[0])
    p.add_argument("cv", type=Path, help="a finished training.cv folder")
    p.add_argument("--other", type=Path, help="a second training.cv on the same folds (its disagreement)")
    p.add_argument("--data", type=Path, help="the CV's photos: add the fold networks' novelty signals")
    a = p.parse_args(argv)
    error, found = signals(a.cv, a.other, data_dir=a.data)
    n = len(error)
    print(f"{n} out-of-fold photos; {(error > OFF_LIMIT).sum()} off by more than {OFF_LIMIT:g} points")
    head = f"off by > {OFF_LIMIT:g} among the most trusted {n // 4}"
    print(f"| signal | {head} | photos before the first miss |")
    print("|---|---:|---:|")
    for name, values in found.items():
        misses, before = ranked_misses(values, error)
        print(f"| {name} | {misses} | {before} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
