"""A calibrated range for the corroded share: split-conformal on out-of-fold predictions, its width scaled
by a per-photo difficulty score.

The difficulty score comes from what the app has at run time, the network's class probabilities over the
photo (`DifficultyFeatures`) and the share itself: a photo whose pipe is uncertain, ragged or ambiguous
between corrosion and asset gets a wide range, a clear one a narrow range. The parameters (a log-linear
model of the share's error and the conformal quantile of error / scale) are fitted by
`python -m training.model_figures` from a cross-validation and travel in the model file's metadata
(`METADATA_KEY`); a model without them has no range, and `read_calibration` says why.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import cv2
import numpy as np

from app.core.adapt_record import KEY_ADAPTATION
from app.core.contract import KEY_SHARE_RANGE
from app.core.meta_json import field_of, number, shown, strict_json
from app.core.palette import ClassInfo, class_by_name
from app.core.share_range import MAX_SPREAD, ShareRange
from app.core.text import safe_text

METADATA_KEY = KEY_SHARE_RANGE
METHOD = "normalized-split-conformal"
UNSURE = 0.75  # a pipe pixel whose top-class probability is below this counts as uncertain
# (not "its figures cannot be checked against a measured error": an adapted model states its own, the
# leave-one-out line beside this one)
NO_CALIBRATION = (
    f"no share range: the model file carries no range calibration ({METADATA_KEY}), so no photo's share "
    "comes with a range measured to hold it"
)
NO_CALIBRATION_ADAPTED = (
    "no share range: this is a site-adapted model, and adapted models carry no range of their own (none is "
    "calibrated for them on held-out photos)"
)


@dataclass(frozen=True)
class DifficultyFeatures:
    """What makes one photo's share hard, from the network's probabilities over the photo.

    Over the pipe's pixels (argmax corrosion or asset): the mean uncertainty (1 - top probability), the
    share of uncertain pixels (top < `UNSURE`), the share whose corrosion-vs-asset split is ambiguous
    (corrosion / (corrosion + asset) in 0.2..0.8); the pipe's boundary pixels over sqrt(its pixels) (a
    ragged or fragmented pipe scores high whatever the resolution); the pipe's fraction of the photo."""

    mean_uncertainty: float
    uncertain_share: float
    ambiguous_share: float
    boundary_ratio: float
    pipe_fraction: float

    def to_json(self) -> dict[str, float]:
        return {f.name: round(float(getattr(self, f.name)), 6) for f in fields(self)}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> DifficultyFeatures:
        return cls(**{f.name: float(raw[f.name]) for f in fields(cls)})


# The inputs of the difficulty model, in order: the features above and two terms of the share (s in 0..1).
FEATURE_NAMES = (*(f.name for f in fields(DifficultyFeatures)), "share", "share_spread")
# Every value each input can take. The boundary ratio is at most sqrt(the pipe's pixels) (each boundary
# pixel is a pipe pixel), and the features are measured at the input size, at most 8192 x 8192 (contract).
FEATURE_BOUNDS = ((0.0, 1.0),) * 3 + ((0.0, 8192.0), (0.0, 1.0), (0.0, 1.0), (0.0, 0.25))
# A coverage or confidence is shown in whole percents: above 0.99 it reads "100 %", a promise no finite
# range keeps; under one half the "range" misses most photos, and the review policy leans on it.
PLAUSIBLE_SHARE = (0.5, 0.99)
# The narrowest half-width (points of share) a calibration may give any photo. An 80 % range under 1 point
# wide claims 4 photos in 5 within +-0.5 points of an inspector's hand-painted mask; the shipped model's
# narrowest possible range is 23 points wide (half 11.6; its median error 10.7 points, MODEL_CARD.md), so
# a file asking for under 1 point has wrong numbers, not a better model. One read "83.2-83.2 %".
MIN_HALF_WIDTH = 0.5


def feature_vector(features: DifficultyFeatures, share: float) -> np.ndarray:
    """The difficulty model's input for one photo; `share` in % (0..100)."""
    s = min(max(share / 100.0, 0.0), 1.0)
    values = [getattr(features, f.name) for f in fields(DifficultyFeatures)]
    return np.array([*values, s, s * (1.0 - s)], dtype=np.float64)


def difficulty_features(probabilities: np.ndarray, classes: Sequence[ClassInfo]) -> DifficultyFeatures | None:
    """The features of one photo from its class probabilities (h x w x C, float 0..1 or uint8 x 255, as
    `Segmentation.probabilities` or a cross-validation's `oof-probs.npz`); None with no pipe in view."""
    if probabilities.ndim != 3 or probabilities.shape[2] != len(classes):
        raise ValueError(f"probabilities must be h x w x {len(classes)}, got {probabilities.shape}")
    corrosion, asset = class_by_name(classes, "corrosion"), class_by_name(classes, "asset")
    if corrosion is None or asset is None:
        return None
    p = probabilities.astype(np.float32) / (255.0 if probabilities.dtype == np.uint8 else 1.0)
    top_id = np.argmax(p, axis=2)
    pipe = (top_id == corrosion.id) | (top_id == asset.id)
    n = int(np.count_nonzero(pipe))
    if n == 0:
        return None
    top = p.max(axis=2)[pipe]
    pc, pa = p[..., corrosion.id][pipe], p[..., asset.id][pipe]
    q = pc / np.maximum(pc + pa, 1e-6)
    mask = pipe.astype(np.uint8)
    # The frame edge is no boundary: a pipe cut by the frame is not ragged (border replicated)
    inner = cv2.erode(mask, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE)
    boundary = int(np.count_nonzero(mask)) - int(np.count_nonzero(inner))
    return DifficultyFeatures(
        mean_uncertainty=float(np.mean(1.0 - top)),
        uncertain_share=float(np.mean(top < UNSURE)),
        ambiguous_share=float(np.mean((q > 0.2) & (q < 0.8))),
        boundary_ratio=boundary / math.sqrt(n),
        pipe_fraction=n / pipe.size,
    )


@dataclass(frozen=True)
class RangeCalibration:
    """A fitted range: scale(x) = exp(bias + weights . (x - mean) / std) points for a photo's feature
    vector x (`FEATURE_NAMES`), the range share +- `quantile` x scale, clipped to 0..100. `held_out` holds
    the coverage and width measured on folds the fit never saw; `review_max_width` is the widest range
    (points) the review policy lets pass without a flag (chosen on training folds; None: no such rule).
    `confidence`: the probability that the coverage reaches `coverage` on unseen photos (None: the
    quantile promises `coverage` on average only)."""

    coverage: float
    features: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    quantile: float
    review_max_width: float | None = None
    held_out: dict[str, Any] = field(default_factory=dict)
    method: str = METHOD
    confidence: float | None = None

    def __post_init__(self) -> None:
        n = len(self.features)
        _check_share("coverage", self.coverage)
        if self.confidence is not None:
            _check_share("confidence", self.confidence)
        if tuple(self.features) != FEATURE_NAMES:
            raise ValueError(f"features must be {', '.join(FEATURE_NAMES)}, got {', '.join(self.features)}")
        if not (len(self.mean) == len(self.std) == len(self.weights) == n):
            raise ValueError("mean, std and weights must have one value per feature")
        for name, values in (("mean", self.mean), ("std", self.std), ("weights", self.weights)):
            if not all(math.isfinite(v) for v in values):
                raise ValueError(f"{name} must be finite numbers")
        if not min(self.std) > 0:
            raise ValueError("std must be above 0")
        for name, value in (("bias", self.bias), ("quantile", self.quantile)):
            if not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value}")
        if not self.quantile > 0:  # a quantile of 0 makes every range 0 points wide
            raise ValueError(f"quantile must be above 0, got {self.quantile:g}")
        width = self.review_max_width
        if width is not None and not 0.0 <= width <= MAX_SPREAD:  # NaN fails too
            raise ValueError(f"review_max_width must be 0 to {MAX_SPREAD:g} points, got {width:g}")
        HeldOut.of(self.held_out)
        if self.method != METHOD:
            raise ValueError(f"unknown range method {self.method!r} (this version knows {METHOD!r})")
        narrowest = self.narrowest_half()
        if not narrowest >= MIN_HALF_WIDTH:  # NaN fails too
            raise ValueError(
                f"quantile, bias and weights give some photos a range {2 * narrowest:.2g} points wide "
                f"(at least {2 * MIN_HALF_WIDTH:g} is plausible)"
            )

    def narrowest_half(self) -> float:
        """The narrowest half-width (points) this calibration can give any photo: its scale where each
        feature, within `FEATURE_BOUNDS`, pulls it lowest."""
        low = self.bias
        for w, m, s, (lo, hi) in zip(self.weights, self.mean, self.std, FEATURE_BOUNDS, strict=True):
            low += min(w * ((lo - m) / s), w * ((hi - m) / s))
        return self.quantile * math.exp(min(low, 6.0))  # capped as `scale_of` caps it

    @property
    def held(self) -> HeldOut:
        """The held-out figures as the model's information and the reports state them (checked)."""
        return HeldOut.of(self.held_out)

    @property
    def label(self) -> str:
        """How the UI names the range: "80 % range"."""
        return f"{self.coverage * 100:.0f} % range"

    def scale(self, features: DifficultyFeatures, share: float) -> float:
        """The photo's difficulty in points of share (the typical error of a photo like it)."""
        return self.scale_of(feature_vector(features, share))

    def scale_of(self, vector: np.ndarray) -> float:
        """`scale` of a `feature_vector`."""
        z = (vector - np.array(self.mean)) / np.array(self.std)
        return float(math.exp(min(self.bias + float(np.dot(self.weights, z)), 6.0)))  # e^6: 400 points

    def range_for(self, share: float, features: DifficultyFeatures) -> ShareRange:
        """The calibrated range around `share` (% of the asset)."""
        half = self.quantile * self.scale(features, share)
        return ShareRange(
            share,
            max(0.0, share - half),
            min(100.0, share + half),
            self.label,
            self.review_max_width,
        )

    def promise(self) -> str | None:
        """ "calibrated to hold at least 80 % of unseen photos' shares with 90 % confidence, on photos like
        those it was measured on", or None
        where the file states no confidence (its quantile promised the coverage on average only)."""
        if self.confidence is None:
            return None
        at_least, sure = self.coverage * 100, self.confidence * 100
        shares = f"at least {at_least:.0f} % of unseen photos' shares"
        # a promise for photos like the calibration's, not any site's (a repainted pipe is not one)
        like = "on photos like those it was measured on"
        return f"calibrated to hold {shares} with {sure:.0f} % confidence, {like}"

    def statement(self) -> str | None:
        """What the range held and promises, for a report's statement of accuracy: "Its 80 % range held
        84 % of inspectors' shares on 194 held-out photos; calibrated to hold at least 80 % of unseen
        photos' shares with 90 % confidence, on photos like those it was measured on."; None where the
        held-out figures are not stated."""
        held = self.held
        if held.coverage is None or held.photos is None:
            return None
        promise = self.promise()
        tail = "" if promise is None else f"; {promise}"
        shares = f"held {held.coverage * 100:.0f} % of inspectors' shares on {held.photos} held-out photos"
        return f"Its {self.label} {shares}{tail}."

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "coverage": self.coverage,
            "confidence": self.confidence,
            "features": list(self.features),
            "mean": list(self.mean),
            "std": list(self.std),
            "weights": list(self.weights),
            "bias": self.bias,
            "quantile": self.quantile,
            "review_max_width": self.review_max_width,
            "held_out": self.held_out,
        }

    @classmethod
    def from_json(cls, raw: Any) -> RangeCalibration:
        """Parse `to_json`'s dict; ValueError naming the field that is missing or wrong."""
        if not isinstance(raw, dict):
            raise ValueError("the range calibration must be a JSON object")
        width, confidence = raw.get("review_max_width"), raw.get("confidence")
        held = raw.get("held_out") or {}
        if not isinstance(held, dict):
            raise ValueError("held_out must be a JSON object")
        features = field_of(raw, "features")
        if not isinstance(features, list):
            raise ValueError("features must be a list of names")
        return cls(
            coverage=number(raw, "coverage"),
            features=tuple(str(f) for f in features),
            mean=_numbers(raw, "mean"),
            std=_numbers(raw, "std"),
            weights=_numbers(raw, "weights"),
            bias=number(raw, "bias"),
            quantile=number(raw, "quantile"),
            review_max_width=None if width is None else number(raw, "review_max_width"),
            held_out=held,
            method=str(raw.get("method", "")),
            confidence=None if confidence is None else number(raw, "confidence"),
        )


@dataclass(frozen=True)
class HeldOut:
    """What the range held on folds its fit never saw, as shown: the share of inspectors' shares inside it
    (0..1), on how many photos, its mean width (points); each None where the file does not state it."""

    coverage: float | None
    photos: int | None
    mean_width: float | None

    @classmethod
    def of(cls, held: Mapping[str, Any]) -> HeldOut:
        """The figures of a calibration's `held_out`; ValueError naming one that is implausible."""
        coverage = None if held.get("coverage") is None else number(held, "coverage", "held_out.")
        if coverage is not None and not 0.0 <= coverage <= 1.0:
            raise ValueError(f"held_out.coverage must be a share from 0 to 1, got {coverage:g}")
        photos = held.get("photos")
        if photos is not None and (type(photos) is not int or photos < 1):
            raise ValueError(f"held_out.photos must be a whole number of at least 1, got {shown(photos)}")
        width = None if held.get("mean_width") is None else number(held, "mean_width", "held_out.")
        if width is not None and not 0.0 <= width <= 100.0:
            raise ValueError(f"held_out.mean_width must be 0 to 100 points, got {width:g}")
        return cls(coverage, photos, width)


def _check_share(name: str, value: float) -> None:
    low, high = PLAUSIBLE_SHARE
    if not low <= value <= high:  # NaN fails too
        raise ValueError(f"{name} must be {low:g} to {high:g}, got {value:g}")


def _numbers(raw: Mapping[str, Any], key: str) -> tuple[float, ...]:
    values = field_of(raw, key)
    if not isinstance(values, list):
        raise ValueError(f"{key} must be a list of numbers")
    return tuple(number({key: v}, key) for v in values)


def read_calibration(metadata: Mapping[str, str]) -> tuple[RangeCalibration | None, str | None]:
    """(the model's range calibration, None) from its ONNX metadata, or (None, why there is no range): an
    implausible calibration counts as none, its reason naming the field."""
    text = metadata.get(METADATA_KEY)
    if not text:
        return None, NO_CALIBRATION_ADAPTED if metadata.get(KEY_ADAPTATION) else NO_CALIBRATION
    try:
        return RangeCalibration.from_json(strict_json(text)), None
    except (ValueError, KeyError, TypeError) as exc:
        why = safe_text(exc, 200)
        return None, f"no share range: the model's range calibration ({METADATA_KEY}) is unusable: {why}"


def at_size(probabilities: np.ndarray | None, size: tuple[int, int]) -> np.ndarray | None:
    """The probabilities at (height, width): the calibration's features are measured at the network's
    input size (a cross-validation keeps resize mode's), so tiles mode's finer grid is shrunk to it."""
    if probabilities is None or probabilities.shape[:2] == tuple(size):
        return probabilities
    return cv2.resize(probabilities, (size[1], size[0]), interpolation=cv2.INTER_AREA)


def photo_range(
    share: float | None,
    probabilities: np.ndarray | None,
    classes: Sequence[ClassInfo],
    calibration: RangeCalibration | None,
) -> ShareRange | None:
    """One photo's calibrated range; None without a calibration, probabilities or a pipe in view."""
    if share is None or probabilities is None or calibration is None:
        return None
    features = difficulty_features(probabilities, classes)
    return None if features is None else calibration.range_for(share, features)
