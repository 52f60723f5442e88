"""How adaptation scores a model on the reviewed photos: corroded share from probabilities, the
leave-one-out figures (mean share error, D610 grade agreement), and the accuracy line they give."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.core.adapt_checks import masks_phrase
from app.core.grading import GradeScale, grade
from app.core.model import SegmentationModel
from app.core.model_accuracy import LEAVE_ONE_OUT, ModelAccuracy
from app.core.stats import corroded_share
from app.core.text import counted

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LooFigures:
    """Over the reviewed photos: mean absolute corroded-share error (points) and D610 grade agreement."""

    share_error: float
    d610_agreement: float
    photos: int
    errors: tuple[float, ...] = ()  # each photo's absolute share error, points


def share_of(counts: dict[str, int]) -> float | None:
    if "corrosion" not in counts or "asset" not in counts:
        return None
    return corroded_share(counts["corrosion"], counts["asset"])


def figures(pairs: Sequence[tuple[float | None, float | None]]) -> LooFigures:
    """(predicted share, reviewed share) per photo -> mean error and D610 agreement (shares known)."""
    known = [(p, t) for p, t in pairs if p is not None and t is not None]
    if not known:
        return LooFigures(0.0, 1.0, 0)
    errors = tuple(round(abs(p - t), 4) for p, t in known)
    same = [grade(p, GradeScale.ASTM_D610).value == grade(t, GradeScale.ASTM_D610).value for p, t in known]
    # fsum: correctly rounded, so the mean is the same in whatever order the photos came
    return LooFigures(math.fsum(errors) / len(errors), float(np.mean(same)), len(known), errors)


def loo_accuracy(
    figures: LooFigures, signed: int | None = None, total: int | None = None
) -> ModelAccuracy | None:
    """The adapted model's typical error as every screen states it: its leave-one-out over the photos
    it was adapted on (a small sample, and it says so), never the base model's validation figures.
    `signed`: how many of their masks are signed (None: all); `total`: the photos fitted on, where
    some were not scored (an earlier adaptation used them)."""
    if not figures.errors:
        return None
    errors = np.array(figures.errors)
    masks = masks_phrase(figures.photos, figures.photos if signed is None else signed)
    among = "it was adapted on"
    if total is not None and total > figures.photos:  # the rest an earlier adaptation used: not held out
        among = f"new to it among the {total} {among}"
    try:
        return ModelAccuracy(
            median_error=float(np.median(errors)),
            mean_error=float(errors.mean()),
            p90_error=float(np.percentile(errors, 90)),
            d610_same=figures.d610_agreement,
            photos=figures.photos,
            measured_on=f"{LEAVE_ONE_OUT} over the {masks} {among}",
            max_error=float(errors.max()),
        )
    except ValueError as exc:  # one photo with a share, or none off at all: too few to state an error
        log.info("the adapted model states no accuracy: %s", exc)
        return None


def comparison_text(base: LooFigures, adapted: LooFigures) -> str:
    """What the before / after means on a handful of photos: one value per photo, how many came closer,
    how many went further and the worst of those (no interval a few values cannot support)."""
    n = adapted.photos
    text = f"each error is a mean of {counted(n, 'value')}, one per photo: a rough comparison"
    if len(base.errors) != len(adapted.errors) or not adapted.errors:
        return text
    pairs = list(zip(base.errors, adapted.errors, strict=True))
    closer = sum(a < b for b, a in pairs)
    further = [(b, a) for b, a in pairs if a > b]
    text += f"; the adapted model came closer on {closer} of the {n} and further on {len(further)}"
    if further:
        b, a = max(further, key=lambda p: p[1] - p[0])
        text += f", at worst {b:.1f} → {a:.1f} points"
    return text


def predicted_share(probs: np.ndarray, base: SegmentationModel) -> float | None:
    """The corroded share of the argmax of H x W x C probabilities."""
    counts = np.bincount(probs.argmax(axis=-1).ravel(), minlength=base.num_classes)
    return share_of({c.name: int(counts[c.id]) for c in base.classes})
