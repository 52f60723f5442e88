"""One photo pipeline in three stages, shared by the CLI, the GUI batch, evaluation and any engine.

- `plan_batch`: inputs -> one `PlannedPhoto` each (output names, and whether its outputs are complete);
- `process_photo`: a picklable function of one planned photo and `BatchOptions` -> `PhotoOutcome`,
  outputs written (the JSON record last, which marks the photo complete); the model is loaded once per
  process when none is passed, so a worker pool or a cluster maps it as is;
- `reduce_batch`: outcomes -> `results.csv`, rebuilt from the JSON records, so an interrupted and resumed
  batch gives the same CSV as one that was not (the `seconds` column aside); rows of other photos that
  an earlier run listed there are kept.
Planning takes the output folder's lock (`app.core.outlock`) and reducing releases it; only files
proven ours (`app.core.ownership`) are replaced without `overwrite`.
`run_batch` drives the three in this process, with progress and cancel.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import functools
import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from app.core import exporters, files, outlock, ownership, results_table, review_source
from app.core.analysis import PhotoFailure, PhotoResult, analyze_rgb, failure_from
from app.core.errors import Cancelled, CorroscopeError, ExportError, OutputExistsError
from app.core.export import (
    CSV_NAME,
    companion_path,
    csv_columns,
    failure_row,
    output_stems,
    result_to_dict,
    run_record,
    write_run_json,
)
from app.core.grading import ReviewPolicy
from app.core.inference import CancelCheck, InferenceOptions, Progress
from app.core.model import SegmentationModel
from app.core.outlock import OutputLock, Pending
from app.core.photos import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, read_image
from app.core.share_range import CALIBRATED

log = logging.getLogger(__name__)

DONE, SKIPPED, FAILED = "done", "skipped", "failed"
DEFAULT_EXPORTS = ("mask", "overlay", "json")


@dataclass(frozen=True)
class BatchOptions:
    """Everything a batch needs besides the photos; picklable, so it travels to worker processes.

    `exports` are kinds of `app.core.exporters` (empty: figures only, nothing written);
    `model_path`/`device` let a process that was not handed a model load its own (once).
    """

    inference: InferenceOptions = field(default_factory=InferenceOptions)
    policy: ReviewPolicy = field(default_factory=ReviewPolicy)
    exports: tuple[str, ...] = DEFAULT_EXPORTS
    visible: tuple[int, ...] | None = None
    opacity: tuple[tuple[int, float], ...] | None = None
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_bytes: int = DEFAULT_MAX_BYTES  # bytes read from one photo file
    overwrite: bool = False
    resume: bool = True
    model_path: Path | None = None
    device: str = "auto"
    grade_scale: str | None = None  # the scale shown in reports (None: both)
    mm_per_px: float | None = None  # the photos' scale: areas in mm² (None: pixels and shares only)
    input_folders: tuple[Path, ...] = ()  # the folders given: the CSV's `file` is relative to them
    reviewed_masks: Path | None = None  # a folder of reviewed masks: their figures replace the model's

    def __post_init__(self) -> None:
        if self.mm_per_px is not None and not (math.isfinite(self.mm_per_px) and self.mm_per_px > 0):
            raise ValueError(f"mm_per_px must be a positive number of mm per pixel, got {self.mm_per_px}")
        object.__setattr__(self, "input_folders", tuple(Path(f) for f in self.input_folders))
        kinds = tuple(dict.fromkeys(self.exports))
        if kinds and exporters.JSON_KIND not in kinds:  # the record is what marks a photo complete
            kinds = (*kinds, exporters.JSON_KIND)
        object.__setattr__(self, "exports", kinds)

    def to_json(self) -> dict[str, Any]:
        """The options as the run record (`results.json`) gives them."""
        i, p = self.inference, self.policy
        return {
            "mode": i.mode.value,
            "tile_scale": i.tile_scale,
            "tile_overlap": i.tile_overlap,
            "review_margin": p.margin,
            "min_confidence": p.min_confidence,
            "range_thresholds": {"low": round(CALIBRATED.low, 4), "high": round(CALIBRATED.high, 4)},
            "mm_per_px": self.mm_per_px,
            "exports": list(self.exports),
            "max_pixels": self.max_pixels,
            "overwrite": self.overwrite,
            "resume": self.resume,
            "model_path": None if self.model_path is None else str(Path(self.model_path).absolute()),
            "device": self.device,
            "grade_scale": self.grade_scale,
        }


@dataclass(frozen=True)
class PlannedPhoto:
    """One input of a batch: where its outputs go and what is already there."""

    index: int  # position in the input order (0-based)
    path: Path
    stem: str
    targets: tuple[tuple[str, Path], ...]  # (export kind, path); empty when nothing is written
    done_record: Mapping[str, Any] | None = None  # outputs complete (same model and mode): skip
    blocked: str | None = None  # outputs of another model or mode are in the way
    replace: bool = False  # outputs left by an unfinished run of ours may be replaced
    source: str = ""  # the photo's identity in records (its resolved path)
    temp_tag: str = ""  # the token of the run holding the folder's lock: tags its temp files


@dataclass(frozen=True)
class Plan:
    out_dir: Path | None
    photos: tuple[PlannedPhoto, ...]
    model_sha256: str
    mode: str
    class_names: tuple[str, ...]
    overwrite: bool = False
    lock: OutputLock | None = field(default=None, compare=False, repr=False)
    input_folders: tuple[Path, ...] = ()  # the CSV's `file` cells are relative to them


@dataclass(frozen=True, eq=False)
class PhotoOutcome:
    """What `process_photo` returns. `result` (with the label map) only when asked to keep it."""

    index: int
    path: Path
    state: str  # DONE, SKIPPED or FAILED
    record: Mapping[str, Any] | None = None  # the JSON record (DONE and SKIPPED)
    failure: PhotoFailure | None = None  # FAILED only
    result: PhotoResult | None = None
    photo: np.ndarray | None = None  # the decoded photo, with `result` only


@dataclass(frozen=True)
class BatchSummary:
    total: int
    outcomes: tuple[PhotoOutcome, ...]
    cancelled: bool
    csv_path: Path | None
    seconds: float
    csv_error: str | None = None

    def _paths(self, state: str) -> tuple[Path, ...]:
        return tuple(o.path for o in self.outcomes if o.state == state)

    @property
    def done(self) -> tuple[Path, ...]:
        return self._paths(DONE)

    @property
    def skipped(self) -> tuple[Path, ...]:
        return self._paths(SKIPPED)

    @property
    def failures(self) -> tuple[PhotoFailure, ...]:
        return tuple(o.failure for o in self.outcomes if o.failure is not None)

    @property
    def ok(self) -> bool:
        return not self.failures and not self.cancelled


# plan --------------------------------------------------------------------------------------------
def plan_batch(
    paths: Sequence[Path], out_dir: Path | None, options: BatchOptions, model: SegmentationModel
) -> Plan:
    """Output names for every input and which photos are already complete (skipped under `resume`).
    Writing into a folder takes its lock (`OutputLockedError` when another run holds it) until
    `reduce_batch`."""
    paths = [Path(p) for p in paths]
    writes = out_dir is not None and bool(options.exports)
    lock = OutputLock.acquire(out_dir) if writes else None
    try:
        stems = output_stems(paths)
        inputs = ownership.inode_set(paths) if writes else set()
        planned = []
        for i, path in enumerate(paths):
            chosen = exporters.targets(out_dir, stems[path], options.exports) if writes else {}
            targets = tuple(chosen.items())
            item = PlannedPhoto(i, path, stems[path], targets)
            if targets:
                item = _replace(item, source=ownership.source_key(path), temp_tag=lock.token)
                item = _check_inputs(item, inputs) or _check_existing(item, model, options, lock)
            planned.append(item)
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    names = tuple(c.name for c in model.classes)
    mode = options.inference.mode.value
    return Plan(
        out_dir, tuple(planned), model.sha256, mode, names, options.overwrite, lock, options.input_folders
    )


def load_record(path: Path) -> dict[str, Any] | None:
    """A JSON record this program wrote for a batch, or None (missing, unreadable, or not ours)."""
    return ownership.load_record(path)


def _check_inputs(item: PlannedPhoto, inputs: set[tuple[int, int]]) -> PlannedPhoto | None:
    """Blocked when an output would replace one of the batch's photos (even with `overwrite`)."""
    why = ownership.replaces_input(item.targets, inputs)
    return None if why is None else _replace(item, blocked=why)


def _check_existing(
    item: PlannedPhoto,
    model: SegmentationModel,
    options: BatchOptions,
    lock: OutputLock | None,
    orphans: Mapping[str, Pending] | None = None,
) -> PlannedPhoto:
    """Where the photo's outputs stand: complete (skip), ours to replace, or in the way. `orphans`:
    files of this photo left by an attempt that died (default: what the lock inherited from a dead run)."""
    if options.overwrite:
        return item
    targets = dict(item.targets)
    json_path = targets[exporters.JSON_KIND]
    record, problem = ownership.read_record(json_path)
    mode = options.inference.mode.value
    if problem is not None:
        return _replace(item, blocked=f"{json_path.name} {problem}{ownership.KEPT}")
    if record is not None and record["source"] != item.source:
        why = f"{json_path.name} holds the results of another photo ({record['file']}){ownership.KEPT}"
        return _replace(item, blocked=why)
    if record is not None and (record["model_sha256"], record["mode"]) != (model.sha256, mode):
        why = (
            f"{json_path.name} holds results of another model or mode; "
            "ask to overwrite (--overwrite) to replace them"
        )
        return _replace(item, blocked=why)
    if not options.resume:
        return item  # nothing may be replaced: each file in the way fails the photo
    if orphans is None:
        orphans = lock.inherited_files(item.source) if lock is not None else {}
    foreign = ownership.not_ours(item.targets, record, orphans, (model.sha256, mode))
    if foreign is not None:
        return _replace(item, blocked=foreign)
    mask = review_source.find_mask(options.reviewed_masks, item.path, targets.get("mask"))
    same_figures = record is not None and review_source.same_mask(record, mask)  # else: redo it
    if same_figures and all(p.exists() for p in targets.values()):
        return _replace(item, done_record=record)
    return _replace(item, replace=True)


def replan(item: PlannedPhoto, options: BatchOptions, model: SegmentationModel) -> PlannedPhoto:
    """`item` planned again against its folder as it is now (a retried photo: its first attempt may have
    died after writing some outputs, or all of them)."""
    if item.done_record is not None or item.blocked or not item.targets or options.overwrite:
        return item
    out_dir = Path(item.targets[0][1]).parent
    # A dead attempt of this very run noted its files as pending in the folder's lock file.
    orphans = {n: p for p in outlock.read_pending(out_dir) if p.source == item.source for n in p.files}
    return _check_existing(_replace(item, replace=False), model, options, None, orphans)


def _replace(item: PlannedPhoto, **changes: Any) -> PlannedPhoto:
    return dataclasses.replace(item, **changes)


# process one photo --------------------------------------------------------------------------------
@functools.lru_cache(maxsize=2)
def _process_model(path: Path, device: str) -> SegmentationModel:
    return SegmentationModel.load(path, device)


def process_photo(
    item: PlannedPhoto,
    options: BatchOptions,
    model: SegmentationModel | None = None,
    keep_result: bool = False,
    *,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
) -> PhotoOutcome:
    """Analyse one photo and write its outputs; never raises for the photo's own failure. `progress` /
    `cancelled` are checked per network call (tiles); a cancel raises `Cancelled`, nothing is written."""
    if item.done_record is not None:
        return PhotoOutcome(item.index, item.path, SKIPPED, record=item.done_record)
    try:
        if model is None:
            if options.model_path is None:
                raise CorroscopeError("no model: pass one, or set BatchOptions.model_path")
            model = _process_model(Path(options.model_path), options.device)
        result, record, rgb = _analyse_and_write(item, options, model, progress, cancelled)
    except Cancelled:
        raise
    except Exception as exc:  # one photo's failure, whatever it is, must not end the batch
        failure = failure_from(item.path, exc, options.input_folders)
        log.info("%s: %s", item.path, failure.reason, exc_info=not isinstance(exc, CorroscopeError))
        return PhotoOutcome(item.index, item.path, FAILED, failure=failure)
    if not keep_result:
        return PhotoOutcome(item.index, item.path, DONE, record=record)
    return PhotoOutcome(item.index, item.path, DONE, record=record, result=result, photo=rgb)


def _analyse_and_write(
    item: PlannedPhoto,
    options: BatchOptions,
    model: SegmentationModel,
    progress: Progress | None,
    cancelled: CancelCheck | None,
) -> tuple[PhotoResult, dict[str, Any], np.ndarray]:
    targets = dict(item.targets)
    if item.blocked:
        raise OutputExistsError(item.blocked)
    replace = options.overwrite or item.replace
    if not replace:  # fail before the (slow) analysis when an output is in the way
        for target in targets.values():
            if target.exists():
                raise OutputExistsError(f"{target} already exists (ask to overwrite to replace it)")
    t0 = time.perf_counter()
    rgb = read_image(item.path, max_pixels=options.max_pixels, max_bytes=options.max_bytes)
    size = (int(rgb.shape[1]), int(rgb.shape[0]))  # a mask that cannot be used fails before the analysis
    own = targets.get("mask")
    mask = review_source.read_mask(options.reviewed_masks, item.path, size, model.classes, own)
    result = analyze_rgb(
        model,
        rgb,
        item.path,
        options.inference,
        options.policy,
        time.perf_counter() - t0,
        options.mm_per_px,
        progress=progress,
        cancelled=cancelled,
    )
    reviewed = review_source.apply_reviewed_mask(result, mask, options.policy)
    result = reviewed.result
    names = {k: p.name for k, p in targets.items()}  # the record names itself too (the CSV's json_file)
    record = result_to_dict(result, names if targets else None, options.input_folders)
    record.update(review_source.record_fields(reviewed))
    if targets:
        data = exporters.ExportInput(
            result,
            rgb,
            options.visible,
            dict(options.opacity) if options.opacity is not None else None,
            options.grade_scale,
            model,
            record,
        )
        record = _write_outputs(item, targets, data, replace)
    return result, record, rgb


def _write_outputs(
    item: PlannedPhoto, targets: dict[str, Path], data: exporters.ExportInput, replace: bool
) -> dict[str, Any]:
    """Every output, then the sealed record naming the photo and proving each file (written last)."""
    json_path = targets[exporters.JSON_KIND]
    source = item.source or ownership.source_key(item.path)
    record = dict(data.record or {})
    pending = Pending(source, record["model_sha256"], record["mode"], tuple(p.name for p in targets.values()))
    outlock.note_pending(json_path.parent, pending)
    others = {k: p for k, p in targets.items() if k != exporters.JSON_KIND}
    with files.temp_tag(item.temp_tag):
        _write_or_undo(others, data, replace)
        try:
            try:
                proofs = {p.name: ownership.file_proof(p) for p in others.values()}
            except OSError as exc:
                raise ExportError(f"Cannot read back what was written: {exc.strerror or exc}") from exc
            record = ownership.seal({**record, "source": source, "files": proofs})
            final = dataclasses.replace(data, record=record)
            record_target = {exporters.JSON_KIND: json_path}
            exporters.write_all(record_target, final, overwrite=replace, outputs_in_record=False)
        except BaseException:  # no record proves them ours: they must not stay in the way
            _remove(others.values())
            raise
    return record


def _remove(paths: Iterable[Path]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()


def _write_or_undo(targets: dict[str, Path], data: exporters.ExportInput, replace: bool) -> None:
    """Write each output; when one fails, remove those written before it: they are ours, and a photo
    without its record must not leave files that no record proves ours (a full disk, say)."""
    written: list[Path] = []
    try:
        for kind, path in targets.items():
            exporters.write_all({kind: path}, data, overwrite=replace, outputs_in_record=False)
            written.append(path)
    except BaseException:
        _remove(written)
        raise


# reduce ------------------------------------------------------------------------------------------
def reduce_batch(plan: Plan, outcomes: Iterable[PhotoOutcome]) -> tuple[Path | None, str | None]:
    """`results.csv` in the output folder: one row per input, in input order, merged with the rows of
    other photos an earlier run listed there; then the folder's lock is released. (path, error)."""
    try:
        if plan.out_dir is None:
            return None, None
        return _write_results(plan, outcomes)
    finally:
        if plan.lock is not None:
            plan.lock.release()


def _write_results(plan: Plan, outcomes: Iterable[PhotoOutcome]) -> tuple[Path | None, str | None]:
    by_index = {o.index: o for o in outcomes}
    rows = []
    for item in plan.photos:
        outcome = by_index.get(item.index)
        if outcome is not None and outcome.failure is not None:
            rows.append(failure_row(outcome.failure, plan.class_names))
            continue
        json_path = dict(item.targets).get(exporters.JSON_KIND)
        if outcome is not None and outcome.record is not None:
            record = outcome.record  # what was written (or checked, when skipped): not read again
        else:
            record = load_record(json_path) if json_path is not None else None
        if (
            record is not None
            and record["source"] == item.source
            and record["model_sha256"] == plan.model_sha256
            and record.get("mode") == plan.mode
        ):
            rows.append(results_table.record_row(record, item.path, plan.class_names))
    inputs = [p.path for p in plan.photos]
    return results_table.write(
        plan.out_dir / CSV_NAME,
        csv_columns(plan.class_names),
        rows,
        inputs,
        plan.overwrite,
        plan.input_folders,
    )


def run_batch(
    model: SegmentationModel,
    paths: Sequence[Path],
    out_dir: Path | str | None,
    options: BatchOptions | None = None,
    *,
    progress: Callable[[PhotoOutcome], None] | None = None,
    started: Callable[[int, int, Path], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    keep_results: bool = False,
    engine: PhotoMapper | None = None,
) -> BatchSummary:
    """Plan, process every photo with `engine` (default: one after another in this thread), reduce.

    `started(i, total, path)` before the batch waits for photo i, `progress(outcome)` after it, both in
    input order; once `cancelled()` is true no further photo starts."""
    options = options or BatchOptions()
    out = None if out_dir is None else Path(out_dir)
    if out is not None:
        prepare_out_dir(out)
    start = time.perf_counter()
    plan = plan_batch(paths, out, options, model)
    total = len(plan.photos)
    stop = cancelled or (lambda: False)
    asked_to_stop = False

    def should_stop() -> bool:
        nonlocal asked_to_stop
        asked_to_stop = asked_to_stop or stop()
        return asked_to_stop

    def on_start(item: PlannedPhoto) -> None:
        if started is not None:
            started(item.index + 1, total, item.path)

    outcomes: list[PhotoOutcome] = []
    interrupted = False
    try:
        mapper = engine.map if engine is not None else serial_map
        for outcome in mapper(plan.photos, options, model, keep_results, on_start, should_stop):
            outcomes.append(outcome)
            if progress is not None:
                progress(outcome)
    except Cancelled:  # stopped within a photo: nothing of it was written
        interrupted = True
    csv_path, csv_error = reduce_batch(plan, outcomes)
    if csv_path is not None:
        csv_error = write_run_record(csv_path, plan, options, model) or csv_error
    was_cancelled = interrupted or (asked_to_stop and len(outcomes) < total)
    return BatchSummary(
        total, tuple(outcomes), was_cancelled, csv_path, time.perf_counter() - start, csv_error
    )


class PhotoMapper(Protocol):
    """What `run_batch` needs of an engine (`app.core.engines`): outcomes of `process_photo` over the
    plan, in input order."""

    def map(
        self,
        items: Sequence[PlannedPhoto],
        options: BatchOptions,
        model: SegmentationModel | None,
        keep_results: bool,
        started: Callable[[PlannedPhoto], None],
        cancelled: Callable[[], bool],
    ) -> Iterable[PhotoOutcome]: ...


def serial_map(
    items: Iterable[PlannedPhoto],
    options: BatchOptions,
    model: SegmentationModel | None,
    keep_results: bool,
    started: Callable[[PlannedPhoto], None],
    cancelled: Callable[[], bool],
) -> Iterator[PhotoOutcome]:
    """One photo after another in this thread (the reference every engine must match); a cancel within
    a photo (fine mode, tile by tile) raises `Cancelled` out of it."""
    for item in items:
        if cancelled():
            return
        started(item)
        yield process_photo(item, options, model, keep_result=keep_results, cancelled=cancelled)


def write_run_record(
    csv_path: Path, plan: Plan, options: BatchOptions, model: SegmentationModel
) -> str | None:
    """`results.json` beside `results.csv`: the model's SHA-256 once, versions, options, counts; the
    error text if it cannot be written. Call it after `reduce_batch` wrote the CSV."""
    target = companion_path(csv_path)
    if any(p == target for item in plan.photos for _, p in item.targets):  # a photo named "results"
        why = f"{target.name} not written: a photo's own record has that name (rename that photo)"
        log.error("%s", why)
        return why
    try:
        with open(csv_path, encoding="utf-8-sig", newline="") as fh:
            columns, *rows = list(csv.reader(fh))
        facts = {"file": model.path.name, "sha256": model.sha256, "provider": model.device, "mode": plan.mode}
        record = run_record(csv_path, rows, columns, facts, options.to_json(), options.input_folders)
        write_run_json(companion_path(csv_path), record, overwrite=True)
    except (OSError, ValueError, ExportError) as exc:
        log.error("%s: %s", companion_path(csv_path), exc)
        return f"{companion_path(csv_path)}: {exc}"
    return None


def prepare_out_dir(out: Path) -> None:
    """Create the output folder. Temp files of a killed run are removed when the next run takes over
    its lock (`app.core.outlock`): only those whose names carry that run's token."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"Cannot create the output folder {out}: {exc.strerror or exc}") from exc
