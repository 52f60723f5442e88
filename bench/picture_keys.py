"""The measurements behind adaptation's copy check (`app.core.picture_key.NEAR`): how far apart distinct
photos' thumbnails are, and how far a photo moves when re-encoded or resized.

`python -m bench.picture_keys [FOLDER]` (default: the origin's photos,
`../shared/data/pipe-corrosion/DATASET/original`): the five closest pairs of distinct photos, how many
share their pixels exactly, and the largest distance of a photo from itself re-saved as JPEG (quality
30-95) or resized (x0.5-x1.25, as PNG and as JPEG). About 35 s for 194 photos of 256 px on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import io
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from app.core.picture_key import PictureKey, picture_key, thumb_distance

ROOT = Path(__file__).resolve().parents[1]
ORIGIN = ROOT.parent / "shared" / "data" / "pipe-corrosion" / "DATASET" / "original"


def _variants(path: Path) -> dict[str, tuple[str, bytes]]:
    """The photo re-encoded and resized: name -> (suffix, bytes)."""
    out = {}
    with Image.open(path) as im:
        rgb = im.convert("RGB")
    for q in (30, 50, 75, 95):
        out[f"jpeg q{q}"] = (".jpg", _saved(rgb, "JPEG", quality=q))
    for s in (0.5, 0.75, 0.9, 1.25):
        small = rgb.resize((round(rgb.width * s), round(rgb.height * s)), Image.BICUBIC)
        out[f"resized x{s}"] = (".png", _saved(small, "PNG"))
        out[f"resized x{s} jpeg q75"] = (".jpg", _saved(small, "JPEG", quality=75))
    return out


def _saved(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def _closest(files: list[Path], keys: list[PictureKey]) -> None:
    thumbs = np.stack([np.frombuffer(k.thumbnail, np.uint8).astype(np.float32) for k in keys])
    dist = np.abs(thumbs[:, None] - thumbs[None]).mean(axis=2)
    rows, cols = np.triu_indices(len(files), 1)
    for o in np.argsort(dist[rows, cols])[:5]:
        a, b = files[rows[o]].name, files[cols[o]].name
        print(f"closest distinct pair {a} {b}: {dist[rows[o], cols[o]]:.2f}")
    print(f"exact pixel duplicates: {len(keys) - len({k.pixels for k in keys})}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=ORIGIN)
    args = parser.parse_args()
    files = sorted(p for p in args.folder.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    keys = [picture_key(p) for p in files]
    print(f"{len(files)} photos")
    _closest(files, keys)
    worst: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for path, key in zip(files, keys, strict=True):
            for name, (suffix, data) in _variants(path).items():
                copy = Path(tmp) / f"v{suffix}"
                copy.write_bytes(data)
                worst[name] = max(worst.get(name, 0.0), thumb_distance(key, picture_key(copy)))
    for name, value in worst.items():
        print(f"largest distance of a photo from itself, {name}: {value:.2f}")


if __name__ == "__main__":
    main()
