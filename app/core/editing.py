"""Edits of a full-resolution label map: brush, eraser, polygon fill, flood fill, undo/redo.

Every tool works on the bounding box of the pixels it may touch, so a stroke on a 12 MP map costs what
its footprint costs, not the photo. An `Edit` keeps only its box, with the labels before and after;
`LabelEditor` applies edits in place, keeps per-class pixel counts up to date from each edit's patch
(figures follow an edit without a recount) and holds an undo stack bounded in bytes.

Coordinates are photo pixels as (x, y) floats; pixel (row i, column j) has its centre at (j, i).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from app.core.edit_masks import Box, Point, maps_equal, polygon_mask, region_mask, segment_disc_mask
from app.core.palette import ClassInfo
from app.core.stats import AreaStats, area_stats_from_counts

DEFAULT_UNDO_BYTES = 256 * 1024 * 1024  # about 10 whole-photo steps on 12 MP, hundreds of strokes


@dataclass(frozen=True, eq=False)
class Edit:
    """One undoable step: the labels inside `box` before and after it, and what made it."""

    box: Box
    before: np.ndarray = field(repr=False)
    after: np.ndarray = field(repr=False)
    kind: str = "edit"
    delta: np.ndarray | None = field(default=None, repr=False)  # pixels per class id, after - before

    @property
    def nbytes(self) -> int:
        return int(self.before.nbytes + self.after.nbytes)

    @property
    def changed_pixels(self) -> int:
        return int(np.count_nonzero(self.before != self.after))


@dataclass(frozen=True)
class Checkpoint:
    """The map at one point of its undo history: the step that made it (on top of the stack, or the last
    one dropped off its bottom, whose map the empty stack then is); None: the map handed in."""

    step: Edit | None


def _slices(box: Box) -> tuple[slice, slice]:
    return slice(box[0], box[2]), slice(box[1], box[3])


def tighten(edit: Edit) -> Edit | None:
    """The same edit on the bounding box of the pixels it really changes; None when it changes none."""
    diff = edit.before != edit.after
    rows, cols = np.flatnonzero(diff.any(axis=1)), np.flatnonzero(diff.any(axis=0))
    if rows.size == 0:
        return None
    r0, r1, c0, c1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    y0, x0 = edit.box[0] + r0, edit.box[1] + c0
    box = (y0, x0, y0 + r1 - r0, x0 + c1 - c0)
    sub = (slice(r0, r1), slice(c0, c1))
    return Edit(box, edit.before[sub].copy(), edit.after[sub].copy(), edit.kind, edit.delta)


_HIST_CHUNK = 1 << 23  # float32 histogram counts are exact below 2**24


def histogram(labels: np.ndarray) -> np.ndarray:
    """Pixels per id (int64, 256) of a uint8 array: OpenCV's histogram, several times numpy's bincount
    on a 12 MP map, in chunks that its float32 counts hold exactly."""
    flat = np.ascontiguousarray(labels).reshape(-1)
    counts = np.zeros(256, dtype=np.int64)
    for start in range(0, flat.size, _HIST_CHUNK):
        part = flat[start : start + _HIST_CHUNK].reshape(1, -1)
        counts += cv2.calcHist([part], [0], None, [256], [0, 256]).ravel().astype(np.int64)
    return counts


def count_delta(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Change in pixels per class id (int64, 256) from `before` to `after` (unchanged pixels cancel)."""
    return histogram(after) - histogram(before)


class LabelEditor:
    """A label map being edited: tools, pixel counts kept per class, undo/redo of whole steps.

    `labels` is edited in place (the caller hands over a copy it owns); `model_labels` is what the
    eraser restores. A stroke is `begin_stroke`, `extend_stroke` per pointer move, `end_stroke`: one
    undo step. Counts cover ids 0..255, so ids outside the classes are counted too."""

    def __init__(
        self,
        labels: np.ndarray,
        model_labels: np.ndarray | None = None,
        max_undo_bytes: int = DEFAULT_UNDO_BYTES,
    ) -> None:
        if labels.dtype != np.uint8 or labels.ndim != 2:
            raise ValueError(f"labels must be uint8 HxW, got {labels.dtype} {labels.shape}")
        if model_labels is not None and model_labels.shape != labels.shape:
            raise ValueError(f"model labels {model_labels.shape} differ from labels {labels.shape}")
        self.labels = labels
        self.model_labels = labels.copy() if model_labels is None else model_labels
        self.max_undo_bytes = int(max_undo_bytes)
        self._counts = histogram(labels)
        self._undo: deque[Edit] = deque()
        self._redo: list[Edit] = []
        self._undo_bytes = 0
        self._stroke: list[tuple[Box, np.ndarray]] | None = None
        self._stroke_delta = np.zeros(256, dtype=np.int64)
        self._stroke_kind = ""
        self._stroke_last: Point | None = None
        self._stroke_tool: tuple[int | None, float] = (None, 0.0)
        # the step whose map an empty stack is: the last one dropped off its bottom (None: the start), so a
        # checkpoint (a signature's, the saved map's) survives its step being trimmed away
        self._base: Edit | None = None
        self._saved = Checkpoint(None)

    # -- figures -------------------------------------------------------------------------------
    @property
    def counts(self) -> np.ndarray:
        """Pixels per class id (int64, length 256), kept up to date by every edit."""
        return self._counts.copy()

    def stats(self, classes: Sequence[ClassInfo]) -> AreaStats:
        """The area figures of the current map, from the counts (equal to `area_stats(labels)`)."""
        return area_stats_from_counts(self._counts, classes, int(self.labels.size))

    # -- applying edits --------------------------------------------------------------------------
    def _write(self, edit: Edit, forward: bool) -> None:
        """Put an edit's after (forward) or before patch in place; its delta keeps the counts (no recount)."""
        self.labels[_slices(edit.box)] = edit.after if forward else edit.before
        assert edit.delta is not None
        if forward:
            self._counts += edit.delta
        else:
            self._counts -= edit.delta

    def _paint(self, box: Box, mask: np.ndarray, values: int | np.ndarray) -> np.ndarray:
        """Set masked pixels in `box` to `values` (a class id, or a patch of ids); returns the old patch."""
        view = self.labels[_slices(box)]
        old = view.copy()
        new = values if np.isscalar(values) else values[mask]
        view[mask] = new
        delta = -np.bincount(old[mask], minlength=256)
        if np.isscalar(values):
            delta[int(values)] += int(np.count_nonzero(mask))
        else:
            delta += np.bincount(new, minlength=256)
        self._counts += delta
        self._stroke_delta += delta
        return old

    def apply(self, edit: Edit | None) -> Edit | None:
        """Apply an edit made elsewhere (smart select, ...) as one undo step; returns the step as stored
        (its box tightened to the pixels it changes), None when it changes nothing. An edit that carries its
        `delta` and whose `before` is the map's patch now (made in a worker on this map) is taken as is."""
        if edit is None:
            return None
        y0, x0, y1, x1 = edit.box
        if edit.after.shape != (y1 - y0, x1 - x0):
            raise ValueError(f"edit patch {edit.after.shape} does not match its box {edit.box}")
        if not (0 <= y0 < y1 <= self.labels.shape[0] and 0 <= x0 < x1 <= self.labels.shape[1]):
            raise ValueError(f"edit box {edit.box} is outside the {self.labels.shape} label map")
        self._end_open_stroke()
        current = self.labels[_slices(edit.box)]
        if edit.delta is not None and maps_equal(edit.before, current):
            tight: Edit | None = edit  # prepared off the UI thread: no second pass over the box
        else:
            tight = tighten(Edit(edit.box, current.copy(), edit.after, edit.kind))
            if tight is None:
                return None
            tight = replace(tight, delta=count_delta(tight.before, tight.after))
        self._write(tight, forward=True)
        self._push(tight)
        return tight

    def _push(self, edit: Edit) -> None:
        self._undo.append(edit)
        self._undo_bytes += edit.nbytes
        self._redo.clear()
        self._drop_oldest(self.max_undo_bytes, keep=1)

    def _drop_oldest(self, max_bytes: int, keep: int) -> None:
        while self._undo_bytes > max_bytes and len(self._undo) > keep:
            self._base = self._undo.popleft()
            self._undo_bytes -= self._base.nbytes

    def trim_undo(self, max_bytes: int) -> None:
        """Drop the oldest undo steps, then the farthest redo steps, until both hold at most `max_bytes`,
        e.g. for the photos in the background while another is edited; the map itself stays as it is."""
        self._end_open_stroke()
        redo_bytes = sum(e.nbytes for e in self._redo)
        self._drop_oldest(max(0, int(max_bytes) - redo_bytes), keep=0)
        while self._redo and self._undo_bytes + redo_bytes > max_bytes:
            redo_bytes -= self._redo.pop(0).nbytes  # the list's end is the next redo: keep the nearest

    def redo_reaches(self, token: Checkpoint) -> bool:
        """Redo can bring back the map of `token` (its step is still in the redo stack)."""
        return token.step is not None and any(e is token.step for e in self._redo)

    # -- undo / redo -----------------------------------------------------------------------------
    @property
    def undo_bytes(self) -> int:
        """Bytes held by the undo stack (bounded by `max_undo_bytes`, but the last step is always kept)."""
        return self._undo_bytes

    @property
    def can_undo(self) -> bool:
        return bool(self._undo) or bool(self._stroke)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo) and self._stroke is None

    def undo(self) -> Edit | None:
        """Undo the last step (finishing an open stroke first); returns it, or None when there is none."""
        self._end_open_stroke()
        if not self._undo:
            return None
        edit = self._undo.pop()
        self._undo_bytes -= edit.nbytes
        self._write(edit, forward=False)
        self._redo.append(edit)
        return edit

    def redo(self) -> Edit | None:
        if not self.can_redo:
            return None
        edit = self._redo.pop()
        self._write(edit, forward=True)
        self._undo.append(edit)
        self._undo_bytes += edit.nbytes
        return edit

    @property
    def modified(self) -> bool:
        """True when the map differs from the last `mark_saved` (at first: from what was handed in)."""
        return bool(self._stroke) or self.checkpoint() != self._saved

    def checkpoint(self) -> Checkpoint:
        """A token for the map as it is now; `at(token)` says whether undo and redo have brought it back."""
        return Checkpoint(self._undo[-1] if self._undo else self._base)

    def at(self, token: Checkpoint) -> bool:
        """The map is the one `token` was taken of (no stroke open, the same step on top of the stack)."""
        return self._stroke is None and self.checkpoint() == token

    def mark_saved(self) -> None:
        self._end_open_stroke()
        self._saved = self.checkpoint()

    # -- tools -----------------------------------------------------------------------------------
    @property
    def in_stroke(self) -> bool:
        """A stroke is open (between `begin_stroke` and `end_stroke`)."""
        return self._stroke is not None

    def begin_stroke(
        self, point: Point, radius: float, class_id: int | None, kind: str | None = None
    ) -> Box | None:
        """Start a brush stroke of `class_id` (None: the eraser, restoring the model's labels); returns the
        box of its first dab (for redraw)."""
        self._end_open_stroke()
        self._stroke, self._stroke_last = [], point
        self._stroke_delta = np.zeros(256, dtype=np.int64)
        self._stroke_tool = (class_id, float(radius))
        self._stroke_kind = kind or ("eraser" if class_id is None else "brush")
        return self._stroke_segment(point, point)

    def extend_stroke(self, point: Point) -> Box | None:
        """Paint the segment from the previous point to `point`; returns the box that changed (for redraw)."""
        if self._stroke is None or self._stroke_last is None:
            raise RuntimeError("extend_stroke without begin_stroke")
        box = self._stroke_segment(self._stroke_last, point)
        self._stroke_last = point
        return box

    def end_stroke(self) -> Edit | None:
        """Finish the stroke as one undo step; returns it (None when it changed nothing)."""
        if self._stroke is None:
            return None
        parts, self._stroke, self._stroke_last = self._stroke, None, None
        if not parts:
            return None
        union = (
            min(b[0] for b, _ in parts),
            min(b[1] for b, _ in parts),
            max(b[2] for b, _ in parts),
            max(b[3] for b, _ in parts),
        )
        after = self.labels[_slices(union)].copy()
        before = after.copy()
        for box, old in reversed(parts):  # the oldest patch wins: it holds the labels from before
            before[box[0] - union[0] : box[2] - union[0], box[1] - union[1] : box[3] - union[1]] = old
        edit = tighten(Edit(union, before, after, self._stroke_kind, self._stroke_delta.copy()))
        if edit is not None:
            self._push(edit)
        return edit

    def _end_open_stroke(self) -> None:
        if self._stroke is not None:
            self.end_stroke()

    def _stroke_segment(self, p0: Point, p1: Point) -> Box | None:
        class_id, radius = self._stroke_tool
        found = segment_disc_mask(p0, p1, radius, self.labels.shape)
        if found is None:
            return None
        box, mask = found
        values = self.model_labels[_slices(box)] if class_id is None else class_id
        old = self._paint(box, mask, values)
        assert self._stroke is not None
        self._stroke.append((box, old))
        return box

    def stroke(self, points: Iterable[Point], radius: float, class_id: int | None) -> Edit | None:
        """A whole stroke through `points` at once (None as class: the eraser)."""
        pts = list(points)
        if not pts:
            return None
        self.begin_stroke(pts[0], radius, class_id)
        for p in pts[1:]:
            self.extend_stroke(p)
        return self.end_stroke()

    def fill_polygon(self, points: Sequence[Point], class_id: int) -> Edit | None:
        """Fill the polygon or lasso through `points` with `class_id`, one undo step."""
        self._end_open_stroke()
        return self._commit(self.polygon_edit(points, class_id))

    def flood_fill(self, point: Point, class_id: int) -> Edit | None:
        """Give the connected region of the clicked pixel's class to `class_id`, one undo step."""
        self._end_open_stroke()
        return self._commit(self.fill_edit(point, class_id))

    def polygon_edit(self, points: Sequence[Point], class_id: int) -> Edit | None:
        """`fill_polygon`'s step, made and not applied: the map is only read (a worker may make it while
        the map is not edited; `apply` takes it as is)."""
        return self._masked_edit(polygon_mask(points, self.labels.shape), class_id, "polygon")

    def fill_edit(self, point: Point, class_id: int) -> Edit | None:
        """`flood_fill`'s step, made and not applied (as `polygon_edit`)."""
        found = region_mask(self.labels, point)
        if found is None:
            return None
        region_class = int(self.labels[round(float(point[1])), round(float(point[0]))])
        return self._masked_edit(found, class_id, "fill", region_class)

    def _commit(self, edit: Edit | None) -> Edit | None:
        if edit is not None:
            self._write(edit, forward=True)
            self._push(edit)
        return edit

    def _masked_edit(
        self, found: tuple[Box, np.ndarray] | None, class_id: int, kind: str, region_class: int | None = None
    ) -> Edit | None:
        """The step setting the masked pixels to `class_id`; `region_class`: they all hold that class now."""
        if found is None:
            return None
        box, mask = found
        before = self.labels[_slices(box)].copy()
        if region_class is not None:
            if region_class == class_id:
                return None
            delta = np.zeros(256, dtype=np.int64)
            n = int(np.count_nonzero(mask))
            delta[region_class], delta[class_id] = -n, n
        else:
            old = before[mask]
            delta = -np.bincount(old, minlength=256)
            delta[class_id] += old.size
            if not delta.any():
                return None
        after = before.copy()
        after[mask] = class_id
        return Edit(box, before, after, kind, delta)
