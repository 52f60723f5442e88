"""Smart select: recompute the pipe region (asset + corrosion) from a box and clicks.

The pipe region comes from OpenCV's GrabCut on a working copy of at most `working_pixels` (stopped once an
iteration changes almost nothing), seeded by the model's pipe probability (corrosion + asset): sure pipe,
probable pipe, probable and sure background by thresholds, with the user's box (outside it is background,
or, with `Marks.keep_outside`, the edit stays inside the box and the rest of the map is kept: a photo with
several pipes) and include/exclude clicks on top. The result
goes back to full resolution along the photo's edges (`app.core.smart_full`): near the region's border
each photo pixel takes the side whose local mean colour it is closer to, and only the changed region is
computed at full resolution, so a box costs about the same on a 12 MP photo as on a 0.2 MP one. The
working copy and its seed are made once per photo (`prepare_photo`) and reused by each box and click.
Inside the new region corrosion vs asset keeps the current answer; pixels that left become background;
pixels that joined take the more likely of corrosion and asset. It returns an `app.core.editing.Edit`,
one undo step ("select similar": `app.core.select_similar`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from app.core import smart_full as fs
from app.core.editing import Edit, Point
from app.core.errors import CorroscopeError
from app.core.inference import shrink_area
from app.core.palette import DEFAULT_CLASSES, ClassInfo, background_class, class_by_name

_MIN_SEEDS = 16  # GrabCut fits 5-component colour models: each side needs some pixels


class SmartSelectError(CorroscopeError):
    """Smart select cannot run on these marks; the message says what to do."""


@dataclass(frozen=True)
class SmartSelectOptions:
    """Thresholds on the model's pipe probability, and the size of the working copy."""

    # GrabCut's work grows faster than its pixel count: 0.5 MP took 1-3 s (up to 21 s) of CPU a box on
    # 4000 x 3000 photos, 0.2 MP a third of that (docs/performance.md)
    working_pixels: int = 200_000
    sure_pipe: float = 0.95
    probable_pipe: float = 0.5
    sure_background: float = 0.05
    iterations: int = 5  # at most
    # GrabCut stops early once an iteration changes fewer than this share of its pixels (0: never); the
    # later iterations moved a few dozen pixels of 0.5 MP (the validation figures do not move)
    converged: float = 0.001
    click_radius: float = 0.01  # of the working copy's diagonal
    box_context: float = 0.1  # background kept around the box for GrabCut, of the box's size
    edge_window: int = 7  # working pixels; local colour means for the full-resolution border
    min_kept: float = 0.5  # GrabCut keeping less of the seeded pipe than this is not trusted


@dataclass(frozen=True)
class Marks:
    """What the inspector marked, in photo pixels: a box (x0, y0, x1, y1) and clicks (x, y).

    `keep_outside`: the edit stays inside the box and the map outside it is kept as it was (a photo with
    several pipes); by default outside the box becomes background."""

    box: tuple[float, float, float, float] | None = None
    include: tuple[Point, ...] = ()
    exclude: tuple[Point, ...] = ()
    keep_outside: bool = False

    def __post_init__(self) -> None:
        if self.box is not None:  # a drag may go up or left
            x0, y0, x1, y1 = (float(v) for v in self.box)
            object.__setattr__(self, "box", (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))
        object.__setattr__(self, "include", tuple(self.include))
        object.__setattr__(self, "exclude", tuple(self.exclude))


@dataclass(frozen=True)
class ClassIds:
    corrosion: int
    asset: int
    background: int


def class_ids(classes: Sequence[ClassInfo]) -> ClassIds:
    found = [class_by_name(classes, "corrosion"), class_by_name(classes, "asset"), background_class(classes)]
    if any(c is None for c in found):
        raise SmartSelectError("smart select needs a model with corrosion, asset and background classes")
    return ClassIds(*(c.id for c in found))  # type: ignore[union-attr]


def _working_size(h: int, w: int, working_pixels: int) -> tuple[int, int, float]:
    scale = min(1.0, float(np.sqrt(working_pixels / float(h * w))))
    return max(1, round(h * scale)), max(1, round(w * scale)), scale


def _resize(plane: np.ndarray, h: int, w: int) -> np.ndarray:
    if plane.shape[:2] == (h, w):
        return plane
    shrinking = plane.shape[0] >= h and plane.shape[1] >= w
    return cv2.resize(plane, (w, h), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def pipe_probability(
    labels: np.ndarray,
    size: tuple[int, int],
    classes: Sequence[ClassInfo] = DEFAULT_CLASSES,
    probabilities: np.ndarray | None = None,
    confidence: np.ndarray | None = None,
) -> np.ndarray:
    """P(pipe) = P(corrosion) + P(asset), float32 at `size` (h, w), from the probabilities (any
    resolution), else from labels + confidence (see below), else from the labels alone (0.7 pipe, 0.3 not)."""
    ids = class_ids(classes)
    h, w = size
    if probabilities is not None:
        pipe = probabilities[:, :, ids.corrosion] + probabilities[:, :, ids.asset]
        return np.clip(_resize(pipe.astype(np.float32), h, w), 0.0, 1.0)
    is_pipe = (labels == ids.corrosion) | (labels == ids.asset)
    if confidence is None:
        p8 = np.where(is_pipe, np.uint8(178), np.uint8(77))
    else:
        # Background on top: P(pipe) = 1 - top, exact. A pipe class on top: P(pipe) lies in [top, 1]; the
        # rest split evenly gives (1 + top) / 2.
        c = confidence.astype(np.uint16)
        p8 = np.where(is_pipe, (255 + c + 1) // 2, 255 - c).astype(np.uint8)
    return _resize(p8, h, w).astype(np.float32) / 255.0


@dataclass(frozen=True, eq=False)
class SmartSelectPhoto:
    """What smart select needs of a photo whatever the marks: the working copy and, when seeded by the
    network's probabilities, its P(pipe); made once per photo and reused by every box and click."""

    rgb: np.ndarray
    small: np.ndarray  # the working copy, at most `working_pixels`
    scale: float  # working / photo
    probabilities: np.ndarray | None
    prob: np.ndarray | None  # P(pipe) at working size; None: from the current labels, per call
    working_pixels: int

    def fits(self, rgb: np.ndarray, probabilities: np.ndarray | None, options: SmartSelectOptions) -> bool:
        """Made from this photo and these probabilities, for this working size."""
        return (
            self.rgb is rgb
            and self.probabilities is probabilities
            and self.working_pixels == options.working_pixels
        )


def prepare_photo(
    rgb: np.ndarray,
    classes: Sequence[ClassInfo] = DEFAULT_CLASSES,
    probabilities: np.ndarray | None = None,
    options: SmartSelectOptions | None = None,
) -> SmartSelectPhoto:
    """The per-photo part of smart select (the working copy and the probabilities' seed), to keep."""
    options = options or SmartSelectOptions()
    h, w, scale = _working_size(*rgb.shape[:2], options.working_pixels)
    small = rgb if scale == 1.0 else shrink_area(rgb, w, h)
    prob = None
    if probabilities is not None:
        prob = pipe_probability(np.zeros((1, 1), np.uint8), (h, w), classes, probabilities)
    return SmartSelectPhoto(rgb, small, scale, probabilities, prob, options.working_pixels)


def _grabcut_mask(prob: np.ndarray, options: SmartSelectOptions) -> np.ndarray:
    mask = np.full(prob.shape, cv2.GC_BGD, dtype=np.uint8)
    mask[prob > options.sure_background] = cv2.GC_PR_BGD
    mask[prob >= options.probable_pipe] = cv2.GC_PR_FGD
    mask[prob >= options.sure_pipe] = cv2.GC_FGD
    return mask


def _mark_clicks(mask: np.ndarray, marks: Marks, scale: float, options: SmartSelectOptions) -> None:
    radius = max(3, round(options.click_radius * float(np.hypot(*mask.shape))))
    for points, value in ((marks.include, cv2.GC_FGD), (marks.exclude, cv2.GC_BGD)):
        for x, y in points:
            centre = (round((x + 0.5) * scale - 0.5), round((y + 0.5) * scale - 0.5))
            cv2.circle(mask, centre, radius, int(value), thickness=-1)


def _roi(
    marks: Marks, h: int, w: int, scale: float, options: SmartSelectOptions
) -> tuple[int, int, int, int]:
    """(y0, x0, y1, x1) of the working copy GrabCut sees: the box with some context, or all of it."""
    if marks.box is None:
        return 0, 0, h, w
    x0, y0, x1, y1 = (v * scale for v in marks.box)
    mx, my = options.box_context * (x1 - x0) + 8, options.box_context * (y1 - y0) + 8
    return (
        max(0, int(y0 - my)),
        max(0, int(x0 - mx)),
        min(h, int(np.ceil(y1 + my))),
        min(w, int(np.ceil(x1 + mx))),
    )


def _grabcut(img: np.ndarray, mask: np.ndarray, options: SmartSelectOptions) -> None:
    """GrabCut on `mask` in place: up to `options.iterations`, stopping once an iteration changes fewer
    than `options.converged` of the pixels (later ones would change about as little; OpenCV's own loop
    runs all of them). Iteration by iteration (`GC_EVAL` goes on from the kept colour models), the same
    result as one call when it runs them all."""
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    if options.converged <= 0:
        cv2.grabCut(img, mask, None, bgd, fgd, options.iterations, cv2.GC_INIT_WITH_MASK)
        return
    cv2.grabCut(img, mask, None, bgd, fgd, 1, cv2.GC_INIT_WITH_MASK)
    enough = options.converged * mask.size
    for _ in range(options.iterations - 1):
        before = mask.copy()
        cv2.grabCut(img, mask, None, bgd, fgd, 1, cv2.GC_EVAL)
        if cv2.countNonZero(cv2.compare(before, mask, cv2.CMP_NE)) < enough:
            return


def _empty_box(box: tuple[float, float, float, float], scale: float, size: tuple[int, int]) -> str:
    """Why a box holds no pixel of the working copy: off the photo, or smaller than one of its pixels (a
    few photo pixels dragged at 3200 % on 50 MP had been called "outside the photo")."""
    x0, y0, x1, y1 = (v * scale for v in box)
    if x1 <= 0 or y1 <= 0 or x0 >= size[1] or y0 >= size[0]:
        return "the box is outside the photo: drag it around the pipe"
    least = math.ceil(1 / scale)
    return f"the box is too small to work on: drag one at least {least} photo pixels across around the pipe"


def _pipe_region(
    small: np.ndarray, prob: np.ndarray, marks: Marks, scale: float, options: SmartSelectOptions
):
    """GrabCut's pipe region (bool, working size)."""
    h, w = prob.shape
    mask = _grabcut_mask(prob, options)
    if marks.box is not None:
        bx0, by0, bx1, by1 = (round(v * scale) for v in marks.box)
        inside = np.zeros((h, w), dtype=bool)
        inside[max(0, by0) : max(0, by1), max(0, bx0) : max(0, bx1)] = True
        if not inside.any():
            raise SmartSelectError(_empty_box(marks.box, scale, (h, w)))
        if not marks.keep_outside:
            mask[~inside] = cv2.GC_BGD
        # else the context around the box keeps the model's seed: a neighbouring pipe there counts as pipe
        # in GrabCut's colour models, not as background (only the box's answer is used)
        if not np.isin(mask[inside], (cv2.GC_FGD, cv2.GC_PR_FGD)).any():
            mask[inside] = cv2.GC_PR_FGD  # the model sees no pipe in the box: trust the box
    _mark_clicks(mask, marks, scale, options)
    y0, x0, y1, x1 = _roi(marks, h, w, scale, options)
    sub = np.ascontiguousarray(mask[y0:y1, x0:x1])
    fg = int(np.isin(sub, (cv2.GC_FGD, cv2.GC_PR_FGD)).sum())
    if fg < _MIN_SEEDS:
        raise SmartSelectError("nothing marks the pipe: drag a box around it or click on it")
    if sub.size - fg < _MIN_SEEDS:
        raise SmartSelectError("nothing marks background: draw a smaller box or shift-click on background")
    seeds = sub.copy()
    _grabcut(np.ascontiguousarray(small[y0:y1, x0:x1]), sub, options)
    region = np.zeros((h, w), dtype=bool)
    region[y0:y1, x0:x1] = (sub == cv2.GC_FGD) | (sub == cv2.GC_PR_FGD)
    prior = np.zeros((h, w), dtype=bool)
    prior[y0:y1, x0:x1] = np.isin(seeds, (cv2.GC_FGD, cv2.GC_PR_FGD))
    if np.count_nonzero(region) < options.min_kept * np.count_nonzero(prior):
        # GrabCut lost most of what the model and the marks call pipe: its colour models locked onto
        # something else (a photo the model is unsure of throughout). Keep the marks' answer instead.
        return prior
    return region


def _joined_classes(
    ys: np.ndarray,
    xs: np.ndarray,
    labels: np.ndarray,
    ids: ClassIds,
    probabilities: np.ndarray | None,
    small_hw,
) -> np.ndarray:
    """Corrosion or asset for pixels that joined the pipe: the model's more likely of the two, else the
    class more common among nearby pipe pixels (asset on a tie)."""
    full = labels.shape
    if probabilities is not None:
        scores = probabilities[:, :, [ids.corrosion, ids.asset]]
    else:
        coarse = cv2.resize(labels, (small_hw[1], small_hw[0]), interpolation=cv2.INTER_NEAREST)
        planes = np.dstack([(coarse == ids.corrosion), (coarse == ids.asset)]).astype(np.float32)
        scores = cv2.blur(planes, (15, 15))
    got = fs.sample(scores, ys, xs, full)
    return np.where(got[:, 0] > got[:, 1], ids.corrosion, ids.asset).astype(np.uint8)


def smart_select(
    rgb: np.ndarray,
    labels: np.ndarray,
    marks: Marks,
    classes: Sequence[ClassInfo] = DEFAULT_CLASSES,
    probabilities: np.ndarray | None = None,
    confidence: np.ndarray | None = None,
    options: SmartSelectOptions | None = None,
    photo: SmartSelectPhoto | None = None,
) -> Edit | None:
    """The edit that makes the pipe region what GrabCut finds for these marks (None: nothing changes).

    `probabilities` (h x w x C softmax, any resolution, e.g. the network's output) or `confidence`
    (top-class probability x 255, full size) seed it; `labels` is the current full-size label map.
    `photo` (from `prepare_photo`, kept between calls) saves the working copy and its seed per call."""
    options = options or SmartSelectOptions()
    if rgb.shape[:2] != labels.shape:
        raise ValueError(f"photo {rgb.shape[:2]} and labels {labels.shape} differ in size")
    ids = class_ids(classes)
    if photo is None or not photo.fits(rgb, probabilities, options):
        photo = prepare_photo(rgb, classes, probabilities, options)
    h, w = photo.small.shape[:2]
    prob = photo.prob
    if prob is None:  # seeded by the current labels, which change with each edit
        prob = pipe_probability(labels, (h, w), classes, None, confidence)
    region = _pipe_region(photo.small, prob, marks, photo.scale, options)
    return _edit(labels, region, photo, marks, ids, probabilities, options)


def _new_pipe_reach(
    region: np.ndarray, photo: SmartSelectPhoto, marks: Marks, full: tuple[int, int]
) -> fs.Window | None:
    """The photo window outside which the new pipe region is empty."""
    if photo.scale == 1.0:
        return fs.bounds(region.astype(np.uint8))
    found = fs.reach(region, full)
    if found is None or marks.box is None:
        return found
    return fs.intersect(found, _box_window(marks.box, full))  # the border refinement stays in the box


def _box_window(box: tuple[float, float, float, float], full: tuple[int, int]) -> fs.Window:
    """The photo pixels of a box (x0, y0, x1, y1), within the photo (may be empty)."""
    x0, y0, x1, y1 = (max(0, round(v)) for v in box)
    return min(y0, full[0]), min(x0, full[1]), min(y1, full[0]), min(x1, full[1])


def _old_pipe_out_of_reach(
    labels: np.ndarray, lut: np.ndarray, reach: fs.Window | None, limit: fs.Window
) -> fs.Window | None:
    """Bounds of the current pipe within `limit` but outside `reach`: all of it becomes background."""
    ly0, lx0, ly1, lx1 = limit
    inner = (
        (0, 0, 0, 0) if reach is None else (reach[0] - ly0, reach[1] - lx0, reach[2] - ly0, reach[3] - lx0)
    )
    found = fs.bounds_outside(labels[ly0:ly1, lx0:lx1], lut, inner)
    return None if found is None else (found[0] + ly0, found[1] + lx0, found[2] + ly0, found[3] + lx0)


def _edit(
    labels: np.ndarray,
    region: np.ndarray,
    photo: SmartSelectPhoto,
    marks: Marks,
    ids: ClassIds,
    probabilities: np.ndarray | None,
    options: SmartSelectOptions,
) -> Edit | None:
    """The edit from the current map to the new pipe region, made on the changed region only: the new
    region goes to full resolution within its reach, the map is only read elsewhere. With
    `marks.keep_outside` all of it stays inside the box."""
    lut = np.zeros(256, np.uint8)
    lut[[ids.corrosion, ids.asset]] = 1
    limit = (0, 0, *labels.shape)
    if marks.keep_outside and marks.box is not None:
        limit = _box_window(marks.box, labels.shape)
    reach = fs.intersect(_new_pipe_reach(region, photo, marks, labels.shape), limit)
    changed = _old_pipe_out_of_reach(labels, lut, reach, limit)
    new_reach = None
    if reach is not None:
        ry0, rx0, ry1, rx1 = reach
        if photo.scale == 1.0:
            new_reach = np.ascontiguousarray(region[ry0:ry1, rx0:rx1])
        else:
            new_reach = fs.upsample(region, photo.small, photo.rgb, reach, options.edge_window)
        new_reach = new_reach.view(np.uint8)  # 0/1: OpenCV's element-wise ops beat numpy's on bools
        cur = cv2.LUT(labels[ry0:ry1, rx0:rx1], lut)
        inside = fs.bounds(cv2.compare(new_reach, cur, cv2.CMP_NE))
        if inside is not None:
            changed = fs.union(changed, (inside[0] + ry0, inside[1] + rx0, inside[2] + ry0, inside[3] + rx0))
    if changed is None:
        return None
    y0, x0, y1, x1 = changed
    before = labels[y0:y1, x0:x1].copy()
    cur_pipe = cv2.LUT(before, lut)
    new_pipe = np.zeros_like(cur_pipe)
    if reach is not None:
        iy0, ix0, iy1, ix1 = max(y0, ry0), max(x0, rx0), min(y1, ry1), min(x1, rx1)
        if iy0 < iy1 and ix0 < ix1:
            new_pipe[iy0 - y0 : iy1 - y0, ix0 - x0 : ix1 - x0] = new_reach[
                iy0 - ry0 : iy1 - ry0, ix0 - rx0 : ix1 - rx0
            ]
    left = cv2.subtract(cur_pipe, new_pipe).view(bool)
    after = np.where(left, np.uint8(ids.background), before)
    joined = cv2.findNonZero(cv2.subtract(new_pipe, cur_pipe))  # (x, y) points, None when none
    if joined is not None:
        joined = joined.reshape(-1, 2)
        jx, jy = joined[:, 0], joined[:, 1]
        small_hw = photo.small.shape[:2]
        after[jy, jx] = _joined_classes(jy + y0, jx + x0, labels, ids, probabilities, small_hw)
    return Edit(changed, before, after, "smart select")
