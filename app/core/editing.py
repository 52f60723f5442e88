"""Edits of a full-resolution label map: brush, eraser, polygon fill, flood fill, undo/redo.

Every tool works on the bounding box of the pixels it may touch, so a stroke on a 12 MP map costs what
its footprint costs, not the photo. An undo step keeps only its box, as the labels before and after or as
the pixels that changed (`app.core.edit_steps`: whichever is smaller); `LabelEditor` applies edits in
place, keeps per-class pixel counts up to date from each step's delta (figures follow an edit without a
recount) and holds an undo stack bounded in bytes.

Coordinates are photo pixels as (x, y) floats; pixel (row i, column j) has its centre at (j, i).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from app.core.edit_masks import Box, Point, polygon_mask, region_mask, segment_disc_mask
from app.core.edit_steps import (
    Edit,
    SparseEdit,
    Step,
    box_slices,
    compact,
    count_delta,
    histogram,
    step_from_index,
    step_from_mask,
    tighten,
)
from app.core.palette import ClassInfo
from app.core.stats import AreaStats, area_stats_from_counts

__all__ = [  # the steps' names stay importable from here, where the editor hands them out
    "DEFAULT_UNDO_BYTES",
    "Box",
    "Checkpoint",
    "Edit",
    "LabelEditor",
    "Point",
    "SparseEdit",
    "Step",
    "count_delta",
    "histogram",
    "tighten",
]

# about 10 whole-photo patch steps on 12 MP; a stroke or a fill keeps only its changed pixels when that is
# smaller (a thin stroke corner to corner of a 50 MP photo: under 1 MB), so hundreds of those
DEFAULT_UNDO_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Checkpoint:
    """The map at one point of its undo history: the step that made it (on top of the stack, or the last
    one dropped off its bottom, whose map the empty stack then is); None: the map handed in."""

    step: Step | None


@dataclass(frozen=True)
class _Dab:
    """The pixels one stroke segment changed (map rows and columns, int32) and their ids before and after."""

    rows: np.ndarray
    cols: np.ndarray
    old: np.ndarray
    new: np.ndarray | None  # None: the brush's class id at every one


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
        self._undo: deque[Step] = deque()
        self._redo: list[Step] = []
        self._undo_bytes = 0
        self._stroke: list[_Dab] | None = None
        self._stroke_delta = np.zeros(256, dtype=np.int64)
        self._stroke_kind = ""
        self._stroke_last: Point | None = None
        self._stroke_tool: tuple[int | None, float] = (None, 0.0)
        # the step whose map an empty stack is: the last one dropped off its bottom (None: the start), so a
        # checkpoint (a signature's, the saved map's) survives its step being trimmed away
        self._base: Step | None = None
        self._saved = Checkpoint(None)
        self.dropped_steps = 0  # the oldest steps let go to stay within `max_undo_bytes`: undo ends there

    # -- figures -------------------------------------------------------------------------------
    @property
    def counts(self) -> np.ndarray:
        """Pixels per class id (int64, length 256), kept up to date by every edit."""
        return self._counts.copy()

    def stats(self, classes: Sequence[ClassInfo]) -> AreaStats:
        """The area figures of the current map, from the counts (equal to `area_stats(labels)`)."""
        return area_stats_from_counts(self._counts, classes, int(self.labels.size))

    # -- applying edits --------------------------------------------------------------------------
    def _write(self, edit: Step, forward: bool) -> None:
        """Redo (forward) or undo a step's pixels; its delta keeps the counts (no recount)."""
        edit.write(self.labels, forward)
        assert edit.delta is not None
        if forward:
            self._counts += edit.delta
        else:
            self._counts -= edit.delta

    def _paint(self, box: Box, mask: np.ndarray, values: int | np.ndarray) -> _Dab:
        """Set masked pixels in `box` to `values` (a class id, or a patch of ids); returns what changed."""
        view = self.labels[box_slices(box)]
        old = view.copy()
        changed = old != values
        changed &= mask
        view[mask] = values if np.isscalar(values) else values[mask]
        hit = np.flatnonzero(changed)  # flat, then rows and columns: numpy's 2-D nonzero is 3x slower
        was = old.reshape(-1)[hit]
        rows, cols = np.divmod(hit.astype(np.int32), np.int32(box[3] - box[1]))
        delta = -np.bincount(was, minlength=256)
        if np.isscalar(values):
            now = None  # the class id, at every pixel it changed
            delta[int(values)] += was.size
        else:
            now = values[rows, cols]
            delta += np.bincount(now, minlength=256)
        self._counts += delta
        self._stroke_delta += delta
        return _Dab(rows + np.int32(box[0]), cols + np.int32(box[1]), was, now)

    def apply(self, edit: Step | None) -> Step | None:
        """Apply an edit made elsewhere (smart select, ...) as one undo step; returns the step as stored
        (on the bounding box of the pixels it changes, in its smallest form), None when it changes nothing.
        A step that carries its `delta` and was made on the map as it is now (in a worker) is taken as is."""
        if edit is None:
            return None
        y0, x0, y1, x1 = edit.box
        if isinstance(edit, Edit) and edit.after.shape != (y1 - y0, x1 - x0):
            raise ValueError(f"edit patch {edit.after.shape} does not match its box {edit.box}")
        if not (0 <= y0 < y1 <= self.labels.shape[0] and 0 <= x0 < x1 <= self.labels.shape[1]):
            raise ValueError(f"edit box {edit.box} is outside the {self.labels.shape} label map")
        self._end_open_stroke()
        if edit.delta is not None and edit.land(self.labels):  # prepared off the UI thread: written as is
            step: Step | None = edit
            self._counts += edit.delta
        else:
            step = compact(edit.onto(self.labels[box_slices(edit.box)]))
            if step is None:
                return None
            self._write(step, forward=True)
        self._push(step)
        return step

    def _push(self, edit: Step) -> None:
        self._undo.append(edit)
        self._undo_bytes += edit.nbytes
        self._redo.clear()
        self._drop_oldest(self.max_undo_bytes, keep=1)

    def _drop_oldest(self, max_bytes: int, keep: int) -> None:
        while self._undo_bytes > max_bytes and len(self._undo) > keep:
            self._base = self._undo.popleft()
            self._undo_bytes -= self._base.nbytes
            self.dropped_steps += 1

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

    def undo(self) -> Step | None:
        """Undo the last step (finishing an open stroke first); returns it, or None when there is none."""
        self._end_open_stroke()
        if not self._undo:
            return None
        edit = self._undo.pop()
        self._undo_bytes -= edit.nbytes
        self._write(edit, forward=False)
        self._redo.append(edit)
        return edit

    def redo(self) -> Step | None:
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

    def end_stroke(self) -> Step | None:
        """Finish the stroke as one undo step; returns it (None when it changed nothing). The step is made
        from the pixels each segment changed, so a long thin stroke costs its pixels, not its box."""
        if self._stroke is None:
            return None
        dabs, self._stroke, self._stroke_last = [d for d in self._stroke if d.rows.size], None, None
        if not dabs:
            return None
        # a stroke paints each pixel one id (its class, or the model's there), so a pixel changes in one
        # segment at most: the segments' changes are distinct, and their old ids are from before the stroke
        rows, cols = np.concatenate([d.rows for d in dabs]), np.concatenate([d.cols for d in dabs])
        y0, y1, x0, x1 = int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1
        box = (y0, x0, y1, x1)
        area = (y1 - y0) * (x1 - x0)
        wide = np.int64 if area > np.iinfo(np.int32).max else np.int32  # int32 math: half the passes' bytes
        index = (rows.astype(wide, copy=False) - y0) * (x1 - x0) + (cols - x0)
        old = np.concatenate([d.old for d in dabs])
        class_id = self._stroke_tool[0]
        new = (
            np.array([class_id], np.uint8) if class_id is not None else np.concatenate([d.new for d in dabs])
        )
        after = self.labels[box_slices(box)]
        edit = step_from_index(box, index, old, new, self._stroke_delta.copy(), self._stroke_kind, after)
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
        values = self.model_labels[box_slices(box)] if class_id is None else class_id
        dab = self._paint(box, mask, values)
        assert self._stroke is not None
        self._stroke.append(dab)
        return box

    def stroke(self, points: Iterable[Point], radius: float, class_id: int | None) -> Step | None:
        """A whole stroke through `points` at once (None as class: the eraser)."""
        pts = list(points)
        if not pts:
            return None
        self.begin_stroke(pts[0], radius, class_id)
        for p in pts[1:]:
            self.extend_stroke(p)
        return self.end_stroke()

    def fill_polygon(self, points: Sequence[Point], class_id: int) -> Step | None:
        """Fill the polygon or lasso through `points` with `class_id`, one undo step."""
        self._end_open_stroke()
        return self._commit(self.polygon_edit(points, class_id))

    def flood_fill(self, point: Point, class_id: int) -> Step | None:
        """Give the connected region of the clicked pixel's class to `class_id`, one undo step."""
        self._end_open_stroke()
        return self._commit(self.fill_edit(point, class_id))

    def polygon_edit(self, points: Sequence[Point], class_id: int) -> Step | None:
        """`fill_polygon`'s step, made and not applied: the map is only read (a worker may make it while
        the map is not edited; `apply` takes it as is)."""
        return self._masked_edit(polygon_mask(points, self.labels.shape), class_id, "polygon")

    def fill_edit(self, point: Point, class_id: int) -> Step | None:
        """`flood_fill`'s step, made and not applied (as `polygon_edit`)."""
        found = region_mask(self.labels, point)
        if found is None:
            return None
        region_class = int(self.labels[round(float(point[1])), round(float(point[0]))])
        return self._masked_edit(found, class_id, "fill", region_class)

    def _commit(self, edit: Step | None) -> Step | None:
        if edit is not None:
            self._write(edit, forward=True)
            self._push(edit)
        return edit

    def _masked_edit(
        self, found: tuple[Box, np.ndarray] | None, class_id: int, kind: str, region_class: int | None = None
    ) -> Step | None:
        """The step setting the masked pixels to `class_id`; `region_class`: they all hold that class now."""
        if found is None:
            return None
        box, mask = found
        current = self.labels[box_slices(box)]  # read only: a worker may make the step
        if region_class is not None:
            if region_class == class_id:
                return None
            changed, old = mask, np.array([region_class], np.uint8)
            n = int(np.count_nonzero(mask))
            delta = np.zeros(256, dtype=np.int64)
            delta[region_class], delta[class_id] = -n, n
        else:
            changed = mask & (current != class_id)
            old = current[changed]
            if old.size == 0:
                return None
            delta = -np.bincount(old, minlength=256)
            delta[class_id] += old.size

        def patches() -> tuple[np.ndarray, np.ndarray]:
            before = current.copy()
            after = before.copy()
            after[changed] = class_id
            return before, after

        new = np.array([class_id], np.uint8)
        return step_from_mask(box, changed, old, new, delta, kind, patches)
