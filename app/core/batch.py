"""A folder of photos in one go: progress, cancel, resume, and one CSV for the whole batch.

Per photo the mask, the overlay, any extra outputs (e.g. the PDF) and, last, the JSON record are
written atomically; a photo counts as done when its JSON (from this model and mode) and every other
output exist. The CSV is rebuilt at the end from the JSON records, so a run that was interrupted and
resumed gives the same CSV as one that was not (the `seconds` column aside).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from app.core.analysis import PhotoFailure, PhotoResult, analyze_rgb, failure_from
from app.core.errors import CorroscopeError, ExportError, OutputExistsError
from app.core.export import (
    CSV_NAME,
    OutputPaths,
    csv_columns,
    csv_row,
    failure_row,
    output_paths,
    output_stems,
    result_to_dict,
    write_csv,
    write_mask_png,
    write_overlay_png,
    write_result_json,
)
from app.core.grading import ReviewPolicy
from app.core.inference import InferenceOptions
from app.core.model import SegmentationModel
from app.core.photos import DEFAULT_MAX_PIXELS, read_image

log = logging.getLogger(__name__)

DONE, SKIPPED, FAILED = "done", "skipped", "failed"


class ExtraOutput(Protocol):
    """One more file per photo, named `<stem><suffix>` (e.g. the PDF report)."""

    suffix: str

    def write(
        self, path: Path, result: PhotoResult, overlay_rgb: np.ndarray, photo_rgb: np.ndarray, overwrite: bool
    ) -> None: ...


@dataclass(frozen=True, eq=False)
class BatchProgress:
    """Sent after each photo. `index` counts photos handled so far (1-based)."""

    index: int
    total: int
    path: Path
    state: str  # DONE, SKIPPED (complete outputs found) or FAILED
    result: PhotoResult | None  # DONE only
    record: dict[str, Any] | None  # the JSON record (DONE and SKIPPED)
    failure: PhotoFailure | None  # FAILED only


@dataclass(frozen=True)
class BatchSummary:
    total: int
    done: tuple[Path, ...]
    skipped: tuple[Path, ...]
    failures: tuple[PhotoFailure, ...]
    cancelled: bool
    csv_path: Path | None
    seconds: float
    csv_error: str | None = None

    @property
    def ok(self) -> bool:
        return not self.failures and not self.cancelled


def _load_record(path: Path) -> dict[str, Any] | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and "model_sha256" in record else None


def _extra_paths(out_dir: Path, stem: str, extras: Sequence[ExtraOutput]) -> list[Path]:
    return [out_dir / f"{stem}{e.suffix}" for e in extras]


def _complete_record(
    outs: OutputPaths, extra: list[Path], model: SegmentationModel, options: InferenceOptions
) -> tuple[dict[str, Any] | None, str | None]:
    """(record, None) when the photo's outputs are complete; (None, why not reusable) when a JSON from
    another model or mode is in the way; (None, None) when there is nothing usable."""
    if not outs.json.exists():
        return None, None
    record = _load_record(outs.json)
    if record is None:
        return None, None
    if record["model_sha256"] != model.sha256 or record.get("mode") != options.mode.value:
        return None, (
            f"{outs.json.name} holds results of another model or mode; "
            "ask to overwrite (--overwrite) to replace them"
        )
    if all(p.exists() for p in (outs.mask, outs.overlay, *extra)):
        return record, None
    return None, None


def run_batch(
    model: SegmentationModel,
    paths: Sequence[Path],
    out_dir: str | os.PathLike[str],
    options: InferenceOptions | None = None,
    *,
    progress: Callable[[BatchProgress], None] | None = None,
    started: Callable[[int, int, Path], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    overwrite: bool = False,
    resume: bool = True,
    policy: ReviewPolicy | None = None,
    extra_outputs: Sequence[ExtraOutput] = (),
    visible: Collection[int] | None = None,
    opacity: Mapping[int, float] | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> BatchSummary:
    """Analyse `paths` into `out_dir` (created if needed) and write `results.csv` there at the end.

    `started(i, total, path)` is called before each photo, `progress(...)` after it; `cancelled()` is
    checked between photos. With `resume`, photos whose outputs are complete are skipped, and files left
    by an unfinished photo are replaced. `overwrite` redoes every photo.
    """
    options = options or InferenceOptions()
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"Cannot create the output folder {out}: {exc.strerror or exc}") from exc
    _remove_stale_temp_files(out)
    paths = [Path(p) for p in paths]
    stems = output_stems(paths)
    start = time.perf_counter()
    done: list[Path] = []
    skipped: list[Path] = []
    failures: dict[Path, PhotoFailure] = {}
    was_cancelled = False

    for i, path in enumerate(paths):
        if cancelled is not None and cancelled():
            was_cancelled = True
            break
        if started is not None:
            started(i + 1, len(paths), path)
        outs = output_paths(out, stems[path])
        extra = _extra_paths(out, stems[path], extra_outputs)
        record, blocked = (None, None) if overwrite else _complete_record(outs, extra, model, options)
        if record is not None and resume:
            skipped.append(path)
            event = BatchProgress(i + 1, len(paths), path, SKIPPED, None, record, None)
        else:
            # Under resume, outputs of an unfinished photo (no JSON, or a JSON of this model and mode
            # with a file missing) are ours to replace.
            replace = overwrite or (resume and blocked is None)
            try:
                if blocked and not overwrite:
                    raise OutputExistsError(blocked)
                result, record = _process(
                    model,
                    path,
                    outs,
                    extra,
                    extra_outputs,
                    options,
                    policy,
                    replace,
                    visible,
                    opacity,
                    max_pixels,
                )
                done.append(path)
                event = BatchProgress(i + 1, len(paths), path, DONE, result, record, None)
            except Exception as exc:  # one photo's failure, whatever it is, must not end the batch
                failure = failure_from(path, exc)
                failures[path] = failure
                log.info("%s: %s", path, failure.reason, exc_info=not isinstance(exc, CorroscopeError))
                event = BatchProgress(i + 1, len(paths), path, FAILED, None, None, failure)
        if progress is not None:
            progress(event)

    csv_path, csv_error = _write_batch_csv(out, paths, stems, failures, model, options)
    return BatchSummary(
        total=len(paths),
        done=tuple(done),
        skipped=tuple(skipped),
        failures=tuple(failures.values()),
        cancelled=was_cancelled,
        csv_path=csv_path,
        seconds=time.perf_counter() - start,
        csv_error=csv_error,
    )


def _remove_stale_temp_files(out: Path) -> None:
    """Temp files of `atomic_write_bytes` left by a run that was killed mid-write."""
    for part in out.glob(".*.part"):
        try:
            part.unlink()
        except OSError as exc:
            log.info("cannot remove %s: %s", part, exc)


def _process(
    model: SegmentationModel,
    path: Path,
    outs: OutputPaths,
    extra: list[Path],
    extra_outputs: Sequence[ExtraOutput],
    options: InferenceOptions,
    policy: ReviewPolicy | None,
    replace: bool,
    visible: Collection[int] | None,
    opacity: Mapping[int, float] | None,
    max_pixels: int,
) -> tuple[PhotoResult, dict[str, Any]]:
    if not replace:  # fail before the (slow) analysis when an output is in the way
        for target in (*outs.all(), *extra):
            if target.exists():
                raise OutputExistsError(f"{target} already exists (ask to overwrite to replace it)")
    t0 = time.perf_counter()
    rgb = read_image(path, max_pixels=max_pixels)
    result = analyze_rgb(model, rgb, path, options, policy, extra_seconds=time.perf_counter() - t0)
    write_mask_png(outs.mask, result.labels, model.classes, overwrite=replace)
    overlay = write_overlay_png(
        outs.overlay, rgb, result.labels, model.classes, visible, opacity, overwrite=replace
    )
    for target, writer in zip(extra, extra_outputs, strict=True):
        try:
            writer.write(target, result, overlay, rgb, replace)
        except CorroscopeError:
            raise
        except Exception as exc:  # an extra output's own failure fails this photo, not the batch
            raise ExportError(f"{target.name}: {type(exc).__name__}: {exc}") from exc
    record = result_to_dict(result, outs)
    write_result_json(outs.json, record, overwrite=replace)  # last: marks the photo complete
    return result, record


def _write_batch_csv(
    out: Path,
    paths: Sequence[Path],
    stems: Mapping[Path, str],
    failures: Mapping[Path, PhotoFailure],
    model: SegmentationModel,
    options: InferenceOptions,
) -> tuple[Path | None, str | None]:
    names = [c.name for c in model.classes]
    rows = []
    for path in paths:
        if path in failures:
            rows.append(failure_row(failures[path], names))
            continue
        record = _load_record(output_paths(out, stems[path]).json)
        if (
            record is not None
            and record["model_sha256"] == model.sha256
            and record.get("mode") == options.mode.value
        ):
            rows.append(csv_row(record, names))
    try:
        return write_csv(out / CSV_NAME, rows, csv_columns(names), overwrite=True), None
    except ExportError as exc:
        log.error("%s", exc)
        return None, str(exc)
