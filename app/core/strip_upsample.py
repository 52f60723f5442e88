"""Full-size labels and confidence from working-resolution class probabilities, a few rows at a time:
probabilities (not labels) are upsampled before the argmax, and no full-size float plane per class is
ever held (docs/performance.md)."""

from __future__ import annotations

import cv2
import numpy as np

_STRIP_ROWS = 64  # 64 rows x 8000 px x 3 classes x 4 B = 6 MB per temporary


class StripUpsampler:
    """Receives probability rows at the working resolution, top to bottom, and writes full-size
    labels/confidence a block of rows at a time (bilinear, pixel-centre aligned like `cv2.resize`).

    Enlarging (resize mode): output rows that lie between the same two source rows form a block. Where
    both source rows pick the same class, every blend of them picks it too and its top probability is
    the blend of theirs, so the labels are copied and one plane is interpolated; all classes are blended
    only in the columns where the two rows disagree (class edges). Otherwise (tiles at about the photo's
    size, where blocks would be a row each) strips of 64 rows blend every class. Either way the result
    equals upsampling every class before the argmax. With `keep_id`, that class's probability is
    written too (`kept`, uint8 x 255): one more interpolated plane, the same blend. Without
    `confidence` the top-probability plane is not made (the mean confidence is the same).
    """

    def __init__(
        self,
        out_h: int,
        out_w: int,
        graded_ids: list[int],
        keep_id: int | None = None,
        confidence: bool = True,
    ) -> None:
        self.out_h, self.out_w = out_h, out_w
        self.labels = np.empty((out_h, out_w), dtype=np.uint8)
        # The mean confidence comes from the float top probabilities, never from this map.
        self.confidence = np.empty((out_h, out_w), dtype=np.uint8) if confidence else None
        self._keep_id = keep_id
        self.kept = None if keep_id is None else np.empty((out_h, out_w), dtype=np.uint8)
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
            labels, top = argmax(resized)
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
        top = None
        if self.confidence is not None:
            top = np.multiply(step, frac)  # n x out_w
            top += top0
        labels = self.labels[r0:r1]
        labels[:] = labels0
        graded = self._graded_lut[labels0]
        # Where the rows agree, a column's graded top probabilities sum to n * top0 + step * sum(frac).
        column_sums = top0 * np.float32(n) + step * np.float32(frac.sum())
        edges = (labels0 != self._row_labels[i1]).nonzero()[0]
        if edges.size:
            a = self._rows[i0][edges]
            mixed = a + (self._rows[i1][edges] - a) * frac[:, :, None]
            edge_labels, edge_top = argmax(mixed)
            labels[:, edges] = edge_labels
            if top is not None:
                top[:, edges] = edge_top
            graded[edges] = False
            edge_graded = self._graded_lut[edge_labels]
            self._conf_sum += float(_SUM(edge_top, None, np.float64, where=edge_graded))
            self._conf_count += int(np.count_nonzero(edge_graded))
        self._conf_sum += float(_SUM(column_sums, None, np.float64, where=graded))
        self._conf_count += n * int(np.count_nonzero(graded))
        if top is not None:
            cv2.convertScaleAbs(top, self.confidence[r0:r1], alpha=255.0)  # x 255, rounded, saturated
        if self.kept is not None:
            k0 = self._rows[i0][:, self._keep_id]
            kept = np.multiply(self._rows[i1][:, self._keep_id] - k0, frac)
            kept += k0
            cv2.convertScaleAbs(kept, self.kept[r0:r1], alpha=255.0)

    def _strip(self, r0: int, r1: int) -> None:
        """Output rows [r0, r1): every class blended between each row's two source rows."""
        top = np.stack([self._rows[i - self._first] for i in self._y0[r0:r1]])
        bottom = np.stack([self._rows[i - self._first] for i in self._y1[r0:r1]])
        bottom -= top
        bottom *= self._frac[r0:r1, None, None]
        labels, best = argmax(np.add(top, bottom, out=top))
        self.labels[r0:r1] = labels
        if self.confidence is not None:
            cv2.convertScaleAbs(best, self.confidence[r0:r1], alpha=255.0)
        if self.kept is not None:
            cv2.convertScaleAbs(np.ascontiguousarray(top[..., self._keep_id]), self.kept[r0:r1], alpha=255.0)
        graded = self._graded_lut[labels]
        self._conf_sum += float(np.sum(best, where=graded, dtype=np.float64))
        self._conf_count += int(np.count_nonzero(graded))

    def finish(self) -> tuple[np.ndarray, np.ndarray | None, float | None]:
        if self._next_out < self.out_h:
            self._emit(final=True)
        mean = self._conf_sum / self._conf_count if self._conf_count else None
        return self.labels, self.confidence, mean


_SUM = np.add.reduce  # np.sum without its Python wrapper (~256 blocks a 12 MP photo, two sums each)


def argmax(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(class id uint8, top probability) over the last axis; ties go to the lower id, like argmax."""
    # Channel by channel: numpy's argmax/max over a short last axis are several times slower.
    top = probs[..., 0].copy()
    labels = np.zeros(top.shape, dtype=np.uint8)
    for c in range(1, probs.shape[-1]):
        better = probs[..., c] > top  # strict: ties go to the lower id
        labels[better] = c
        np.maximum(top, probs[..., c], out=top)
    return labels, top
