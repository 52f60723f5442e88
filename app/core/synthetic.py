"""Synthetic pipe photos with exact label masks, for tests, demos and the sample photos.

`synthetic_pipe`: a shaded cylinder crosses a textured background at a random angle; rust patches of
irregular shape sit on the pipe (simple, optionally channel-separable, for tests). `pipe_photo`: the
look of a photographed pipe (paint, rust texture and relief, pitting, run-off, flaking paint, grass,
concrete or a wall behind), for the sample photos. Labels follow the default classes: 0 corrosion,
1 asset, 2 background. Seeded, any size, numpy + OpenCV only.
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
    `ground` one of GROUNDS ("rust" looks like corrosion, so it cannot be `separable`).
    Long because the scene's layers are drawn in order; splitting would pass a dozen arrays around."""
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


# Scenes for the sample photos (`pipe_photo`): what the pipes users photograph stand on or before.
SCENES = ("grass", "concrete", "wall")
SAMPLE_RUST = (0.15, 0.35, 0.6)  # the sample photos' rusted fractions of the pipe: light, medium, heavy
# Paint colours (RGB) of the pipes in the sample photos: blue, light blue, off-white, grey, green.
_PAINTS = np.array(
    [[70, 110, 150], [120, 170, 195], [205, 205, 195], [128, 130, 132], [80, 115, 85]], dtype=np.float32
)
# Rust tones (RGB), darkest to lightest: scale, brown, orange, ochre.
_RUST_TONES = np.array([[62, 36, 22], [118, 62, 32], [178, 92, 40], [196, 138, 74]], dtype=np.float32)


def _octaves(rng: np.random.Generator, h: int, w: int, cells: int, count: int) -> np.ndarray:
    """Fractal noise, roughly in [-1, 1]: `count` octaves from `cells` cells, each finer and fainter."""
    out = np.zeros((h, w), dtype=np.float32)
    amp, total = 1.0, 0.0
    for i in range(count):
        out += amp * _smooth_noise(rng, h, w, cells=min(cells * 2**i, max(h, w) // 2))
        total += amp
        amp *= 0.55
    return out / total * 1.6


def _scene(rng: np.random.Generator, h: int, w: int, scene: str) -> np.ndarray:
    """The out-of-focus ground or wall behind the pipe, float RGB."""
    blotch = _octaves(rng, h, w, 4, 5)
    grain = rng.normal(0.0, 1.0, size=(h, w)).astype(np.float32)
    if scene == "grass":  # blades: noise smeared along a near-vertical direction, light and dark
        blades = cv2.GaussianBlur(grain, (0, 0), sigmaX=0.8, sigmaY=5.0)
        base = np.array([86.0, 112.0, 52.0]) + blotch[..., None] * [22.0, 26.0, 12.0]
        rgb = base + (blades * 55.0)[..., None] * [0.7, 1.0, 0.45]
    elif scene == "concrete":  # grey slab with stains, fine speckle and a joint
        base = np.array([150.0, 147.0, 140.0]) + blotch[..., None] * [24.0, 24.0, 22.0]
        rgb = base + (cv2.GaussianBlur(grain, (0, 0), 0.7) * 18.0)[..., None]
        joint = int(rng.uniform(0.2, 0.8) * w)
        rgb[:, joint : joint + 3] *= 0.6
    else:  # an industrial wall: panels with seams, dirt running down
        dirt = cv2.GaussianBlur(grain, (0, 0), sigmaX=2.0, sigmaY=25.0) * 40.0
        base = np.array([176.0, 170.0, 156.0]) + blotch[..., None] * [18.0, 18.0, 16.0]
        rgb = base + dirt[..., None] * [0.9, 0.85, 0.8]
        for x in range(int(rng.uniform(0.1, 0.3) * w), w, max(8, w // 3)):
            rgb[:, x : x + 2] *= 0.55
    return cv2.GaussianBlur(rgb.astype(np.float32), (0, 0), rng.uniform(1.0, 2.5))  # depth of field


def _rust_mask(rng: np.random.Generator, on_pipe: np.ndarray, rust: float, h: int, w: int) -> np.ndarray:
    """Rust patches with ragged edges (fractal noise above a quantile), plus pits in the paint."""
    field = _octaves(rng, h, w, int(rng.integers(4, 8)), 6)
    cut = np.quantile(field[on_pipe], 1.0 - min(rust, 1.0)) if on_pipe.any() else np.inf
    mask = on_pipe & (field > cut)
    front = on_pipe & (field > cut - 0.12)  # pitting just ahead of the front, denser nearer to it
    pits = (rng.random((h, w)) < 0.004 * (field - cut + 0.12) / 0.12) & front
    return mask | (cv2.dilate(pits.astype(np.uint8), np.ones((2, 2), np.uint8)) > 0)


def _streaks(rng: np.random.Generator, rust_mask: np.ndarray, on_pipe: np.ndarray) -> np.ndarray:
    """Rust run-off in [0, 1]: the rust smeared downwards, broken into thin vertical runs."""
    h, w = rust_mask.shape
    length = max(9, h // 6) | 1
    kernel = np.zeros((length, 1), np.float32)
    kernel[: length // 2 + 1] = 1.0  # one-sided: only what is above a pixel runs onto it
    run = cv2.filter2D(rust_mask.astype(np.float32), -1, kernel / kernel.sum(), anchor=(0, length - 1))
    runs = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), sigmaX=1.5, sigmaY=12.0)
    return np.clip(run * 2.2 * (runs * 2.5 + 0.6), 0.0, 1.0) * on_pipe


def _rust_colour(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Rust texture, float RGB: tones mixed by fractal noise, scale flakes and dark pits."""
    tone = np.clip((_octaves(rng, h, w, 10, 5) + 1.0) * 1.5, 0.0, 2.999)
    lo = np.floor(tone).astype(int)
    frac = (tone - lo)[..., None]
    rgb = _RUST_TONES[lo] * (1 - frac) + _RUST_TONES[lo + 1] * frac
    grain = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 0.8)
    rgb *= (1.0 + 0.18 * grain + 0.2 * _octaves(rng, h, w, 60, 3))[..., None]
    flakes = _octaves(rng, h, w, 30, 4) > 0.45
    rgb[flakes] = rgb[flakes] * 0.6  # dark scale between lighter crust
    pits = cv2.dilate((rng.random((h, w)) < 0.002).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    rgb[pits] = rgb[pits] * 0.35
    return rgb


def _relief(rng: np.random.Generator, rusty: np.ndarray, light: float) -> np.ndarray:
    """Lighting factor of the surface's relief: the broken paint's edge and the rough crust."""
    h, w = rusty.shape
    height = 1.2 * cv2.GaussianBlur((~rusty).astype(np.float32), (0, 0), 1.2)  # the paint layer
    height += rusty * (0.8 * _octaves(rng, h, w, 40, 4) + 0.4 * _octaves(rng, h, w, 120, 2))
    gy, gx = np.gradient(height)
    return np.clip(1.0 + 0.9 * (gx * np.sin(light) - gy * np.cos(light)), 0.6, 1.5)[..., None]


def pipe_photo(
    seed: int, size: int | tuple[int, int] = (480, 640), rust: float = 0.3, scene: str = "grass"
) -> tuple[np.ndarray, np.ndarray]:
    """A painted pipe with rust, run-off streaks, pitting and flaking paint before a real-looking
    `scene` (one of SCENES): (rgb uint8 HxWx3, labels uint8 HxW). Rust and visible run-off are
    corrosion; paint, even faintly stained, is asset."""
    h, w = (size, size) if isinstance(size, int) else size
    if h < 32 or w < 32 or scene not in SCENES:
        raise ValueError(f"size must be at least 32x32 and scene one of {', '.join(SCENES)}")
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(-0.45, 0.45)
    cy, cx = h * rng.uniform(0.42, 0.58), w * 0.5
    radius = min(h, w) * rng.uniform(0.2, 0.3)
    across = (xx - cx) * -np.sin(angle) + (yy - cy) * np.cos(angle)
    on_pipe = np.abs(across) < radius
    t = np.clip(across / radius, -1.0, 1.0)
    normal = np.sqrt(1.0 - t * t)
    light = rng.uniform(-0.6, 0.2)
    diffuse = np.clip(normal * np.cos(light) + t * np.sin(light), 0.0, 1.0)
    shade = (0.35 + 0.65 * diffuse)[..., None]
    gloss = (np.exp(-(((t - np.sin(light) * 0.8) / 0.12) ** 2)) * 60.0)[..., None]

    rusty = _rust_mask(rng, on_pipe, rust, h, w)
    run = _streaks(rng, rusty, on_pipe)
    paint = _PAINTS[rng.integers(len(_PAINTS))] * (1.0 + 0.06 * _octaves(rng, h, w, 6, 4))[..., None]
    rust_rgb = _rust_colour(rng, h, w)
    pipe = paint * shade + gloss
    pipe = pipe * (1 - 0.85 * run[..., None]) + rust_rgb * shade * 0.9 * (0.85 * run[..., None])
    # Flaking paint: a lifted, slightly lighter rim round each patch; relief lights its broken edge.
    rim = (cv2.dilate(rusty.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0) & ~rusty & on_pipe
    pipe[rim] = pipe[rim] * 1.06 + 6.0
    pipe = np.where(rusty[..., None], rust_rgb * (0.55 + 0.45 * shade), pipe) * _relief(rng, rusty, light)

    rgb = _scene(rng, h, w, scene)
    soft = np.clip((radius - np.abs(across)) + 0.5, 0.0, 1.0)[..., None]  # anti-aliased silhouette
    rgb = rgb * (1 - soft) + pipe * soft
    labels = np.full((h, w), BACKGROUND.id, dtype=np.uint8)
    labels[on_pipe] = ASSET.id
    labels[on_pipe & (rusty | (run > 0.5))] = CORROSION.id
    return _camera(rng, rgb, h, w), labels


def _camera(rng: np.random.Generator, rgb: np.ndarray, h: int, w: int) -> np.ndarray:
    """A slight lens blur, vignette, white-balance cast and sensor noise; uint8 RGB."""
    rgb = cv2.GaussianBlur(rgb.astype(np.float32), (0, 0), 0.6)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((yy - h / 2) / h) ** 2 + ((xx - w / 2) / w) ** 2
    rgb *= (1.0 - 0.5 * r2)[..., None] * rng.uniform(0.94, 1.06, size=3).astype(np.float32)
    rgb += rng.normal(0.0, 3.0, size=rgb.shape).astype(np.float32)
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)


def main(argv: list[str] | None = None) -> None:
    """Write sample photos (and their true masks under truth/): `python -m app.core.synthetic --out DIR`."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--count", type=int, default=3)
    parser.add_argument("--size", type=int, nargs=2, default=(480, 640), metavar=("H", "W"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for i in range(args.count):
        rust = SAMPLE_RUST[i % len(SAMPLE_RUST)]
        rgb, labels = pipe_photo(1000 + i, tuple(args.size), rust, SCENES[i % len(SCENES)])
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        cv2.imwrite(str(args.out / f"synthetic_pipe_{i + 1:02d}.jpg"), bgr, [cv2.IMWRITE_JPEG_QUALITY, 90])
        mask = cv2.cvtColor(encode_mask(labels), cv2.COLOR_RGB2BGR)
        (args.out / "truth").mkdir(exist_ok=True)
        cv2.imwrite(str(args.out / "truth" / f"synthetic_pipe_{i + 1:02d}.png"), mask)


if __name__ == "__main__":
    main()
