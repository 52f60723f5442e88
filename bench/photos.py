"""Large synthetic pipe photos as camera-like JPEGs, made at run time (never committed)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from app.core.synthetic import synthetic_pipe

# (height, width) of the photos the issue names: a 12 MP and a 50 MP camera frame (4:3).
SIZES = {"12MP": (3000, 4000), "50MP": (6120, 8160)}
_STRIP = 512


def make_jpeg(path: Path, size: tuple[int, int], seed: int = 0, quality: int = 90) -> Path:
    """A pipe photo at `size` (H, W): the scene drawn at 1/4 scale, enlarged, with per-pixel sensor noise
    added strip by strip (so memory stays small), saved as a JPEG like a camera's."""
    h, w = size
    small, _ = synthetic_pipe(seed, (max(8, h // 4), max(8, w // 4)), noise=0.0)
    big = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    rng = np.random.default_rng(seed)
    for r0 in range(0, h, _STRIP):
        strip = big[r0 : r0 + _STRIP]
        noise = rng.normal(0.0, 5.0, strip.shape).astype(np.float32)
        strip[...] = np.clip(strip + noise, 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), cv2.cvtColor(big, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]):
        raise OSError(f"cannot write {path}")
    return path
