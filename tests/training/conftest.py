"""Tiny synthetic datasets on disk, in both layouts, for the training tests."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from app.core.palette import encode_mask
from app.core.synthetic import synthetic_pipe
from tests.helpers.once import built_once

REAL_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "pipe-corrosion"


def synthetic_pair(seed: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(photo uint8 HxWx3, class ids uint8 HxW): a pipe-like photo with rust and its exact mask."""
    return synthetic_pipe(seed, size)


def write_dataset(root: Path, n: int, size: int = 64, layout: str = "origin", seed: int = 0) -> Path:
    """Write n synthetic pairs as PNGs: layout "origin" (DATASET/original + ground_truth) or "plain"."""
    if layout == "origin":
        img_dir, mask_dir = root / "DATASET" / "original", root / "DATASET" / "ground_truth"
        names = [(f"ORI_{i:03d}.png", f"GT_{i:03d}.png") for i in range(n)]
    else:
        img_dir, mask_dir = root / "images", root / "masks"
        names = [(f"photo_{i:02d}.png", f"photo_{i:02d}.png") for i in range(n)]
    img_dir.mkdir(parents=True, exist_ok=True)
    mask_dir.mkdir(parents=True, exist_ok=True)
    for i, (img_name, mask_name) in enumerate(names):
        rgb, labels = synthetic_pair(seed + i, size)
        Image.fromarray(rgb).save(img_dir / img_name)
        Image.fromarray(encode_mask(labels)).save(mask_dir / mask_name)
    return root


@pytest.fixture
def make_dataset(tmp_path: Path) -> Callable[..., Path]:
    def make(n: int = 6, size: int = 64, layout: str = "origin", seed: int = 0, name: str = "data") -> Path:
        return write_dataset(tmp_path / name, n, size, layout, seed)

    return make


@pytest.fixture(scope="session")
def tiny_origin_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 pairs of 64x64 in the origin layout with train.txt/val.txt (9/3), shared by the slow tests."""

    def build(folder: Path) -> None:
        root = write_dataset(folder / "data", 12, 64, "origin", seed=100)
        (root / "train.txt").write_text("".join(f"{i:03d}\n" for i in range(9)))
        (root / "val.txt").write_text("".join(f"{i:03d}\n" for i in range(9, 12)))

    return built_once(tmp_path_factory, "tiny", build) / "data"


@pytest.fixture
def real_data() -> Path:
    """The origin's photos in ../shared/data; tests that use it skip where it is absent."""
    if not (REAL_DATA / "DATASET").is_dir():
        pytest.skip(f"real data not found at {REAL_DATA}")
    return REAL_DATA


@pytest.fixture
def pipe_pair() -> Callable[[int, int], tuple[np.ndarray, np.ndarray]]:
    return synthetic_pair


TINY_UNET = ["--arch", "unet", "--model-setting", "base_filters=4", "--model-setting", "depth=2"]


def train_argv(data: Path, out: Path, *extra: str) -> list[str]:
    """A train CLI command line for a tiny U-Net on 64x64 photos (32x32 crops, batch 4)."""
    sizes = ["--batch-size", "4", "--crop", "32", "--input-size", "64"]
    paths = ["--data", str(data), "--out", str(out)]
    return [*paths, *sizes, *TINY_UNET, "--split-from-lists", "--lr", "3e-3", *extra]


@pytest.fixture(scope="session")
def trained_run(tiny_origin_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished 2-epoch run folder of the tiny U-Net (best.keras, log.csv, split.json, ...), trained once
    per test run (one worker trains it, the others wait for it)."""
    from training.train import main

    def build(folder: Path) -> None:
        assert main(train_argv(tiny_origin_dataset, folder / "tiny", "--epochs", "2")) == 0

    return built_once(tmp_path_factory, "runs", build) / "tiny"
