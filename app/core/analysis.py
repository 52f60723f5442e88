"""One photo from file to figures: read, segment, measure, grade."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from app.core.edit_masks import maps_equal
from app.core.errors import CorroscopeError
from app.core.grading import Assessment, GradeScale, ReviewPolicy, assess
from app.core.inference import CancelCheck, InferenceMode, InferenceOptions, Progress, segment_view
from app.core.measures import PhotoMeasures, measure_photo
from app.core.model import SegmentationModel
from app.core.model_accuracy import UNKNOWN as ACCURACY_UNKNOWN
from app.core.palette import ClassInfo
from app.core.photo_decode import start_decode
from app.core.photos import DEFAULT_MAX_PIXELS
from app.core.range_calibration import at_size
from app.core.share_range import outside_calibration
from app.core.sources import EDITED, MODEL, REVIEWED, SOURCES
from app.core.stats import AreaStats, area_stats

# where a result's label map came from (app.core.sources)
MODEL_LABELS, EDITED_LABELS, REVIEWED_LABELS = MODEL, EDITED, REVIEWED
_KEEP: Any = object()  # reassess: keep the result's scale


def utc_timestamp(when: dt.datetime | None = None) -> str:
    """ISO 8601 in UTC to the second, "2026-12-01T10:30:00Z": sorts as text, reads in any spreadsheet."""
    when = when or dt.datetime.now(dt.timezone.utc)
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class PhotoFigures:
    """What was measured on one photo, without its pixel arrays: what a table row, a CSV row or a
    stored result holds. `labels_source` is `MODEL_LABELS`, `EDITED_LABELS` for a map changed by hand and
    not signed, `REVIEWED_LABELS` for one a reviewer signed (neither has a share range: the range comes
    from the model's probabilities)."""

    path: Path
    width: int
    height: int
    stats: AreaStats
    assessment: Assessment
    measures: PhotoMeasures
    mean_confidence: float | None
    seconds: float
    analysed_at: str  # utc_timestamp() when the figures were computed
    model_sha256: str
    model_file: str  # the model's file name, e.g. "corrosion-...int8.onnx"
    provider: str
    mode: InferenceMode
    classes: tuple[ClassInfo, ...]
    labels_source: str = field(default=MODEL_LABELS, kw_only=True)
    model_accuracy: str = field(default=ACCURACY_UNKNOWN, kw_only=True)  # the model's typical error, a line

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    def figures(self) -> PhotoFigures:
        """These figures alone (a `PhotoResult` drops its arrays)."""
        names = [f.name for f in fields(PhotoFigures)]
        return PhotoFigures(**{n: getattr(self, n) for n in names})


@dataclass(frozen=True, eq=False)
class PhotoResult(PhotoFigures):
    """The figures plus the full-size label map and top-class confidence x 255 (uint8 HxW each; the
    confidence None where the caller asked for none, `analyze_view(confidence=False)`)."""

    labels: np.ndarray = field(repr=False)
    confidence: np.ndarray | None = field(repr=False)


def reassess(
    result: PhotoResult,
    labels: np.ndarray,
    policy: ReviewPolicy | None = None,
    *,
    mm_per_px: float | None = _KEEP,
    source: str | None = None,
) -> PhotoResult:
    """The same photo with figures, measures and grades recomputed from `labels` (the model's or an
    edited map). The share range is kept only for the very map it was computed on: pass the model's
    result, so that undoing every edit brings the range back. Any other map is `source` (default
    `EDITED_LABELS`; `REVIEWED_LABELS` only for a signed mask) with no range; an edited map keeps the
    model's review reasons after its own. `mm_per_px` defaults to the result's."""
    if labels.shape != result.labels.shape:
        raise ValueError(f"labels {labels.shape} do not match the photo {result.labels.shape}")
    if source is not None and source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
    same = labels is result.labels or maps_equal(labels, result.labels)
    if source is None:
        source = result.labels_source if same else EDITED
    scale = result.measures.mm_per_px if mm_per_px is _KEEP else mm_per_px
    stats = area_stats(labels, result.classes)
    measures = measure_photo(labels, result.classes, None, scale, stats)
    if same and source == result.labels_source:
        measures = replace(
            measures, share_range=result.measures.share_range, range_note=result.measures.range_note
        )
    assessment = assess(
        stats,
        result.mean_confidence,
        policy,
        result.assessment.scale,
        share_range=measures.share_range,
        source=source,
        range_note=measures.range_note,
    )
    if source == EDITED and result.labels_source == MODEL:
        assessment = with_model_reasons(assessment, result.assessment)
    return replace(
        result, stats=stats, assessment=assessment, measures=measures, labels=labels, labels_source=source
    )


MODEL_REASON = "model's mask: "  # before a reason kept from the model: its figures, not the edited map's


def with_model_reasons(edited: Assessment, model: Assessment) -> Assessment:
    """An edited map's assessment keeping the model's reasons after "edited, not marked reviewed yet"
    (until someone signs it, the reasons to look stay), each named as the model mask's: its share and
    range are not the edited map's figures beside it."""

    def kept(scale: GradeScale) -> tuple[str, ...]:
        return tuple(r if r.startswith(MODEL_REASON) else MODEL_REASON + r for r in model.reasons_for(scale))

    by_scale = tuple((s, tuple(dict.fromkeys((*reasons, *kept(s))))) for s, reasons in edited.by_scale)
    reasons = dict(by_scale)[edited.scale]
    return replace(edited, reasons=reasons, needs_review=bool(reasons), by_scale=by_scale)


_Figures = TypeVar("_Figures", bound=PhotoFigures)


def as_signed(result: _Figures) -> _Figures:
    """The figures of `result`'s map once a reviewer signed it: source `REVIEWED_LABELS`, no review
    flag (a person vouches for them) and no model range, even for the model's map signed untouched (as
    `analyze --reviewed-masks` and a batch count the same mask read back)."""
    a = result.assessment
    signed = assess(result.stats, result.mean_confidence, None, a.scale, source=REVIEWED)
    measures = replace(result.measures, share_range=None, range_note=None)
    return replace(result, assessment=signed, measures=measures, labels_source=REVIEWED_LABELS)


FAILED_STATUS, NOT_ANALYSED = "failed", "not analysed"
NOT_REACHED = "not analysed: the batch was stopped before this photo (run it again, or Continue)"


@dataclass(frozen=True)
class PhotoFailure:
    """A photo without figures: it failed (`reason` says why), or a stopped batch never reached it."""

    path: Path
    reason: str
    relative_path: str | None = None  # the path inside the input folder it came from
    status: str = FAILED_STATUS  # or NOT_ANALYSED

    @classmethod
    def not_reached(cls, path: Path) -> PhotoFailure:
        return cls(path, NOT_REACHED, status=NOT_ANALYSED)


def relative_path(path: Path, folders: Iterable[Path]) -> tuple[Path, str] | None:
    """(folder, path inside it with "/") for the nearest of `folders` holding `path`; None if none does."""
    best: tuple[Path, str] | None = None
    photo = Path(path).absolute()
    for folder in folders:
        try:
            rel = photo.relative_to(Path(folder).absolute())
        except ValueError:
            continue
        if best is None or rel.as_posix().count("/") < best[1].count("/"):
            best = (Path(folder).absolute(), rel.as_posix())
    return best


def analyze_rgb(
    model: SegmentationModel,
    rgb: np.ndarray,
    path: str | os.PathLike[str],
    options: InferenceOptions | None = None,
    policy: ReviewPolicy | None = None,
    extra_seconds: float = 0.0,
    mm_per_px: float | None = None,
    *,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
) -> PhotoResult:
    """Analyse a photo already in memory; `extra_seconds` (e.g. decoding time) is added to `seconds`.
    With `mm_per_px` (the photo's scale), areas are given in mm² too. `progress`/`cancelled` go to
    `segment` (per network call; `Cancelled` stops the photo)."""
    return analyze_view(
        model,
        rgb,
        rgb.shape[:2],
        path,
        options,
        policy,
        extra_seconds,
        mm_per_px,
        progress=progress,
        cancelled=cancelled,
    )


def analyze_view(
    model: SegmentationModel,
    view: np.ndarray,
    shape: tuple[int, int],
    path: str | os.PathLike[str],
    options: InferenceOptions | None = None,
    policy: ReviewPolicy | None = None,
    extra_seconds: float = 0.0,
    mm_per_px: float | None = None,
    *,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
    confidence: bool = True,
) -> PhotoResult:
    """`analyze_rgb` of a photo of (height, width) `shape` that the network sees as `view` (its reduced
    decode, `app.core.photo_decode.PhotoDecode.network_view`): the full photo is not needed. Without
    `confidence`, no full-size confidence map (`PhotoResult.confidence` None; the figures the same)."""
    options = options or InferenceOptions()
    start = time.perf_counter()
    seg = segment_view(
        model, view, shape, options, progress=progress, cancelled=cancelled, confidence=confidence
    )
    stats = area_stats(seg.labels, model.classes)
    off = outside_calibration(int(shape[1]), int(shape[0]), options.mode is InferenceMode.TILES)
    measures = measure_photo(
        seg.labels,
        model.classes,
        at_size(seg.probabilities, model.input_size),  # features at the size the calibration saw
        mm_per_px,
        stats,
        calibration=None if off else model.range_calibration,
        range_note=off or model.range_note,
    )
    assessment = assess(
        stats, seg.mean_confidence, policy, share_range=measures.share_range, range_note=measures.range_note
    )
    seconds = time.perf_counter() - start + extra_seconds
    return PhotoResult(
        path=Path(path),
        width=int(shape[1]),
        height=int(shape[0]),
        stats=stats,
        assessment=assessment,
        measures=measures,
        mean_confidence=seg.mean_confidence,
        seconds=seconds,
        analysed_at=utc_timestamp(),
        model_sha256=model.sha256,
        model_file=model.path.name,
        provider=model.provider,
        mode=options.mode,
        classes=model.classes,
        model_accuracy=model.accuracy_line,
        labels=seg.labels,
        confidence=seg.confidence,
    )


def analyze_photo(
    model: SegmentationModel,
    path: str | os.PathLike[str],
    options: InferenceOptions | None = None,
    policy: ReviewPolicy | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    mm_per_px: float | None = None,
) -> PhotoResult:
    """Read and analyse one photo; raises `ImageReadError` (or another `CorroscopeError`) on failure."""
    start = time.perf_counter()
    with start_decode(path, max_pixels, input_size=model.input_size, full_too=False) as photo:
        view = photo.network_view()
        seconds = time.perf_counter() - start
        return analyze_view(model, view, photo.shape, path, options, policy, seconds, mm_per_px)


def failure_from(
    path: str | os.PathLike[str], exc: BaseException, input_folders: Iterable[Path] = ()
) -> PhotoFailure:
    """A `PhotoFailure` with a reason a user can read (our messages already name the file)."""
    text = str(exc) if isinstance(exc, CorroscopeError) else f"{type(exc).__name__}: {exc}"
    prefix = f"{Path(path)}: "
    found = relative_path(Path(path), input_folders)
    reason = text[len(prefix) :] if text.startswith(prefix) else text
    return PhotoFailure(Path(path), reason, None if found is None else found[1])
