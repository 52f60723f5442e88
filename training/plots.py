"""Evaluation figures with matplotlib (Agg): confusion heat map, training curves, example grids."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from app.core.palette import ClassInfo, encode_mask


def confusion_heatmap(cm: np.ndarray, names: Sequence[str], path: Path) -> None:
    """Row-normalised colours (share of each true class) with the pixel counts written in."""
    rows = cm.sum(axis=1, keepdims=True)
    share = np.divide(cm, rows, out=np.zeros(cm.shape, dtype=float), where=rows > 0)
    fig, ax = plt.subplots(figsize=(1.6 * len(names) + 2, 1.4 * len(names) + 1.5))
    im = ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(len(names)), names)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("truth")
    for i in range(len(names)):
        for j in range(len(names)):
            colour = "white" if share[i, j] > 0.6 else "black"
            ax.text(
                j, i, f"{share[i, j]:.1%}\n{cm[i, j]:,}", ha="center", va="center", color=colour, fontsize=8
            )
    fig.colorbar(im, ax=ax, fraction=0.046, label="share of the true class")
    ax.set_title("Confusion matrix (pixels)")
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def read_log(path: Path) -> dict[str, list[float]]:
    """A Keras CSVLogger file as column -> values."""
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    columns: dict[str, list[float]] = {}
    for row in rows:
        for key, value in row.items():
            try:
                columns.setdefault(key, []).append(float(value))
            except (TypeError, ValueError):
                columns.setdefault(key, []).append(float("nan"))
    return columns


def training_curves(log_csv: Path, path: Path) -> bool:
    """Loss and validation IoUs per epoch from a run's `log.csv`; False when there is nothing to draw."""
    cols = read_log(log_csv)
    if not cols.get("epoch"):
        return False
    epochs = [e + 1 for e in cols["epoch"]]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    if "loss" in cols:
        left.plot(epochs, cols["loss"], label="training loss")
    if "val_loss" in cols:
        left.plot(epochs, cols["val_loss"], label="validation loss")
    left.set_xlabel("epoch")
    left.set_title("Loss")
    left.legend()
    for key, label in (
        ("val_corrosion_iou", "corrosion IoU"),
        ("val_asset_iou", "asset IoU"),
        ("val_background_iou", "background IoU"),
        ("val_miou", "mean IoU"),
    ):
        if key in cols:
            right.plot(epochs, [100 * v for v in cols[key]], label=label)
    right.set_xlabel("epoch")
    right.set_ylabel("%")
    right.set_title("Validation, per-photo protocol")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def example_grid(
    rows: Sequence[tuple[str, np.ndarray, np.ndarray, np.ndarray, float]],
    classes: Sequence[ClassInfo],
    title: str,
    path: Path,
) -> None:
    """Rows of (id, photo, truth ids, predicted ids, corrosion IoU) drawn as photo | truth | prediction."""
    n = max(len(rows), 1)
    fig, axes = plt.subplots(n, 3, figsize=(9, 3 * n), squeeze=False)
    for r, (pid, photo, truth, pred, iou) in enumerate(rows):
        for c, (img, name) in enumerate(
            (
                (photo, f"{pid}"),
                (encode_mask(truth, classes), "truth"),
                (encode_mask(pred, classes), "prediction"),
            )
        ):
            ax = axes[r][c]
            ax.imshow(img)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(name if c else f"{name}  corrosion IoU {100 * iou:.1f} %", fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
