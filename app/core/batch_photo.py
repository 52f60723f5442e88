"""Stage 2 of the photo pipeline: one planned photo -> its record, outputs written (the JSON record last)."""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import functools
import logging
import os
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from app.core import exporters, files, outlock, ownership, review_source
from app.core.analysis import PhotoResult, analyze_view, failure_from
from app.core.batch_types import (
    DONE,
    FAILED,
    SKIPPED,
    BatchOptions,
    PhotoOutcome,
    PlannedPhoto,
)
from app.core.errors import (
    Cancelled,
    CorroscopeError,
    EarlierOutputsKept,
    ExportError,
    ImageReadError,
    OutputExistsError,
    OutputsInTheWay,
)
from app.core.inference import CancelCheck, Progress
from app.core.model import SegmentationModel
from app.core.outlock import Pending
from app.core.photo_decode import start_decode
from app.core.record import PhotoIdentity, PhotoRecord

log = logging.getLogger(__name__)
_FileIds = dict[Path, tuple[int, int, int] | None]  # path -> (device, inode, mtime), None: no file


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
        result, record, rgb, removed = _analyse_and_write(
            item, options, model, keep_result, progress, cancelled
        )
    except Cancelled:
        raise
    except Exception as exc:  # one photo's failure, whatever it is, must not end the batch
        failure = failure_from(item.path, exc, options.input_folders)
        log.info("%s: %s", item.path, failure.reason, exc_info=not isinstance(exc, CorroscopeError))
        kept = isinstance(exc, (OutputsInTheWay, EarlierOutputsKept))
        return PhotoOutcome(
            item.index,
            item.path,
            FAILED,
            failure=failure,
            photo_changed=item.photo_changed,
            header_changed=item.header_changed,
            outputs_kept=kept,
            disk_full=_no_space(exc),
        )
    done = PhotoOutcome(
        item.index,
        item.path,
        DONE,
        record=record,
        photo_changed=item.photo_changed,
        header_changed=item.header_changed,
        removed=removed,
    )
    return dataclasses.replace(done, result=result, photo=rgb) if keep_result else done


def _no_space(exc: BaseException) -> bool:
    """Whether `exc`, or an error it came from, is a full disk (ENOSPC)."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, OSError) and cause.errno == errno.ENOSPC:
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


def _analyse_and_write(
    item: PlannedPhoto,
    options: BatchOptions,
    model: SegmentationModel,
    keep: bool,
    progress: Progress | None,
    cancelled: CancelCheck | None,
) -> tuple[PhotoResult, PhotoRecord, np.ndarray]:
    """The photo's result, its record (outputs written) and the photo; `keep`: the caller keeps the
    result and the photo (else no confidence map is made, and the photo may become the overlay)."""
    targets = dict(item.targets)
    if item.blocked:  # what an earlier run listed still holds only of intact files of ours
        raise (OutputsInTheWay if item.blocked_ours else OutputExistsError)(item.blocked)
    replace = options.overwrite or item.replace
    if not replace:  # fail before the (slow) analysis when an output is in the way
        for target in targets.values():
            if target.exists():
                raise OutputsInTheWay(
                    f"{target} already exists and was kept (move it away, or pass --overwrite to replace it)"
                )
    t0 = time.perf_counter()
    # The network runs on the reduced decode while the full one (for the overlay) goes on beside it.
    # With outputs, the SHA-256 of the very bytes analysed: the record's identity must be of those
    sha256 = bool(targets)
    with start_decode(
        item.path, options.max_pixels, options.max_bytes, model.input_size, sha256=sha256
    ) as photo:
        view = photo.network_view()
        # a mask that cannot be used fails before the analysis
        own = targets.get("mask")
        mask = review_source.read_mask(options.mask_source, item.path, photo.size, model.classes, own)
        result = analyze_view(
            model,
            view,
            photo.shape,
            item.path,
            options.inference,
            options.policy,
            time.perf_counter() - t0,
            options.mm_per_px,
            progress=progress,
            cancelled=cancelled,
            confidence=keep,  # no output of a batch reads the map; the window does
        )
        del view
        rgb = photo.full()
    identity = _identity(item.path, options.max_bytes) if targets else None  # a file read as a photo
    if identity is not None and identity.sha256 != photo.sha256:
        raise ImageReadError(
            f"{item.path}: the file changed while it was analysed (replaced or written to): nothing was "
            "recorded for it; run again to analyse it as it is now"
        )
    reviewed = review_source.apply_reviewed_mask(result, mask, options.policy)
    result = reviewed.result
    names = {k: p.name for k, p in targets.items()}  # the record names itself too (the CSV's json_file)
    record = PhotoRecord.from_result(result, names if targets else None, options.input_folders)
    # beside a mask's figures, the model's own (as the window's export of an edit keeps them)
    mask_file, model_figures = reviewed.mask_path, reviewed.model_figures
    record = record.with_review(reviewed.review, mask_file, model_figures, reviewed.mask_sha256)
    record = record.with_figure_options(options.figure_options()).with_header(options.report_header)
    if targets:
        data = exporters.ExportInput(
            result,
            rgb,
            options.overlay,
            options.grade_scale,
            model,
            record,
            options.report_header,
            # nobody reads the photo after its overlay: blend into it (no new 36 MB array at 12 MP)
            blend_in_place=not keep and exporters.overlay_only(targets),
        )
        record, removed = _write_outputs(item, targets, data, replace, identity, options.overwrite)
        return result, record, rgb, removed
    return result, record, rgb, ()


def _identity(path: Path, max_bytes: int) -> PhotoIdentity | None:
    try:
        return PhotoIdentity.of(path, max_bytes)
    except OSError:  # not a readable file: reading it fails the photo with the reason
        return None


def _write_outputs(
    item: PlannedPhoto,
    targets: dict[str, Path],
    data: exporters.ExportInput,
    replace: bool,
    identity: PhotoIdentity | None,
    remove_superseded: bool = False,
) -> tuple[PhotoRecord, tuple[Path, ...]]:
    """Every output, then the sealed record naming the photo and proving each file (written last). They
    land together (`files.staged`): a failure part-way (a full disk) leaves the photo's earlier outputs
    whole. With `remove_superseded` (the user asked to overwrite), earlier outputs of ours this run does
    not write again (a PDF, an overlay of another format) go, so nothing in the folder contradicts the new
    record; a resume never removes a file. (the record, those removed)."""
    json_path = targets[exporters.JSON_KIND]
    source = item.source or ownership.source_key(item.path)
    record = data.record if isinstance(data.record, PhotoRecord) else PhotoRecord(data.record or {})
    pending = Pending(source, record["model_sha256"], record["mode"], tuple(p.name for p in targets.values()))
    outlock.note_pending(json_path.parent, pending)
    others = {k: p for k, p in targets.items() if k != exporters.JSON_KIND}
    superseded = []
    if remove_superseded:
        superseded = ownership.superseded_outputs(json_path, source, targets.values())
    before = _file_ids(targets.values())
    try:
        with files.temp_tag(item.temp_tag), files.staged():
            for kind, path in others.items():
                exporters.write_all({kind: path}, data, overwrite=replace, outputs_in_record=False)
            try:
                proofs = {p.name: ownership.file_proof(files.staged_file(p)) for p in others.values()}
            except OSError as exc:
                raise ExportError(f"Cannot read back what was written: {exc.strerror or exc}") from exc
            record = record.for_batch(source, proofs, identity).seal()
            final = dataclasses.replace(data, record=record)
            record_target = {exporters.JSON_KIND: json_path}
            exporters.write_all(record_target, final, overwrite=replace, outputs_in_record=False)
            if item.temp_tag and not outlock.held_by(json_path.parent, item.temp_tag):
                raise ExportError(  # the staged set goes: nothing lands
                    f"the run that held {json_path.parent} has ended (stopped, or its scheduler lost): "
                    "nothing was written for this photo"
                )
    except ExportError as exc:
        if isinstance(exc, OutputExistsError) or not _earlier_set_stands(json_path, source, before):
            raise
        raise EarlierOutputsKept(f"{exc}; its earlier results stand as they were") from exc
    return record, _remove(superseded)


def _file_ids(paths: Iterable[Path]) -> _FileIds:
    """Each path's (device, inode, mtime), None where there is no file: a file replaced shows."""
    ids: _FileIds = {}
    for path in paths:
        try:
            st = os.lstat(path)
            ids[path] = (st.st_dev, st.st_ino, st.st_mtime_ns)
        except OSError:
            ids[path] = None
    return ids


def _earlier_set_stands(json_path: Path, source: str, before: _FileIds) -> bool:
    """Whether the photo's earlier outputs are whole after a failed replacement: its record of ours is
    there, and no file of the set was replaced or removed (none landed)."""
    record = ownership.load_record(json_path)
    return record is not None and record.source == source and _file_ids(before) == before


def _remove(paths: Iterable[Path]) -> tuple[Path, ...]:
    """Remove each file; those removed."""
    removed = []
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()
            removed.append(path)
    return tuple(removed)
