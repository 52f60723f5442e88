"""Synthetic pipe photos with exact label masks, for tests, demos and the sample photos.

A shaded cylinder crosses a textured background at a random angle; rust patches of irregular shape
sit on the pipe. Labels follow the default classes: 0 corrosion, 1 asset, 2 background. Seeded, any
size, numpy + OpenCV only.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from app.core.palette import ASSET, BACKGROUND, CORROSION, encode_mask

# Base colours (RGB). With `separable=True` each class keeps "its" channel the largest: corrosion red,
# asset blue, background green (the palette's colours), so a channel-argmax model segments exactly.
_RUST = np.array([168.0, 84.0, 40.0], dtype=np.float32)
_STEEL = np.array([112.0, 124.0, 150.0], dtype=np.float32)
_GROUND = np.array([104.0, 126.0, 92.0], dtype=np.float32)
_DOMINANT = {CORROSION.id: 0, ASSET.id: 2, BACKGROUND.id: 1}
GROUNDS = ("soil", "rust")  # "rust": rust-brown ground textured like corrosion, a hard case for a model


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    """Low-frequency noise in [-1, 1]: random values on a coarse grid, upsampled smoothly."""
    gh, gw = max(2, h * cells // max(h, w)), max(2, w * cells // max(h, w))
    grid = rng.uniform(-1.0, 1.0, size=(gh, gw)).astype(np.float32)
    return cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC).clip(-1.0, 1.0)


def synthetic_pipe(
    seed: int,
    size: int | tuple[int, int] = 256,
    rust: float = 0.15,
    noise: float = 6.0,
    separable: bool = True,
    ground: str = "soil",
) -> tuple[np.ndarray, np.ndarray]:
    """(rgb uint8 HxWx3, labels uint8 HxW). `size` is (H, W) or a square side; `rust` is roughly the
    corroded fraction of the pipe (0 gives a clean pipe); `noise` is the sensor noise's std dev;
    `ground` one of GROUNDS ("rust" looks like corrosion, so it cannot be `separable`)."""
    h, w = (size, size) if isinstance(size, int) else size
    if h < 8 or w < 8:
        raise ValueError(f"size must be at least 8x8, got {h}x{w}")
    if ground not in GROUNDS:
        raise ValueError(f"ground must be one of {', '.join(GROUNDS)}, got {ground!r}")
    if ground == "rust" and separable:
        raise ValueError("a rust-brown ground cannot keep the background's channel largest; separable=False")
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)

    # Pipe: a band of half-width `radius` along a line through a point near the centre.
    angle = rng.uniform(-0.6, 0.6) + (np.pi / 2 if rng.random() < 0.3 else 0.0)
    cy, cx = h * rng.uniform(0.4, 0.6), w * rng.uniform(0.4, 0.6)
    radius = min(h, w) * rng.uniform(0.18, 0.32)
    across = (xx - cx) * -np.sin(angle) + (yy - cy) * np.cos(angle)
    along = (xx - cx) * np.cos(angle) + (yy - cy) * np.sin(angle)
    on_pipe = np.abs(across) < radius

    labels = np.full((h, w), BACKGROUND.id, dtype=np.uint8)
    labels[on_pipe] = ASSET.id
    if rust > 0:
        field = _smooth_noise(rng, h, w, cells=int(rng.integers(6, 12)))
        field += 0.5 * _smooth_noise(rng, h, w, cells=int(rng.integers(16, 28)))
        cut = np.quantile(field[on_pipe], 1.0 - min(rust, 1.0)) if on_pipe.any() else np.inf
        labels[on_pipe & (field > cut)] = CORROSION.id

    # Shading: a cylinder lit from one side; texture: streaks along the pipe, blotches on the ground.
    t = np.clip(across / radius, -1.0, 1.0)
    light = rng.uniform(-0.5, 0.5)
    shade = 0.55 + 0.45 * np.clip(np.sqrt(1.0 - t * t) * np.cos(light) + t * np.sin(light), 0.0, 1.0)
    streak = np.sin(along * rng.uniform(0.05, 0.2) + across * 0.01) * 6.0
    ground_tex = _smooth_noise(rng, h, w, cells=24) * 18.0 + _smooth_noise(rng, h, w, cells=6) * 14.0
    rust_tex = _smooth_noise(rng, h, w, cells=40) * 22.0

    rgb = np.empty((h, w, 3), dtype=np.float32)
    bg = labels == BACKGROUND.id
    steel = labels == ASSET.id
    rusty = labels == CORROSION.id
    rgb[bg] = _GROUND + ground_tex[bg][:, None]
    rgb[steel] = _STEEL * shade[steel][:, None] + streak[steel][:, None]
    rgb[rusty] = _RUST * (0.6 + 0.4 * shade[rusty][:, None]) + rust_tex[rusty][:, None] * [1.0, 0.6, 0.3]
    if ground == "rust":  # its own generator: the pipe and the noise stay those of the soil scene
        ground_rng = np.random.default_rng([seed, 1])
        patchy = 0.75 + 0.25 * _smooth_noise(ground_rng, h, w, cells=8)
        grain = _smooth_noise(ground_rng, h, w, cells=40) * 22.0
        rgb[bg] = _RUST * patchy[bg][:, None] + grain[bg][:, None] * [1.0, 0.6, 0.3]
    if noise > 0:
        rgb += rng.normal(0.0, noise, size=rgb.shape).astype(np.float32)
    out = np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
    if separable:
        _keep_dominant(out, labels)
    return out, labels


def _keep_dominant(rgb: np.ndarray, labels: np.ndarray) -> None:
    """Raise each pixel's class channel above the other two (in place)."""
    for class_id, channel in _DOMINANT.items():
        sel = labels == class_id
        if not sel.any():
            continue
        px = rgb[sel].astype(np.int16)
        others = np.delete(px, channel, axis=1).max(axis=1)
        px[:, channel] = np.maximum(px[:, channel], others + 6)
        over = px[:, channel] > 255  # no head room: lower the others instead
        if over.any():
            px[over, channel] = 255
            rest = [c for c in range(3) if c != channel]
            px[np.ix_(over, rest)] = np.minimum(px[np.ix_(over, rest)], 249)
        rgb[sel] = px.astype(np.uint8)


def main(argv: list[str] | None = None) -> None:
    """Write sample photos (and their true masks under truth/): `python -m app.core.synthetic --out DIR`."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--count", type=int, default=3)
    parser.add_argument("--size", type=int, nargs=2, default=(480, 640), metavar=("H", "W"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for i in range(args.count):
        rgb, labels = synthetic_pipe(seed=1000 + i, size=tuple(args.size), rust=0.05 + 0.1 * i)
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        cv2.imwrite(str(args.out / f"synthetic_pipe_{i + 1:02d}.jpg"), bgr, [cv2.IMWRITE_JPEG_QUALITY, 90])
        mask = cv2.cvtColor(encode_mask(labels), cv2.COLOR_RGB2BGR)
        (args.out / "truth").mkdir(exist_ok=True)
        cv2.imwrite(str(args.out / "truth" / f"synthetic_pipe_{i + 1:02d}.png"), mask)


if __name__ == "__main__":
    main()
