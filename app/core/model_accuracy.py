"""The model's typical error, as one plain line for every screen and page that shows a figure.

The figures (how far the model's corroded share is from an inspector's mask, how often its ASTM D610 grade
is the mask's) are measured by cross-validation and written into the model file's metadata
(`METADATA_KEY`) by `python -m training.model_figures`; a model without them is "accuracy unknown".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.core.contract import KEY_ACCURACY
from app.core.meta_json import number, shown, strict_json, whole_number
from app.core.text import counted, safe_text

METADATA_KEY = KEY_ACCURACY
# How an adapted model's figures are measured (`app.core.adapt`): over the few photos it was adapted on.
LEAVE_ONE_OUT = "leave-one-out"
UNKNOWN = "Model estimate: accuracy unknown (the model file states no measured error). Review before signing."
SET_ASIDE = (
    "Model estimate: accuracy unknown (the measured error the model file states is implausible, so it is not "
    "shown). Review before signing."
)
# The fewest photos figures may come from: leave-one-out over an adapted model's reviewed photos needs one
# to fit on and one to test (`app.core.adapt` refuses fewer than 2), and adaptation writes what it measured.
MIN_PHOTOS = 2
# The most: a million hand-painted inspectors' masks is beyond any inspection data set (the shipped
# figures come from 194); a count past it is not a measurement.
MAX_PHOTOS = 1_000_000
# The fewest photos a "90 % within" figure is stated from: below 10 values the 90th percentile lies
# between the two largest, a single photo's error, no share of photos at all (two photos gave "90 %
# within ±5"). Smaller samples state their mean and their range instead.
MIN_P90_PHOTOS = 10
# Decimals of the errors `to_json` writes: the rules judge an error as written, so figures adaptation
# measured read back the same at load.
SHOWN_DECIMALS = 3


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
    max_error: float | None = None  # the worst photo's error (adapted models: the range a few photos span)

    def __post_init__(self) -> None:
        errors = (("median", self.median_error), ("mean", self.mean_error), ("p90", self.p90_error))
        for name, value in errors:
            if not 0.0 <= value <= 100.0:  # NaN fails too
                raise ValueError(f"share_error.{name} must be 0 to 100 points, got {value:g}")
        if not self.median_error <= self.p90_error:
            raise ValueError(
                f"share_error.median ({self.median_error:g}) must not exceed share_error.p90 "
                f"({self.p90_error:g})"
            )
        # The line shows whole points: "within ±0" (half a point or less) claims half the photos, or nine
        # in ten, within half a point of an inspector's hand-painted mask. No model measured against
        # people's masks is that close (the shipped one's median is 10.7 points, models/MODEL_CARD.md); as
        # with a range under 1 point wide (`range_calibration.MIN_HALF_WIDTH`), the numbers are wrong.
        for name, value, who in (("p90", self.p90_error, "90 %"), ("median", self.median_error, "half")):
            if _reads_as_zero(value):
                raise ValueError(
                    f"share_error.{name} must be over 0.5 points, got {value:g} (in whole points, an error "
                    f"of 0 on {who} of the photos)"
                )
        # Half the photos are off by the median or more, so the mean is at least half the median (to_json
        # rounds to 3 decimals), and above 0 where the p90 is.
        if not (self.mean_error > 0 and self.median_error <= 2 * self.mean_error + 0.001):
            raise ValueError(
                f"share_error.mean ({self.mean_error:g}) cannot come with a median of {self.median_error:g} "
                f"and a p90 of {self.p90_error:g}"
            )
        if self.max_error is not None and not self.mean_error <= self.max_error + 0.001 <= 100.001:
            raise ValueError(f"share_error.max ({self.max_error:g}) must be 0 to 100 and not under the mean")
        if self.d610_same is not None and not 0.0 <= self.d610_same <= 1.0:
            raise ValueError(f"d610_same_share must be a share from 0 to 1, got {self.d610_same:g}")
        if isinstance(self.photos, bool) or not MIN_PHOTOS <= self.photos <= MAX_PHOTOS:
            raise ValueError(f"photos must be {MIN_PHOTOS} to {MAX_PHOTOS:,}, got {self.photos:,}")

    def line(self) -> str:
        """ "Model estimate: typically within ±9 points of an inspector's mask (90 % within ±19); D610 grade
        equal on 77 % of test photos. Review before signing." ("typically": half the photos). An adapted
        model's line says it is a rough figure from its few photos, with their mean and range."""
        if self.adapted:
            return self._adapted_line()
        text = (
            f"Model estimate: typically within ±{self.median_error:.0f} points of an inspector's mask "
            f"(90 % within ±{self.p90_error:.0f})"
        )
        if self.d610_same is not None:
            text += f"; D610 grade equal on {self.d610_same * 100:.0f} % of test photos"
        return text + ". Review before signing."

    def _adapted_line(self) -> str:
        """ "Model estimate, a rough figure from 6 photos by leave-one-out: on average 7 points off its
        corrected masks (the worst photo 23 off); D610 grade equal on 5 of the 6. Review before signing."
        The mean, not the median (near-zero photos pull a handful's median down); the photos measured."""
        n = self.photos
        text = (
            f"Model estimate, a rough figure from {counted(n, 'photo')} by leave-one-out: on average "
            f"{self.mean_error:.0f} points off its corrected masks"
        )
        spread = []
        if self.max_error is not None:
            spread.append(f"the worst photo {self.max_error:.0f} off")
        if n >= MIN_P90_PHOTOS:
            spread.append(f"90 % within ±{self.p90_error:.0f}")
        text += f" ({'; '.join(spread)})" if spread else ""
        if self.d610_same is not None:
            text += f"; D610 grade equal on {round(self.d610_same * n)} of the {n}"
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
                "median": round(self.median_error, SHOWN_DECIMALS),
                "mean": round(self.mean_error, SHOWN_DECIMALS),
                "p90": round(self.p90_error, SHOWN_DECIMALS),
                **({} if self.max_error is None else {"max": round(self.max_error, SHOWN_DECIMALS)}),
            },
            "d610_same_share": None if self.d610_same is None else round(self.d610_same, 4),
            "photos": self.photos,
            "measured_on": self.measured_on,
        }

    @classmethod
    def from_json(cls, raw: Any) -> ModelAccuracy:
        """Parse `to_json`'s dict; ValueError naming the field that is missing or implausible."""
        if not isinstance(raw, dict) or not isinstance(raw.get("share_error"), dict):
            raise ValueError("the accuracy figures must be a JSON object with share_error")
        err, same = raw["share_error"], raw.get("d610_same_share")
        return cls(
            median_error=number(err, "median", "share_error."),
            mean_error=number(err, "mean", "share_error."),
            p90_error=number(err, "p90", "share_error."),
            d610_same=None if same is None else number(raw, "d610_same_share"),
            photos=whole_number(raw, "photos"),
            measured_on=_measured_on(raw.get("measured_on", "cross-validation")),
            max_error=number(err, "max", "share_error.") if "max" in err else None,
        )


def _reads_as_zero(points: float) -> bool:
    """Whether an error, as `to_json` writes it, shows as "±0" in `ModelAccuracy.line`."""
    return f"{round(points, SHOWN_DECIMALS):.0f}" == "0"


def _measured_on(value: Any) -> str:
    """How the figures were measured, as the file words it: escaped and cut (`app.core.text`), since
    screens and records quote it; ValueError for anything but text."""
    if not isinstance(value, str):
        raise ValueError(f"measured_on must be text, got {shown(value)}")
    return safe_text(value)


def check_accuracy(metadata: Mapping[str, str]) -> tuple[ModelAccuracy | None, str | None]:
    """(the model's measured accuracy, None) from its ONNX metadata; (None, None) where it states none;
    (None, why) where its figures are unreadable or implausible, which then count as none."""
    text = metadata.get(METADATA_KEY)
    if not text:
        return None, None
    try:
        return ModelAccuracy.from_json(strict_json(text)), None
    except (ValueError, KeyError, TypeError) as exc:
        return None, f"the model's accuracy figures ({METADATA_KEY}) are set aside: {safe_text(exc, 200)}"


def read_accuracy(metadata: Mapping[str, str]) -> ModelAccuracy | None:
    """The model's measured accuracy from its ONNX metadata; None where it has none (or it is unusable)."""
    return check_accuracy(metadata)[0]


def accuracy_line(accuracy: ModelAccuracy | None, set_aside: bool = False) -> str:
    """The one line every screen and page shows: the typical error, or "accuracy unknown" (`set_aside`:
    the file states figures the app refused)."""
    if accuracy is None:
        return SET_ASIDE if set_aside else UNKNOWN
    return accuracy.line()


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
