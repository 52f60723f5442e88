"""Score a model on synthetic hard cases: `python -m training.hard_cases --model M.onnx --out FIG.jpg`.

Pipes in front of rust-brown ground textured like corrosion (`app.core.synthetic`, `ground="rust"`), a
failure seen on real photos (a rusty wall behind a rusty pipe), here on pictures we own and may publish.
The same scenes on ordinary soil are the control. Prints each scene's IoUs and the means, and draws
photo | truth | prediction for the hard scenes.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.core.errors import CorroscopeError
from app.core.palette import DEFAULT_CLASSES
from app.core.synthetic import synthetic_pipe
from training import metrics
from training.evaluate import Predictor, load_predictor, predict_labels

log = logging.getLogger("training.hard_cases")

DEFAULT_SEEDS = (1, 2, 3, 4)


@dataclass(frozen=True)
class SceneScore:
    """One synthetic scene: its per-class IoU and how much of its ground was painted as corrosion."""

    seed: int
    ground: str
    iou: tuple[float, ...]
    ground_as_corrosion: float


@dataclass(frozen=True)
class Scene:
    """One rendered scene and the model's class ids for it."""

    seed: int
    photo: np.ndarray
    truth: np.ndarray
    pred: np.ndarray


def run_scenes(predictor: Predictor, seeds: tuple[int, ...], ground: str, size: int) -> list[Scene]:
    """Render each seed's scene on `ground` and predict it."""
    scenes = []
    for seed in seeds:
        photo, truth = synthetic_pipe(seed, size, rust=0.2, separable=False, ground=ground)
        scenes.append(Scene(seed, photo, truth, predict_labels(predictor, photo)))
    return scenes


def score(scene: Scene, ground: str) -> SceneScore:
    cm = metrics.confusion_matrix(scene.truth, scene.pred, len(DEFAULT_CLASSES))
    iou = metrics.class_scores(cm)["iou"]
    background, corrosion = _class_id("background"), _class_id("corrosion")
    on_ground = cm[background, corrosion] / max(cm[background].sum(), 1)
    return SceneScore(scene.seed, ground, tuple(float(v) for v in iou), float(on_ground))


def _class_id(name: str) -> int:
    return next(c.id for c in DEFAULT_CLASSES if c.name == name)


def _log_scores(what: str, iou, ground_as_corrosion: float) -> None:
    ious = ", ".join(f"{c.name} {100 * v:.1f} %" for c, v in zip(DEFAULT_CLASSES, iou, strict=True))
    log.info("%s: IoU %s; ground painted as corrosion %.1f %%", what, ious, 100 * ground_as_corrosion)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    p = argparse.ArgumentParser(prog="python -m training.hard_cases", description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, type=Path, help="a contract .onnx file or a run's best.keras")
    p.add_argument("--out", type=Path, default=None, help="figure (.png or .jpg); none if omitted")
    p.add_argument("--seeds", type=int, nargs="+", default=list(DEFAULT_SEEDS))
    p.add_argument("--size", type=int, default=256, help="square side of the scenes")
    a = p.parse_args(argv)
    try:
        predictor = load_predictor(a.model)
    except CorroscopeError as exc:
        log.error("%s", exc)
        return 2
    for ground in ("rust", "soil"):
        scenes = run_scenes(predictor, tuple(a.seeds), ground, a.size)
        scores = [score(s, ground) for s in scenes]
        for s in scores:
            _log_scores(f"{ground} ground, seed {s.seed}", s.iou, s.ground_as_corrosion)
        mean = np.nanmean([s.iou for s in scores], axis=0)
        on_ground = float(np.mean([s.ground_as_corrosion for s in scores]))
        _log_scores(f"{ground} ground, mean of {len(scores)} scenes", mean, on_ground)
        if ground == "rust" and a.out is not None:
            from training.plots import example_grid

            a.out.parent.mkdir(parents=True, exist_ok=True)
            rows = [
                (f"synthetic, seed {s.seed}", s.photo, s.truth, s.pred, sc.iou[_class_id("corrosion")])
                for s, sc in zip(scenes, scores, strict=True)
            ]
            example_grid(rows, DEFAULT_CLASSES, "Rust-brown ground behind a pipe (synthetic)", a.out)
            log.info("figure in %s", a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
