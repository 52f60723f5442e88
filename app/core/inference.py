"""Segmentation at any photo size (DESIGN section 5): resize or overlapping tiles, memory bounded.

Both modes produce class probabilities at a working resolution; `_StripUpsampler` turns them into
full-size labels and confidence a few rows at a time, upsampling probabilities (not labels) before the
argmax, so no full-size float plane per class is ever held. It blends every class only at class edges
(elsewhere the argmax of a blend is known), which makes it several times faster (docs/performance.md).
"""

from __future__ import annotations

import enum
import time
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from app.core.model import SegmentationModel
from app.core.palette import ClassInfo

GRADED_CLASS_NAMES = ("corrosion", "asset")
_STRIP_ROWS = 64  # 64 rows x 8000 px x 3 classes x 4 B = 6 MB per temporary


class InferenceMode(str, enum.Enum):
    RESIZE = "resize"
    TILES = "tiles"


@dataclass(frozen=True)
class InferenceOptions:
    """How to run the network on a photo.

    `tile_scale` scales the photo before tiling (0.5: each tile covers twice the input size in photo
    pixels); `tile_overlap` is the fraction of a tile shared with its neighbour; `tile_batch` tiles go
    through the network at once.
    """

    mode: InferenceMode = InferenceMode.RESIZE
    tile_overlap: float = 0.25
    tile_scale: float = 1.0
    tile_batch: int = 8

    def __post_init__(self) -> None:
        object.__setattr__(self, "mode", InferenceMode(self.mode))
        if not 0.0 <= self.tile_overlap < 0.9:
            raise ValueError(f"tile_overlap must be in [0, 0.9), got {self.tile_overlap}")
        if not 0.01 <= self.tile_scale <= 4.0:
            raise ValueError(f"tile_scale must be in [0.01, 4], got {self.tile_scale}")
        if self.tile_batch < 1:
            raise ValueError(f"tile_batch must be >= 1, got {self.tile_batch}")


@dataclass(frozen=True, eq=False)
class Segmentation:
    """Full-size result: class ids, top-class probability x 255, and the mean over graded pixels."""

    labels: np.ndarray  # uint8 HxW
    confidence: np.ndarray  # uint8 HxW
    mean_confidence: float | None  # mean top-class probability over corrosion+asset pixels
    seconds: float


def segment(
    model: SegmentationModel,
    rgb: np.ndarray,
    options: InferenceOptions | None = None,
    output_size: tuple[int, int] | None = None,
) -> Segmentation:
    """Segment uint8 HxWx3 RGB; labels come out at `output_size` (H, W), by default the photo's size.

    Pass a reduced decode as `rgb` with the full `output_size` to save decoding time in resize mode.
    """
    options = options or InferenceOptions()
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"photo must be uint8 HxWx3 RGB, got {rgb.dtype} {rgb.shape}")
    start = time.perf_counter()
    deadline = time.monotonic() + model.budget.photo_seconds  # the photo's time budget, over all its runs
    out_h, out_w = output_size or rgb.shape[:2]
    sink = _StripUpsampler(out_h, out_w, _graded_ids(model.classes))
    if options.mode is InferenceMode.RESIZE:
        probs = _resize_probabilities(model, rgb, deadline)
        sink.set_source_height(probs.shape[0])
        sink.feed(probs)
    else:
        _tile_probabilities(model, rgb, options, sink, deadline)
    labels, confidence, mean = sink.finish()
    return Segmentation(labels, confidence, mean, time.perf_counter() - start)


def _graded_ids(classes: Sequence[ClassInfo]) -> list[int]:
    ids = [c.id for c in classes if c.name in GRADED_CLASS_NAMES]
    return ids or [c.id for c in classes]


def _resize_probabilities(model: SegmentationModel, rgb: np.ndarray, deadline: float) -> np.ndarray:
    h, w = model.input_size
    shrinking = rgb.shape[0] >= h and rgb.shape[1] >= w
    small = shrink_area(rgb, w, h) if shrinking else cv2.resize(rgb, (w, h), interpolation=cv2.INTER_LINEAR)
    return model.predict(small[None], deadline)[0]


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


def _tile_probabilities(
    model: SegmentationModel,
    rgb: np.ndarray,
    options: InferenceOptions,
    sink: _StripUpsampler,
    deadline: float,
) -> None:
    th, tw = model.input_size
    scale = options.tile_scale
    work_h = max(1, round(rgb.shape[0] * scale))
    work_w = max(1, round(rgb.shape[1] * scale))
    if (work_h, work_w) == rgb.shape[:2]:
        work = rgb
    else:
        interp = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
        work = cv2.resize(rgb, (work_w, work_h), interpolation=interp)
    if work_h < th or work_w < tw:  # smaller than one tile: pad by reflection, crop the result
        pad_b, pad_r = max(0, th - work_h), max(0, tw - work_w)
        work = cv2.copyMakeBorder(work, 0, pad_b, 0, pad_r, cv2.BORDER_REFLECT_101)
    ys = tile_starts(work.shape[0], th, options.tile_overlap)
    xs = tile_starts(work.shape[1], tw, options.tile_overlap)
    window = blend_window(th, tw)
    classes = model.num_classes
    sink.set_source_height(work_h)
    padded_w = work.shape[1]

    base = 0  # work row held at acc[0]
    acc = np.zeros((th, padded_w, classes), dtype=np.float32)
    weight = np.zeros((th, padded_w), dtype=np.float32)
    for k, y in enumerate(ys):
        need = y + th - base
        if need > acc.shape[0]:
            grow = need - acc.shape[0]
            acc = np.concatenate([acc, np.zeros((grow, padded_w, classes), np.float32)])
            weight = np.concatenate([weight, np.zeros((grow, padded_w), np.float32)])
        for b in range(0, len(xs), options.tile_batch):
            bx = xs[b : b + options.tile_batch]
            batch = np.stack([work[y : y + th, x : x + tw] for x in bx])
            probs = model.predict(batch, deadline)
            r0 = y - base
            for x, p in zip(bx, probs, strict=True):
                acc[r0 : r0 + th, x : x + tw] += p * window[:, :, None]
                weight[r0 : r0 + th, x : x + tw] += window
        final_to = ys[k + 1] if k + 1 < len(ys) else work.shape[0]
        final_to = min(final_to, work_h)
        rows = final_to - base
        if rows > 0:
            done = acc[:rows, :work_w] / weight[:rows, :work_w, None]
            sink.feed(done)
            acc, weight, base = acc[rows:], weight[rows:], final_to


class _StripUpsampler:
    """Receives probability rows at the working resolution, top to bottom, and writes full-size
    labels/confidence a block of rows at a time (bilinear, pixel-centre aligned like `cv2.resize`).

    Enlarging (resize mode): output rows that lie between the same two source rows form a block. Where
    both source rows pick the same class, every blend of them picks it too and its top probability is
    the blend of theirs, so the labels are copied and one plane is interpolated; all classes are blended
    only in the columns where the two rows disagree (class edges). Otherwise (tiles at about the photo's
    size, where blocks would be a row each) strips of 64 rows blend every class. Either way the result
    equals upsampling every class before the argmax.
    """

    def __init__(self, out_h: int, out_w: int, graded_ids: list[int]) -> None:
        self.out_h, self.out_w = out_h, out_w
        self.labels = np.empty((out_h, out_w), dtype=np.uint8)
        self.confidence = np.empty((out_h, out_w), dtype=np.uint8)
        self._graded_lut = np.zeros(256, dtype=bool)
        self._graded_lut[graded_ids] = True
        self._src_h = 0
        # Per source row, resized to width out_w: probabilities (out_w x C), its class and top probability.
        self._rows: list[np.ndarray] = []
        self._row_labels: list[np.ndarray] = []
        self._row_top: list[np.ndarray] = []
        self._first = 0  # source row index of self._rows[0]
        self._received = 0
        self._next_out = 0
        self._conf_sum = 0.0
        self._conf_count = 0

    def set_source_height(self, src_h: int) -> None:
        self._src_h = src_h
        pos = (np.arange(self.out_h, dtype=np.float64) + 0.5) * (src_h / self.out_h) - 0.5
        pos = np.clip(pos, 0.0, src_h - 1)
        self._y0 = np.floor(pos).astype(np.int64)
        self._y1 = np.minimum(self._y0 + 1, src_h - 1)
        self._frac = (pos - self._y0).astype(np.float32)
        self._blocks = self.out_h >= 2 * src_h  # blocks of two or more rows

    def feed(self, probs: np.ndarray) -> None:
        """probs: float32 rows x src_w x C, the next rows of the working-resolution map."""
        if probs.shape[1] != self.out_w:
            resized = cv2.resize(probs, (self.out_w, probs.shape[0]), interpolation=cv2.INTER_LINEAR)
            if resized.ndim == 2:
                resized = resized[:, :, None]
        else:
            resized = probs
        self._rows.extend(resized)
        if self._blocks:
            labels, top = _argmax(resized)
            self._row_labels.extend(labels)
            self._row_top.extend(top)
        self._received += probs.shape[0]
        self._emit(final=self._received >= self._src_h)

    def _emit(self, final: bool) -> None:
        avail = self._received  # source rows [0, avail) have arrived
        end = self.out_h if final else int(np.searchsorted(self._y1, avail, side="left"))
        while self._next_out < end:
            r0 = self._next_out
            if self._blocks:
                y0 = int(self._y0[r0])
                r1 = min(end, r0 + _STRIP_ROWS, int(np.searchsorted(self._y0, y0, side="right")))
                self._block(r0, r1, y0 - self._first, int(self._y1[r0]) - self._first)
            else:
                r1 = min(end, r0 + _STRIP_ROWS)
                self._strip(r0, r1)
            self._next_out = r1
        if self._next_out < self.out_h:  # drop rows no later output row needs (and none not yet here)
            keep_from = min(int(self._y0[self._next_out]), self._received)
            drop = keep_from - self._first
            if drop > 0:
                del self._rows[:drop], self._row_labels[:drop], self._row_top[:drop]
                self._first = keep_from

    def _block(self, r0: int, r1: int, i0: int, i1: int) -> None:
        """Output rows [r0, r1), all between the held source rows i0 and i1."""
        n = r1 - r0
        frac = self._frac[r0:r1, None]
        labels0, top0 = self._row_labels[i0], self._row_top[i0]
        step = self._row_top[i1] - top0
        top = np.multiply(step, frac)  # n x out_w
        top += top0
        labels = self.labels[r0:r1]
        labels[:] = labels0
        graded = self._graded_lut[labels0]
        # Where the rows agree, a column's graded top probabilities sum to n * top0 + step * sum(frac).
        column_sums = top0 * np.float32(n) + step * np.float32(frac.sum())
        edges = np.flatnonzero(labels0 != self._row_labels[i1])
        if edges.size:
            a = self._rows[i0][edges]
            mixed = a + (self._rows[i1][edges] - a) * frac[:, :, None]
            edge_labels, edge_top = _argmax(mixed)
            labels[:, edges] = edge_labels
            top[:, edges] = edge_top
            graded[edges] = False
            edge_graded = self._graded_lut[edge_labels]
            self._conf_sum += float(np.sum(edge_top, where=edge_graded, dtype=np.float64))
            self._conf_count += int(np.count_nonzero(edge_graded))
        self._conf_sum += float(np.sum(column_sums, where=graded, dtype=np.float64))
        self._conf_count += n * int(np.count_nonzero(graded))
        cv2.convertScaleAbs(top, self.confidence[r0:r1], alpha=255.0)  # x 255, rounded, saturated

    def _strip(self, r0: int, r1: int) -> None:
        """Output rows [r0, r1): every class blended between each row's two source rows."""
        top = np.stack([self._rows[i - self._first] for i in self._y0[r0:r1]])
        bottom = np.stack([self._rows[i - self._first] for i in self._y1[r0:r1]])
        bottom -= top
        bottom *= self._frac[r0:r1, None, None]
        labels, best = _argmax(np.add(top, bottom, out=top))
        self.labels[r0:r1] = labels
        cv2.convertScaleAbs(best, self.confidence[r0:r1], alpha=255.0)
        graded = self._graded_lut[labels]
        self._conf_sum += float(np.sum(best, where=graded, dtype=np.float64))
        self._conf_count += int(np.count_nonzero(graded))

    def finish(self) -> tuple[np.ndarray, np.ndarray, float | None]:
        if self._next_out < self.out_h:
            self._emit(final=True)
        mean = self._conf_sum / self._conf_count if self._conf_count else None
        return self.labels, self.confidence, mean


def _argmax(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(class id uint8, top probability) over the last axis; ties go to the lower id, like argmax."""
    # Channel by channel: numpy's argmax/max over a short last axis are several times slower.
    top = probs[..., 0].copy()
    labels = np.zeros(top.shape, dtype=np.uint8)
    for c in range(1, probs.shape[-1]):
        better = probs[..., c] > top  # strict: ties go to the lower id
        labels[better] = c
        np.maximum(top, probs[..., c], out=top)
    return labels, top
