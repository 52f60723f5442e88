"""Fine mode's second look: tiles at a finer grid, blended into the coarse map only near its class edges.

The coarse pass sees the whole photo at the network's input size, as in training (whole 256 px scenes
and 192 px crops of 192-320 px rescaled scenes, i.e. 60-100 % of a scene's side). Tiles on a grid
`scale` times finer see less of the scene than that: alone they lose corrosion IoU (56 % at 2x against
65 % for the coarse pass, validation photos at 12 MP, docs/performance.md), but blended half and half
with the coarse map within a band around its class edges they place the edges better in every class.
Tiles that hold no band pixel are never run, so a photo with few edges costs little more than resize mode.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from app.core.errors import Cancelled

Progress = Callable[[int, int], None]  # (steps done, steps in all): the coarse pass, then each tile batch
CancelCheck = Callable[[], bool]


@dataclass(frozen=True, eq=False)
class FinePlan:
    """Which tiles of the fine grid run: starts (y, x), and the band where their result is blended."""

    tiles: tuple[tuple[int, int], ...]
    band: np.ndarray  # bool, fine grid
    candidates: int  # tiles on the grid before skipping those without band pixels


def tile_starts(length: int, tile: int, overlap: float) -> list[int]:
    """Start offsets of tiles covering [0, length): evenly spread, first at 0, last flush with the end."""
    if length <= tile:
        return [0]
    stride = max(1, round(tile * (1.0 - overlap)))
    count = -(-(length - tile) // stride) + 1
    return [round(i * (length - tile) / (count - 1)) for i in range(count)]


def blend_window(h: int, w: int) -> np.ndarray:
    """Hann-like weights that fall towards tile edges but never reach zero."""

    def ramp(n: int) -> np.ndarray:
        x = (np.arange(n, dtype=np.float32) + 0.5) / n
        return np.maximum(0.5 - 0.5 * np.cos(2.0 * np.pi * x), 1e-3).astype(np.float32)

    return np.outer(ramp(h), ramp(w)).astype(np.float32)


def edge_band(labels: np.ndarray, radius: int) -> np.ndarray:
    """Pixels within `radius` pixels of a class edge (both sides), bool like `labels`."""
    kernel = np.ones((3, 3), np.uint8)
    band = (cv2.dilate(labels, kernel) != cv2.erode(labels, kernel)).astype(np.uint8)
    if radius > 1:
        band = cv2.dilate(band, np.ones((2 * radius - 1, 2 * radius - 1), np.uint8))
    return band.astype(bool)


def plan_tiles(labels: np.ndarray, tile: tuple[int, int], overlap: float, radius: int) -> FinePlan:
    """The band around the class edges of `labels` (fine grid) and the tiles that touch it.

    Every tile that covers a band pixel runs, so the window-weighted blend at a band pixel equals the
    blend over all tiles."""
    th, tw = tile
    band = edge_band(labels, radius)
    ys = tile_starts(labels.shape[0], th, overlap)
    xs = tile_starts(labels.shape[1], tw, overlap)
    run = tuple((y, x) for y in ys for x in xs if band[y : y + th, x : x + tw].any())
    return FinePlan(run, band, len(ys) * len(xs))


def refine(
    predict: Callable[[np.ndarray], np.ndarray],
    coarse: np.ndarray,
    work: np.ndarray,
    tile: tuple[int, int],
    plan: FinePlan,
    batch: int = 1,
    weight: float = 0.5,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
) -> np.ndarray:
    """Blend tile probabilities over `work` (uint8 fine-grid photo, at least one tile in size) into
    `coarse` (float32 probabilities already on the fine grid) inside `plan.band`; returns `coarse`.

    `cancelled()` is asked before each network call (so a cancel stops within one batch of tiles) and
    raises `Cancelled`; `progress(done, total)` follows each call, counting the coarse pass as step 1."""
    th, tw = tile
    total = 1 + -(-len(plan.tiles) // batch)
    if progress is not None:
        progress(1, total)
    if not plan.tiles:
        return coarse
    window = blend_window(th, tw)[:, :, None]
    acc = np.zeros_like(coarse)
    norm = np.zeros(coarse.shape[:2], np.float32)
    for step, start in enumerate(range(0, len(plan.tiles), batch), start=2):
        if cancelled is not None and cancelled():
            raise Cancelled("Analysis cancelled.")
        group = plan.tiles[start : start + batch]
        probs = predict(np.stack([work[y : y + th, x : x + tw] for y, x in group]))
        for (y, x), p in zip(group, probs, strict=True):
            acc[y : y + th, x : x + tw] += p * window
            norm[y : y + th, x : x + tw] += window[:, :, 0]
        if progress is not None:
            progress(step, total)
    band = plan.band
    fine = acc[band] / norm[band][:, None]
    coarse[band] = (1.0 - weight) * coarse[band] + weight * fine
    return coarse
