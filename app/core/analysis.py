"""One photo from file to figures: read, segment, measure, grade."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from app.core.errors import CorroscopeError
from app.core.grading import Assessment, ReviewPolicy, assess
from app.core.inference import CancelCheck, InferenceMode, InferenceOptions, Progress, segment
from app.core.model import SegmentationModel
from app.core.palette import ClassInfo
from app.core.photos import DEFAULT_MAX_PIXELS, read_image
from app.core.stats import AreaStats, area_stats


@dataclass(frozen=True)
class PhotoFigures:
    """What was measured on one photo, without its pixel arrays: what a table row, a CSV row or a
    stored result holds."""

    path: Path
    width: int
    height: int
    stats: AreaStats
    assessment: Assessment
    mean_confidence: float | None
    seconds: float
    model_sha256: str
    provider: str
    mode: InferenceMode
    classes: tuple[ClassInfo, ...]

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    def figures(self) -> PhotoFigures:
        """These figures alone (a `PhotoResult` drops its arrays)."""
        names = [f.name for f in fields(PhotoFigures)]
        return PhotoFigures(**{n: getattr(self, n) for n in names})


@dataclass(frozen=True, eq=False)
class PhotoResult(PhotoFigures):
    """The figures plus the full-size label map and top-class confidence x 255 (uint8 HxW each)."""

    labels: np.ndarray = field(repr=False)
    confidence: np.ndarray = field(repr=False)


def reassess(result: PhotoResult, labels: np.ndarray, policy: ReviewPolicy | None = None) -> PhotoResult:
    """The same photo with figures and grades recomputed from `labels` (the model's or an edited map)."""
    if labels.shape != result.labels.shape:
        raise ValueError(f"labels {labels.shape} do not match the photo {result.labels.shape}")
    stats = area_stats(labels, result.classes)
    assessment = assess(stats, result.mean_confidence, policy)
    return replace(result, stats=stats, assessment=assessment, labels=labels)


@dataclass(frozen=True)
class PhotoFailure:
    path: Path
    reason: str


def analyze_rgb(
    model: SegmentationModel,
    rgb: np.ndarray,
    path: str | os.PathLike[str],
    options: InferenceOptions | None = None,
    policy: ReviewPolicy | None = None,
    extra_seconds: float = 0.0,
    *,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
) -> PhotoResult:
    """Analyse a photo already in memory; `extra_seconds` (e.g. decoding time) is added to `seconds`.
    `progress`/`cancelled` go to `segment` (per network call; `Cancelled` stops the photo)."""
    options = options or InferenceOptions()
    start = time.perf_counter()
    seg = segment(model, rgb, options, progress=progress, cancelled=cancelled)
    stats = area_stats(seg.labels, model.classes)
    assessment = assess(stats, seg.mean_confidence, policy)
    seconds = time.perf_counter() - start + extra_seconds
    return PhotoResult(
        path=Path(path),
        width=int(rgb.shape[1]),
        height=int(rgb.shape[0]),
        stats=stats,
        assessment=assessment,
        mean_confidence=seg.mean_confidence,
        seconds=seconds,
        model_sha256=model.sha256,
        provider=model.device,
        mode=options.mode,
        classes=model.classes,
        labels=seg.labels,
        confidence=seg.confidence,
    )


def analyze_photo(
    model: SegmentationModel,
    path: str | os.PathLike[str],
    options: InferenceOptions | None = None,
    policy: ReviewPolicy | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> PhotoResult:
    """Read and analyse one photo; raises `ImageReadError` (or another `CorroscopeError`) on failure."""
    start = time.perf_counter()
    rgb = read_image(path, max_pixels=max_pixels)
    return analyze_rgb(model, rgb, path, options, policy, extra_seconds=time.perf_counter() - start)


def failure_from(path: str | os.PathLike[str], exc: BaseException) -> PhotoFailure:
    """A `PhotoFailure` with a reason a user can read (our messages already name the file)."""
    text = str(exc) if isinstance(exc, CorroscopeError) else f"{type(exc).__name__}: {exc}"
    prefix = f"{Path(path)}: "
    return PhotoFailure(Path(path), text[len(prefix) :] if text.startswith(prefix) else text)
