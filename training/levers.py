"""Post-processing levers measured on a cross-validation run without retraining:
`python -m training.levers runs/cv-shipped --data DIR --lever flip --out runs/cv-shipped-flip`.

Each fold's own model (`foldK/last.keras`, at the run's input size) scores its held-out photos again
through the app's pipeline (`training.cv.score_fold`), with the levers wrapped around the network:

- `flip`: test-time augmentation, the photo and its mirror image (left-right) predicted and the
  probabilities averaged;
- `guided`: an edge-aware refinement of the probabilities at the network's resolution, before the
  pipeline upsamples them and takes the argmax: a colour guided filter (He et al., 2013) guided by the
  photo, its radius and eps fixed here in advance (never tuned on the held-out photos);
- `expected-share`: the corrosion/asset split drawn at the share the probabilities expect (the pipe as
  the argmax draws it, its pixels likeliest corrosion painted corrosion, as many as that share says;
  `app.core.expected_share`, what the app does for a model whose metadata says `corroscope.split:
  expected-share`);
- `--member RUN` (repeatable): an ensemble, the probabilities of each fold's network averaged with those
  of the same fold's network of other CV runs on the same folds (as the shipped model averages three),
  before any lever above.

The out folder has the base run's folds and an `oof.json` of the same format, so
`python -m training.compare BASE OUT` gives the lever's paired difference.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from app.core.errors import CorroscopeError
from app.core.expected_share import split_at_expected_share
from app.core.palette import DEFAULT_CLASSES
from training import cv, data
from training.wrapped import Wrapped

log = logging.getLogger("training.levers")

# Chosen before any measurement: a 9 x 9 window at 256 px (the blur of DeepLabV3+'s stride-4 decoder,
# upsampled) and eps = 0.1^2 for a guide in [0, 1], He et al.'s edge-preserving smoothing setting: a colour
# step of 0.3 across a window keeps its edge, texture of a few percent is smoothed.
GUIDED_RADIUS = 4
GUIDED_EPS = 0.01
_FLOOR = 1e-6  # the filter can overshoot below 0; keep every class a little probability before renormalising


def box_mean(x: np.ndarray, radius: int) -> np.ndarray:
    """Mean over the (2r+1)^2 window around each pixel of H x W (x ...), windows cut at the borders."""
    out = x.astype(np.float64)
    for axis in (0, 1):
        n = out.shape[axis]
        c = np.cumsum(out, axis=axis)
        c = np.concatenate([np.zeros_like(np.take(c, [0], axis=axis)), c], axis=axis)
        hi = np.minimum(np.arange(n) + radius + 1, n)
        lo = np.maximum(np.arange(n) - radius, 0)
        shape = [1] * out.ndim
        shape[axis] = n
        out = (np.take(c, hi, axis=axis) - np.take(c, lo, axis=axis)) / (hi - lo).reshape(shape)
    return out


def _outer(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return x[..., :, None] * y[..., None, :]


def guided_filter(guide: np.ndarray, src: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """He et al.'s guided filter with a colour guide: each window fits src ~ a . guide + b (ridge eps),
    and each pixel averages the fits of the windows it lies in. guide H x W x 3, src H x W x C."""
    mean_i = box_mean(guide, radius)  # H W 3
    mean_p = box_mean(src, radius)  # H W C
    cov_ip = box_mean(guide[..., :, None] * src[..., None, :], radius) - _outer(mean_i, mean_p)
    var_i = box_mean(guide[..., :, None] * guide[..., None, :], radius) - _outer(mean_i, mean_i)
    a = np.linalg.solve(var_i + eps * np.eye(3), cov_ip)  # H W 3 C
    b = mean_p - np.einsum("hwkc,hwk->hwc", a, mean_i)
    return np.einsum("hwkc,hwk->hwc", box_mean(a, radius), guide) + box_mean(b, radius)


def refine(
    rgb: np.ndarray, probs: np.ndarray, radius: int = GUIDED_RADIUS, eps: float = GUIDED_EPS
) -> np.ndarray:
    """Class probabilities H x W x C refined along the photo's edges; still a distribution per pixel."""
    guide = rgb.astype(np.float64) / 255.0
    q = np.maximum(guided_filter(guide, probs.astype(np.float64), radius, eps), _FLOOR)
    return (q / q.sum(axis=-1, keepdims=True)).astype(np.float32)


class FlipAveraged(Wrapped):
    """Probabilities of the photo and of its mirror image (mirrored back), averaged."""

    def predict(self, batch: np.ndarray, *args) -> np.ndarray:
        probs = self._inner.predict(batch, *args)
        mirrored = self._inner.predict(np.ascontiguousarray(batch[:, :, ::-1]), *args)[:, :, ::-1]
        return ((probs + mirrored) / 2).astype(np.float32)


class GuidedRefined(Wrapped):
    """Probabilities refined by a guided filter with the network's input photo as the guide."""

    def __init__(self, model: Any, radius: int = GUIDED_RADIUS, eps: float = GUIDED_EPS) -> None:
        super().__init__(model)
        self.radius, self.eps = radius, eps

    def predict(self, batch: np.ndarray, *args) -> np.ndarray:
        probs = self._inner.predict(batch, *args)
        return np.stack([refine(img, p, self.radius, self.eps) for img, p in zip(batch, probs, strict=True)])


class Averaged(Wrapped):
    """The probabilities of the model and of other networks of the same fold, averaged (an ensemble)."""

    def __init__(self, model: Any, members: Sequence[Any]) -> None:
        super().__init__(model)
        self.members = tuple(members)

    def predict(self, batch: np.ndarray, *args) -> np.ndarray:
        probs = [m.predict(batch, *args) for m in (self._inner, *self.members)]
        return (np.sum(probs, axis=0) / len(probs)).astype(np.float32)


class ExpectedShareSplit(Wrapped):
    """The corrosion/asset split drawn at the expected share, as the app draws it for a model whose
    metadata asks for it (`app.core.expected_share`)."""

    def predict(self, batch: np.ndarray, *args) -> np.ndarray:
        probs = self._inner.predict(batch, *args)
        return np.stack([split_at_expected_share(p, DEFAULT_CLASSES) for p in probs]).astype(np.float32)


LEVERS: dict[str, Callable[[Any], Any]] = {
    "flip": FlipAveraged,
    "guided": GuidedRefined,
    "expected-share": ExpectedShareSplit,
}


def wrap(levers: Sequence[str], members: Sequence[Any] = ()) -> Callable[[Any], Any]:
    """The members averaged in first, then the levers applied to the probabilities in the order given
    (flip then guided: the two views averaged, then the average refined)."""

    def adapt(model: Any) -> Any:
        if members:
            model = Averaged(model, members)
        for name in levers:
            model = LEVERS[name](model)
        return model

    return adapt


def _fold_members(runs: Sequence[Path], fold: int) -> list[Any]:
    """The same fold's network of each other CV run, loaded as the pipeline runs them."""
    from training.evaluate import load_predictor

    return [load_predictor(cv.scoring_model(run / f"fold{fold}")).model for run in runs]


def _same_folds(base: Path, runs: Sequence[Path]) -> None:
    held = json.loads((base / cv.FOLDS).read_text(encoding="utf-8"))["folds"]
    for run in runs:
        path = run / cv.FOLDS
        if not path.is_file() or json.loads(path.read_text(encoding="utf-8"))["folds"] != held:
            raise CorroscopeError(f"{run} was not trained on {base}'s folds: its networks saw test photos")


def _claim(out: Path, settings: dict) -> None:
    """Record what `out` holds; refuse to go on in a folder scored with other settings (rows would mix)."""
    path = out / "levers.json"
    if path.is_file():
        held = json.loads(path.read_text(encoding="utf-8"))
        if held != settings:
            raise CorroscopeError(f"{out} holds rows scored with {held}; choose a new --out for {settings}")
        return
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(settings, indent=1) + "\n", encoding="utf-8")


def apply_levers(
    base: Path,
    data_dir: Path,
    out: Path,
    levers: Sequence[str],
    fit: bool = False,
    members: Sequence[Path] = (),
) -> dict:
    """Score every fold of `base` with `members` averaged in and `levers` into `out` (resumable per
    fold); returns its `oof.json`."""
    record_path = base / cv.OOF
    if not record_path.is_file() or not (base / cv.FOLDS).is_file():
        raise CorroscopeError(f"{base}: not a finished training.cv run (no {cv.OOF} or {cv.FOLDS})")
    base_record = json.loads(record_path.read_text(encoding="utf-8"))
    folds = json.loads((base / cv.FOLDS).read_text(encoding="utf-8"))
    pairs = data.find_pairs(data_dir)
    missing = sorted({i for f in folds["folds"] for i in f} - {p.id for p in pairs})
    if missing:
        raise CorroscopeError(
            f"{data_dir} lacks photos of the run's folds (e.g. {missing[:3]}): wrong --data?"
        )
    _same_folds(base, members)
    _claim(
        out,
        {
            "base": str(base.resolve()),
            "levers": list(levers),
            "fit": fit,
            "guided": {"radius": GUIDED_RADIUS, "eps": GUIDED_EPS},
            **({"members": [str(m.resolve()) for m in members]} if members else {}),
        },
    )
    shutil.copyfile(base / cv.FOLDS, out / cv.FOLDS)
    rows: list[dict] = []
    fitted: list[dict] = []
    for k in range(len(folds["folds"])):
        split = cv.fold_split(folds["folds"], k)
        done = out / f"fold{k}" / "oof-rows.json"
        if not done.is_file():
            model = cv.scoring_model(base / f"fold{k}")
            adapt = wrap(levers, _fold_members(members, k))
            named = [*(f"member {m.name}" for m in members), *levers]
            log.info("fold %d: %d photos with %s", k, len(split.val), " + ".join(named))
            fold_rows, probs = cv.score_fold(model, data.select(pairs, split.val), k, True, adapt)
            done.parent.mkdir(exist_ok=True)  # the lever's probabilities: its range can be calibrated
            np.savez_compressed(done.parent / cv.PROBS, ids=np.array(split.val), probs=probs)
            fit_rows = []
            if fit:
                fit_rows, _ = cv.score_fold(model, data.select(pairs, split.train), k, False, adapt)
            (done.parent / "fit-rows.json").write_text(json.dumps(fit_rows) + "\n", encoding="utf-8")
            done.write_text(json.dumps(fold_rows) + "\n", encoding="utf-8")
        rows += json.loads(done.read_text(encoding="utf-8"))
        fitted += json.loads((done.parent / "fit-rows.json").read_text(encoding="utf-8"))
    recipe = [*base_record.get("recipe", []), "--levers", *levers, *(f"--member={m}" for m in members)]
    result = cv.oof_record(recipe, data_dir, len(folds["folds"]), folds.get("fold_seed", 0), rows, fitted)
    result |= {
        "base": str(base),
        "levers": list(levers),
        "members": [str(m) for m in members],
        "guided": {"radius": GUIDED_RADIUS, "eps": GUIDED_EPS},
    }
    (out / cv.OOF).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return result


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    p = argparse.ArgumentParser(prog="python -m training.levers", description=__doc__.splitlines()[0])
    p.add_argument("base", type=Path, metavar="BASE", help="a finished training.cv out folder")
    p.add_argument("--data", required=True, type=Path, help="the dataset folder the base run used")
    p.add_argument(
        "--lever",
        action="append",
        default=[],
        choices=sorted(LEVERS),
        dest="levers",
        help="a lever to apply; repeat to combine (applied in the order given)",
    )
    p.add_argument(
        "--member",
        action="append",
        default=[],
        type=Path,
        dest="members",
        metavar="RUN",
        help="another training.cv run on the same folds whose networks are averaged in; repeatable",
    )
    p.add_argument("--fit", action="store_true", help="also score each fold's training photos (slow)")
    p.add_argument("--out", required=True, type=Path, help="the new CV folder (compare it with BASE)")
    a = p.parse_args(argv)
    if a.out.resolve() == a.base.resolve():
        p.error("--out must be a new folder, not the base run")
    if not a.levers and not a.members:
        p.error("give at least one --lever or --member")
    try:
        result = apply_levers(a.base, a.data, a.out, a.levers, a.fit, a.members)
    except (CorroscopeError, OSError, ValueError) as exc:
        log.error("%s", exc)
        return 2
    log.info("%d photos scored; compare: python -m training.compare %s %s", result["n_photos"], a.base, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
