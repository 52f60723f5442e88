"""Are the reviewed masks in this model's colours? Each mask against the base model's own prediction: a
mask drawn with two classes' colours swapped (asset painted as background and background as asset) is
read without error, and leave-one-out, scored against the same wrong masks, calls it an improvement.

The pipe's outline (every class but background) is what the model gets right most often, so the check
looks there only: a mask looks swapped with class k when most of what it paints k the model calls
background AND most of what it paints background the model calls pipe. Agreement alone cannot tell:
hand masks of the origin's photos (`ORI_*`/`GT_*`, 194 photos, the shipped int8 model) agree with the
model's pipe at an IoU as low as 0.23 (5th percentile 0.62), below the tester's swapped masks (0.39).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from app.core.adapt_checks import named_few
from app.core.adapt_heads import AdaptRefused
from app.core.palette import ClassInfo, background_class
from app.core.text import counted, safe_path, safe_text

BACKGROUND = "background"
# Both classes on at least this share of the photo, else that pair is not judged: a class painted on a
# few pixels (a pipe filling the frame leaves 2-4 % background) says nothing about the convention.
LEAST_SHARE = 0.05
# "Most" of both at once. Measured (`swap` below, the largest over the classes judged; bench.adapt_masks):
# the 194 origin photos with their hand masks: at most 0.43 with the shipped int8 model, 0.44 with the
# float one (99th percentile 0.18; none over 0.5, so none warned about); the tester's 10 signed masks of
# repainted pipes: at most 0.35; their 6 masks with asset and background swapped: 0.51-0.93 on 4 (one
# has under 5 % background, one's asset is under 5 % of it: not judged). The origin's masks swapped by
# hand: over 0.5 on 121 of the 149 judged (asset with background), 149 of 174 (corrosion with it).
SWAP_LIMIT = 0.5


@dataclass(frozen=True)
class MaskAgreement:
    """One reviewed mask against the base model: the IoU of their pipes (None without a background
    class), and the strongest sign of a swap, `swap` in 0..1 (over 0.5: it looks swapped) with the class
    it looks swapped with background (None: nothing judged)."""

    pipe_iou: float | None
    swap: float = 0.0
    swapped_with: str | None = None

    @property
    def looks_swapped(self) -> bool:
        return self.swapped_with is not None and self.swap > SWAP_LIMIT


def confusion(mask: np.ndarray, model: np.ndarray, classes: int) -> np.ndarray:
    """C x C pixel counts, rows the mask's class and columns the model's; `mask` (any size) is read at
    the size of `model` (the network's), nearest class."""
    h, w = model.shape
    if mask.shape != model.shape:
        mask = cv2.resize(mask.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
    flat = mask.astype(np.int64).ravel() * classes + model.astype(np.int64).ravel()
    return np.bincount(flat, minlength=classes * classes)[: classes * classes].reshape(classes, classes)


def agreement(counts: np.ndarray, classes: Sequence[ClassInfo]) -> MaskAgreement:
    """The mask's agreement with the model from their `confusion`."""
    found = background_class(classes)
    if found is None:
        return MaskAgreement(None)
    bg = found.id
    counts = counts.astype(np.float64)
    total = max(float(counts.sum()), 1.0)
    painted = counts.sum(axis=1)
    pipe_mask = painted - counts[:, bg]  # per mask class: pixels the model calls pipe
    union = total - counts[bg, bg]
    pipe_iou = float((pipe_mask.sum() - pipe_mask[bg]) / union) if union else 1.0
    best, who = 0.0, None
    if painted[bg] >= LEAST_SHARE * total:
        bg_as_pipe = pipe_mask[bg] / painted[bg]
        for c in classes:
            if c.id == bg or painted[c.id] < LEAST_SHARE * total:
                continue
            score = min(counts[c.id, bg] / painted[c.id], bg_as_pipe)
            if score > best:
                best, who = float(score), c.name
    return MaskAgreement(round(pipe_iou, 4), round(best, 4), who)


def check_conventions(named: Sequence[tuple[str, MaskAgreement]]) -> str | None:
    """`AdaptRefused` naming the photos when more than half of the masks look swapped against the model;
    a warning naming those that do when fewer do; None when none does. `named`: (photo name, agreement)."""
    odd = [(name, a) for name, a in named if a.looks_swapped]
    if not odd:
        return None
    with_ = " or ".join(sorted({safe_text(a.swapped_with) for _n, a in odd}))
    what = (
        f"as if {with_} and {BACKGROUND} had swapped colours (most of a mask's {with_} is {BACKGROUND} to "
        f"the model, and most of its {BACKGROUND} is pipe)"
    )
    names = named_few(safe_path(n) for n, _a in odd)
    if 2 * len(odd) > len(named):
        raise AdaptRefused(
            f"{len(odd)} of the {counted(len(named), 'mask')} disagree with the base model {what}: the "
            f"masks of {names}. They look drawn in another colour convention; repaint them in this model's "
            "class colours. The base model stays in use."
        )
    one = len(odd) == 1
    return (
        f"{counted(len(odd), 'mask')} {'disagrees' if one else 'disagree'} with the base model {what}: the "
        f"{'mask' if one else 'masks'} of {names}; check {'its' if one else 'their'} colours"
    )
