"""Small synthetic pipe photos on disk (PNG), for tests and benchmarks that need folders of photos."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from app.core.files import write_png
from app.core.palette import ASSET, BACKGROUND, CORROSION
from app.core.synthetic import synthetic_pipe


def photo_folder(
    folder: Path, count: int, rust: float, seed: int = 0, size: tuple[int, int] = (24, 32)
) -> Path:
    """`count` distinct synthetic pipe photos whose rust grows with `rust` (one inspection's photos)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        rgb = synthetic_pipe(seed=seed * 1000 + i, size=size, rust=rust + 0.01 * i)[0]
        write_png(folder / f"photo_{i:03d}.png", rgb)
    return folder


def two_pipes(h: int, w: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """(photo, true labels): two horizontal steel pipes with rust patches on grassy soil, as on a rack."""
    rng = np.random.default_rng(seed)
    rgb = np.empty((h, w, 3), np.float32)
    blotches = cv2.resize(
        rng.normal(0, 12, (12, 18)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC
    )
    rgb[:] = np.array([95, 120, 70], np.float32) + blotches[:, :, None]
    truth = np.full((h, w), BACKGROUND.id, np.uint8)
    for top, bottom in ((0.2, 0.38), (0.56, 0.74)):  # of the height: the upper pipe, the lower one
        y0, y1 = round(top * h), round(bottom * h)
        across = np.linspace(-1.0, 1.0, y1 - y0, dtype=np.float32)[:, None, None]
        rgb[y0:y1] = np.array([120, 135, 165], np.float32) * (1.0 - 0.35 * across**2)  # a lit cylinder
        truth[y0:y1] = ASSET.id
    field = cv2.resize(rng.random((8, 12)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    rust = (field > 0.85) & (truth == ASSET.id)
    rgb[rust] = rgb[rust] * 0.3 + np.array([150, 75, 35], np.float32) * 0.7
    truth[rust] = CORROSION.id
    rgb += rng.normal(0, 4, rgb.shape)
    return np.clip(rgb, 0, 255).astype(np.uint8), truth
