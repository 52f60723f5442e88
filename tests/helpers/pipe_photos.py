"""Small synthetic pipe photos on disk (PNG), for tests and benchmarks that need folders of photos."""

from __future__ import annotations

from pathlib import Path

from app.core.files import write_png
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
