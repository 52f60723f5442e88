"""The model's typical error, as one plain line for every screen and page that shows a figure.

The figures (how far the model's corroded share is from an inspector's mask, how often its ASTM D610 grade
is the mask's) are measured by cross-validation and written into the model file's metadata
(`METADATA_KEY`) by `python -m training.model_figures`; a model without them is "accuracy unknown".
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.core.contract import KEY_ACCURACY
from app.core.text import counted

METADATA_KEY = KEY_ACCURACY
# How an adapted model's figures are measured (`app.core.adapt`): over the few photos it was adapted on.
LEAVE_ONE_OUT = "leave-one-out"
UNKNOWN = "Model estimate: accuracy unknown (the model file states no measured error). Review before signing."


@dataclass(frozen=True)
class ModelAccuracy:
    """Corroded-share error in points against inspectors' masks (median, mean, 90th percentile), the share
    of photos whose D610 grade equals the mask's (0..1), how many photos, and how they were measured."""

    median_error: float
    mean_error: float
    p90_error: float
    d610_same: float | None
    photos: int
    measured_on: str = "cross-validation"

    def __post_init__(self) -> None:
        errors = (self.median_error, self.mean_error, self.p90_error)
        if not all(math.isfinite(v) and v >= 0 for v in errors):
            raise ValueError("share errors must be finite and >= 0")
        if self.d610_same is not None and not 0.0 <= self.d610_same <= 1.0:
            raise ValueError(f"d610_same must be in 0..1, got {self.d610_same}")
        if self.photos < 1:
            raise ValueError("the figures must come from at least one photo")

    def line(self) -> str:
        """ "Model estimate: typically within ±9 points of an inspector's mask (90 % within ±19); D610 grade
        equal on 77 % of test photos. Review before signing." ("typically": half the photos). An adapted
        model's figures name how many photos they come from ("of the 9 photos it was adapted on")."""
        text = (
            f"Model estimate: typically within ±{self.median_error:.0f} points of an inspector's mask "
            f"(90 % within ±{self.p90_error:.0f})"
        )
        scope = "test photos"
        if self.adapted:  # a handful of photos: the count says how few
            scope = f"the {counted(self.photos, 'photo')} it was adapted on, by leave-one-out"
            if self.d610_same is None:
                text += f", measured on {scope}"
        if self.d610_same is not None:
            text += f"; D610 grade equal on {self.d610_same * 100:.0f} % of {scope}"
        return text + ". Review before signing."

    @property
    def adapted(self) -> bool:
        """Measured by leave-one-out over the photos a model was adapted on (`app.core.adapt`)."""
        return self.measured_on.startswith(LEAVE_ONE_OUT)

    def how_measured(self) -> str:
        """ "5-fold cross-validation on 194 photos"; an adapted model's says its photos itself."""
        if self.adapted:
            return self.measured_on
        return f"{self.measured_on} on {counted(self.photos, 'photo')}"

    def to_json(self) -> dict[str, Any]:
        return {
            "share_error": {
                "median": round(self.median_error, 3),
                "mean": round(self.mean_error, 3),
                "p90": round(self.p90_error, 3),
            },
            "d610_same_share": None if self.d610_same is None else round(self.d610_same, 4),
            "photos": self.photos,
            "measured_on": self.measured_on,
        }

    @classmethod
    def from_json(cls, raw: Any) -> ModelAccuracy:
        """Parse `to_json`'s dict; ValueError (or KeyError, TypeError) saying what is wrong."""
        if not isinstance(raw, dict) or not isinstance(raw.get("share_error"), dict):
            raise ValueError("the accuracy figures must be a JSON object with share_error")
        err, same = raw["share_error"], raw.get("d610_same_share")
        return cls(
            median_error=float(err["median"]),
            mean_error=float(err["mean"]),
            p90_error=float(err["p90"]),
            d610_same=None if same is None else float(same),
            photos=int(raw["photos"]),
            measured_on=str(raw.get("measured_on", "cross-validation")),
        )


def read_accuracy(metadata: Mapping[str, str]) -> ModelAccuracy | None:
    """The model's measured accuracy from its ONNX metadata; None where it has none (or it is unusable)."""
    text = metadata.get(METADATA_KEY)
    if not text:
        return None
    try:
        return ModelAccuracy.from_json(json.loads(text))
    except (ValueError, KeyError, TypeError):
        return None


def accuracy_line(accuracy: ModelAccuracy | None) -> str:
    """The one line every screen and page shows: the typical error, or "accuracy unknown"."""
    return UNKNOWN if accuracy is None else accuracy.line()


def run_record_figures(model: Any) -> dict[str, Any]:
    """What the run record says of the model's own accuracy: the line, its figures, the share range's
    calibration measured on held-out folds (or why photos have no range). `model`: a SegmentationModel."""
    cal = model.range_calibration
    return {
        "accuracy": model.accuracy_line,
        "accuracy_figures": None if model.accuracy is None else model.accuracy.to_json(),
        "share_range": None
        if cal is None
        else {"label": cal.label, "confidence": cal.confidence, "held_out": cal.held_out},
        "share_range_note": model.range_note,
    }
