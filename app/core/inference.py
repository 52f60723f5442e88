"""Segmentation at any photo size (docs/design.md section 5): resize or fine (tiles) mode, memory bounded.

Resize mode runs the network once on the whole photo shrunk to its input size. Tiles ("fine") mode adds
a second look on a grid `tile_scale` times finer, only near the class edges of the first (`app.core.fine`);
its working map is `tile_scale` x the input size whatever the photo's size. Both modes produce class
probabilities at a working resolution; `app.core.strip_upsample` turns them into full-size labels and
confidence a few rows at a time.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from app.core.errors import Cancelled
from app.core.expected_share import ARGMAX, EXPECTED_SHARE, split_at_expected_share
from app.core.fine import CancelCheck, Progress, blend_window, plan_tiles, refine, tile_starts
from app.core.model import SegmentationModel
from app.core.palette import ClassInfo
from app.core.strip_upsample import StripUpsampler, argmax

Predict = Callable[[np.ndarray], np.ndarray]

__all__ = [
    "Cancelled",
    "InferenceMode",
    "InferenceOptions",
    "Segmentation",
    "blend_window",
    "segment",
    "segment_view",
    "shrink_area",
    "tile_starts",
]

log = logging.getLogger(__name__)

GRADED_CLASS_NAMES = ("corrosion", "asset")
# Fine mode, chosen on validation photos at 12 MP (bench.fine_mode, docs/performance.md): blend half and
# half within 2 coarse pixels of an edge of the coarse map (1-3 px and weights 0.4-0.6 all measured better
# than resize mode in every class; alone, without the coarse map, tiles lose corrosion IoU).
FINE_BAND_COARSE_PIXELS = 2
FINE_WEIGHT = 0.5


class InferenceMode(str, enum.Enum):
    RESIZE = "resize"
    TILES = "tiles"


@dataclass(frozen=True)
class InferenceOptions:
    """How to run the network on a photo.

    Tiles mode: `tile_scale` is how much finer than the whole-photo view the second look is (1.75: the
    photo at 1.75x the input size, each tile 57 % of the scene's side, near the 60-100 % that training's
    crops showed; 2 x 2 tiles at the default overlap); `tile_overlap` is the fraction of a tile shared with
    its neighbour; `tile_batch` tiles go through the network at once (1: a cancel stops within
    one tile; on the CPU batching gains nothing, docs/performance.md). `corrosion_probability` also keeps
    the corrosion class's probability at full size (uint8, x 255: one more byte per pixel), for the
    share's range and a probability readout.
    """

    mode: InferenceMode = InferenceMode.RESIZE
    tile_overlap: float = 0.25
    tile_scale: float = 1.75
    tile_batch: int = 1
    corrosion_probability: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "mode", InferenceMode(self.mode))
        if not 0.0 <= self.tile_overlap < 0.9:
            raise ValueError(f"tile_overlap must be in [0, 0.9), got {self.tile_overlap}")
        if not 1.0 <= self.tile_scale <= 4.0:
            raise ValueError(
                f"tile_scale must be in [1, 4] (times the whole-photo view), got {self.tile_scale}"
            )
        if self.tile_batch < 1:
            raise ValueError(f"tile_batch must be >= 1, got {self.tile_batch}")


@dataclass(frozen=True, eq=False)
class Segmentation:
    """Full-size result: class ids, top-class probability x 255, and the mean over graded pixels;
    the corrosion probability x 255 when asked for (`InferenceOptions.corrosion_probability`); and the
    network's probabilities over the whole photo at the working size (the input size in resize mode, the
    fine grid in tiles mode: what smart select is seeded by)."""

    labels: np.ndarray  # uint8 HxW
    confidence: np.ndarray | None  # uint8 HxW; None when not asked for (`segment_view(confidence=False)`)
    mean_confidence: float | None  # mean top-class probability over corrosion+asset pixels
    seconds: float
    corrosion_probability: np.ndarray | None = None  # uint8 HxW
    probabilities: np.ndarray | None = None  # float32 h x w x C over the whole photo at the working size


def segment(
    model: SegmentationModel,
    rgb: np.ndarray,
    options: InferenceOptions | None = None,
    *,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
) -> Segmentation:
    """Segment uint8 HxWx3 RGB; labels, confidence and probabilities come out at the photo's size.

    `progress(done, total)` is called after each network call; `cancelled()` is asked before each one
    and, if true, `Cancelled` is raised: with `tile_batch` 1 a cancel stops within one tile.
    """
    return segment_view(model, rgb, rgb.shape[:2], options, progress=progress, cancelled=cancelled)


def segment_view(
    model: SegmentationModel,
    view: np.ndarray,
    shape: tuple[int, int],
    options: InferenceOptions | None = None,
    *,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
    confidence: bool = True,
) -> Segmentation:
    """`segment` of a photo of (height, width) `shape` from `view`, the photo at any size at least the
    network's working size (a reduced decode, `app.core.photo_decode`; the photo itself for `segment`):
    the network sees `view`, the labels come out at `shape`. Without `confidence` no full-size
    confidence map is made (a batch that keeps no result): the labels and mean are the same."""
    options = options or InferenceOptions()
    rgb = view
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"photo must be uint8 HxWx3 RGB, got {rgb.dtype} {rgb.shape}")
    start = time.perf_counter()
    out_h, out_w = int(shape[0]), int(shape[1])
    keep = _corrosion_id(model.classes) if options.corrosion_probability else None
    sink = StripUpsampler(out_h, out_w, _graded_ids(model.classes), keep, confidence)
    if cancelled is not None and cancelled():
        raise Cancelled("Analysis cancelled.")
    predict = _predictor(model)
    if options.mode is InferenceMode.RESIZE:
        probs = _resize_probabilities(predict, model.input_size, rgb)
        if progress is not None:
            progress(1, 1)
    else:
        probs = _fine_probabilities(predict, model.input_size, rgb, options, progress, cancelled)
    probs = _as_split(model, probs)
    sink.set_source_height(probs.shape[0])
    sink.feed(probs)
    labels, confidence, mean = sink.finish()
    return Segmentation(labels, confidence, mean, time.perf_counter() - start, sink.kept, probs)


def probabilities(
    model: SegmentationModel, rgb: np.ndarray, options: InferenceOptions | None = None
) -> np.ndarray:
    """`segment(model, rgb, options).probabilities` without the full-size labels and confidence (what
    smart select is seeded by: at 12 MP it saves the full-size argmax)."""
    options = options or InferenceOptions()
    predict = _predictor(model)
    if options.mode is InferenceMode.RESIZE:
        return _as_split(model, _resize_probabilities(predict, model.input_size, rgb))
    return _as_split(model, _fine_probabilities(predict, model.input_size, rgb, options, None, None))


def _as_split(model: SegmentationModel, probs: np.ndarray) -> np.ndarray:
    """The probabilities as the model's figures were measured: its corrosion/asset split drawn at the
    expected share when its metadata asks for it (`app.core.expected_share`), else as they are."""
    if getattr(model, "split", ARGMAX) == EXPECTED_SHARE:
        return split_at_expected_share(probs, model.classes)
    return probs


def _graded_ids(classes: Sequence[ClassInfo]) -> list[int]:
    ids = [c.id for c in classes if c.name in GRADED_CLASS_NAMES]
    return ids or [c.id for c in classes]


def _corrosion_id(classes: Sequence[ClassInfo]) -> int | None:
    return next((c.id for c in classes if c.name == "corrosion"), None)


def _predictor(model: SegmentationModel) -> Callable[[np.ndarray], np.ndarray]:
    """`model.predict` under the photo's time budget, over all its runs (a model without a budget, e.g.
    training's Keras adapter, runs unbounded)."""
    budget = getattr(model, "budget", None)
    if budget is None:
        return model.predict
    deadline = time.monotonic() + budget.photo_seconds
    return lambda batch: model.predict(batch, deadline)


def _resize_probabilities(predict: Predict, input_size: tuple[int, int], rgb: np.ndarray) -> np.ndarray:
    return predict(network_input(rgb, input_size)[None])[0]


def network_input(rgb: np.ndarray, input_size: tuple[int, int]) -> np.ndarray:
    """The whole photo at the network's (H, W), exactly as resize mode feeds it (also for calibration
    and parity checks, so they see what users run)."""
    h, w = input_size
    return _fit(rgb, w, h)


def _fit(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """The photo at width x height: area-averaged when shrinking, bilinear otherwise."""
    if rgb.shape[0] >= height and rgb.shape[1] >= width:
        return shrink_area(rgb, width, height)
    return cv2.resize(rgb, (width, height), interpolation=cv2.INTER_LINEAR)


def shrink_area(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Area-average `image` down to `width` x `height`, as `cv2.resize(..., INTER_AREA)` does.

    A photo many times larger first shrinks by a whole factor k that divides both sides (OpenCV's block-mean
    fast path), then by the rest: the same geometry, 3x faster at 12 MP (45 -> 15 ms for 4000x3000 ->
    256x256). A pixel differs from one step's by rounding of the intermediate and, where a sharp edge
    crosses a block, by a few levels (at most 5 of 255, mean under 0.5, in `test_fast_paths`)."""
    src_h, src_w = image.shape[:2]
    for k in (8, 4, 2):
        if src_w % k == 0 and src_h % k == 0 and src_w >= 2 * k * width and src_h >= 2 * k * height:
            image = cv2.resize(image, (src_w // k, src_h // k), interpolation=cv2.INTER_AREA)
            break
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


def _fine_probabilities(
    predict: Predict,
    input_size: tuple[int, int],
    rgb: np.ndarray,
    options: InferenceOptions,
    progress: Progress | None,
    cancelled: CancelCheck | None,
) -> np.ndarray:
    """Fine mode at the fine grid (`tile_scale` x the input size): the coarse map, refined near its edges."""
    coarse = _resize_probabilities(predict, input_size, rgb)
    th, tw = input_size
    fh, fw = max(th, round(th * options.tile_scale)), max(tw, round(tw * options.tile_scale))
    work = _fit(rgb, fw, fh)
    probs = cv2.resize(coarse, (fw, fh), interpolation=cv2.INTER_LINEAR).reshape(fh, fw, -1)
    labels, _ = argmax(probs)
    radius = max(1, round(FINE_BAND_COARSE_PIXELS * fh / th))
    plan = plan_tiles(labels, (th, tw), options.tile_overlap, radius)
    log.debug("fine mode: %d of %d tiles touch a class edge", len(plan.tiles), plan.candidates)
    return refine(predict, probs, work, (th, tw), plan, options.tile_batch, FINE_WEIGHT, progress, cancelled)
