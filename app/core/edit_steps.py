"""Undo steps of a label map, each kept in the smallest of three forms.

`Edit` holds its box's labels before and after (what the tools and the workers make). `SparseEdit` holds
only the pixels that changed: where they are in the box (flat indices, or a bit mask of the box) and their
ids before and after (one id when they all share it). A thin stroke corner to corner of a 50 MP photo
changes ~0.1 M pixels of a 50 M pixel box: 0.5 MB sparse, 100 MB as patches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from app.core.edit_masks import Box, maps_equal

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


def box_slices(box: Box) -> tuple[slice, slice]:
    return slice(box[0], box[2]), slice(box[1], box[3])


def _box_shape(box: Box) -> tuple[int, int]:
    return box[2] - box[0], box[3] - box[1]


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

    def write(self, labels: np.ndarray, forward: bool) -> None:
        """Put the after (forward) or the before patch in place."""
        labels[box_slices(self.box)] = self.after if forward else self.before

    def land(self, labels: np.ndarray) -> bool:
        """Write the step forward if `before` is the map's patch now; False, writing nothing, if not."""
        current = labels[box_slices(self.box)]
        if not maps_equal(self.before, current):
            return False
        current[...] = self.after
        return True

    def onto(self, current: np.ndarray) -> Edit:
        """The step from `current` (the box's patch now) to this step's after patch."""
        return Edit(self.box, current.copy(), self.after, self.kind)


@dataclass(frozen=True, eq=False)
class SparseEdit:
    """One undoable step kept as the pixels it changes: where in `box`, their ids before and after."""

    box: Box
    # flat (row-major) indices in the box, in the smallest unsigned dtype; or, `packed`, the box's changed
    # pixels as a bit mask (np.packbits), the ids then in row-major order
    where: np.ndarray = field(repr=False)
    old: np.ndarray = field(repr=False)  # uint8 ids before, one per changed pixel, or one for them all
    new: np.ndarray = field(repr=False)  # likewise after
    delta: np.ndarray = field(repr=False)  # pixels per class id, after - before
    kind: str = "edit"
    packed: bool = False

    @property
    def nbytes(self) -> int:
        return int(self.where.nbytes + self.old.nbytes + self.new.nbytes)

    @property
    def changed_pixels(self) -> int:
        return int(np.count_nonzero(np.unpackbits(self.where))) if self.packed else int(self.where.size)

    def _at(self) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """The changed pixels, to index the box's patch with: a bool mask, or (rows, columns)."""
        h, w = _box_shape(self.box)
        if self.packed:
            return np.unpackbits(self.where, count=h * w).view(bool).reshape(h, w)
        rows, cols = np.divmod(self.where.astype(np.intp), w)
        return rows, cols

    def write(self, labels: np.ndarray, forward: bool) -> None:
        """Set the changed pixels to their new (forward) or their old ids."""
        labels[box_slices(self.box)][self._at()] = self.new if forward else self.old

    def land(self, labels: np.ndarray) -> bool:
        """Write the step forward if the map holds its old ids at its pixels now; False, writing nothing,
        if not. The pixels are found once for both (a bit mask's unpacking is a pass over the box)."""
        current, at = labels[box_slices(self.box)], self._at()
        if self.packed and self.old.size == 1:  # no gather of a whole fill's pixels
            held = not np.any((current != self.old[0]) & at)
        else:
            held = bool(np.all(current[at] == self.old))
        if held:
            current[at] = self.new
        return held

    def onto(self, current: np.ndarray) -> Edit:
        """The step from `current` (the box's patch now) to this step's new ids at its pixels."""
        after = current.copy()
        after[self._at()] = self.new
        return Edit(self.box, current.copy(), after, self.kind)


Step = Edit | SparseEdit  # an undo step, in whichever form is smaller
Patches = Callable[[], tuple[np.ndarray, np.ndarray]]  # makes a step's before and after patches


def index_dtype(size: int) -> type[np.integer]:
    """The smallest integer dtype for flat indices into `size` pixels."""
    for dtype in (np.uint16, np.uint32):
        if size <= int(np.iinfo(dtype).max) + 1:
            return dtype
    return np.int64


def _one_or_all(values: np.ndarray) -> np.ndarray:
    """`values`, or its first alone when all are equal (a brush's new ids, a flood fill's old ones)."""
    if values.size > 1 and not np.any(values != values[0]):
        return values[:1].copy()
    return values


def _form(area: int, count: int, values: int, mask: bool) -> str:
    """The smallest form of a step changing `count` of its box's `area` pixels, whose ids take `values`
    bytes: "index", "mask" (only where `mask`) or "patches"."""
    sizes = {"index": count * np.dtype(index_dtype(area)).itemsize + values, "patches": 2 * area}
    if mask:
        sizes["mask"] = -(-area // 8) + values
    return min(sizes, key=lambda form: sizes[form])


def step_from_mask(
    box: Box,
    changed: np.ndarray,
    old: np.ndarray,
    new: np.ndarray,
    delta: np.ndarray,
    kind: str,
    patches: Patches,
) -> Step:
    """The step setting the pixels of `changed` (a bool patch of `box`) from `old` to `new` (their ids in
    row-major order, or one id for all), in its smallest form; `patches()` is called only for patches."""
    count = int(np.count_nonzero(changed))
    old, new = _one_or_all(old), _one_or_all(new)
    form = _form(changed.size, count, old.nbytes + new.nbytes, mask=True)
    if form == "patches":
        before, after = patches()
        return Edit(box, before, after, kind, delta)
    if form == "mask":
        return SparseEdit(box, np.packbits(changed), old, new, delta, kind, packed=True)
    where = np.flatnonzero(changed).astype(index_dtype(changed.size))
    return SparseEdit(box, where, old, new, delta, kind)


def step_from_index(
    box: Box,
    index: np.ndarray,
    old: np.ndarray,
    new: np.ndarray,
    delta: np.ndarray,
    kind: str,
    after: np.ndarray,
) -> Step:
    """The step setting the pixels at flat `index` of `box` (distinct, in any order) from `old` to `new`,
    as indices or patches (a bit mask would need the ids put in row-major order: a pass over the box);
    `after` is the box's patch after the step."""
    area = after.size
    old_kept, new_kept = _one_or_all(old), _one_or_all(new)
    if _form(area, int(index.size), old_kept.nbytes + new_kept.nbytes, mask=False) == "patches":
        after = after.copy()
        before = after.copy()
        before.reshape(-1)[index] = old
        return Edit(box, before, after, kind, delta)
    dtype = np.dtype(index_dtype(area))
    where = index.view(dtype) if index.dtype.itemsize == dtype.itemsize else index.astype(dtype)  # >= 0
    return SparseEdit(box, where, old_kept, new_kept, delta, kind)


def _tight(edit: Edit, diff: np.ndarray) -> tuple[Box, tuple[slice, slice]] | None:
    """The bounding box of the changed pixels `diff` of `edit`, and its slices in the edit's patches."""
    rows, cols = np.flatnonzero(diff.any(axis=1)), np.flatnonzero(diff.any(axis=0))
    if rows.size == 0:
        return None
    r0, r1, c0, c1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    y0, x0 = edit.box[0] + r0, edit.box[1] + c0
    return (y0, x0, y0 + r1 - r0, x0 + c1 - c0), (slice(r0, r1), slice(c0, c1))


def tighten(edit: Edit) -> Edit | None:
    """The same edit on the bounding box of the pixels it really changes; None when it changes none."""
    found = _tight(edit, edit.before != edit.after)
    if found is None:
        return None
    box, sub = found
    return Edit(box, edit.before[sub].copy(), edit.after[sub].copy(), edit.kind, edit.delta)


def compact(edit: Edit) -> Step | None:
    """`edit` on the bounding box of the pixels it changes, in its smallest form, with its delta; None
    when it changes none."""
    diff = edit.before != edit.after
    found = _tight(edit, diff)
    if found is None:
        return None
    box, sub = found
    before, after, changed = edit.before[sub], edit.after[sub], diff[sub]
    old, new = before[changed], after[changed]
    delta = count_delta(old, new) if edit.delta is None else edit.delta
    return step_from_mask(box, changed, old, new, delta, edit.kind, lambda: (before.copy(), after.copy()))
