"""Stage 1 of the photo pipeline: inputs -> output names, and what of each is already there (resume,
no-overwrite); planning takes the output folder's lock."""

from __future__ import annotations

import dataclasses
import errno
import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from app.core import exporters, files, outlock, ownership, review_source
from app.core.batch_types import (
    BatchOptions,
    Plan,
    PlannedPhoto,
)
from app.core.errors import ExportError
from app.core.export import output_stems, stem_forms
from app.core.model import SegmentationModel
from app.core.model_accuracy import run_record_figures
from app.core.outlock import OutputLock, Pending
from app.core.record import PhotoRecord
from app.core.report_header import ReportHeader


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
        if writes:
            stems = _earlier_stems(stems, out_dir)
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
    return Plan(
        out_dir,
        tuple(planned),
        model.sha256,
        options.inference.mode.value,
        tuple(c.name for c in model.classes),
        options.overwrite,
        lock,
        options.input_folders,
        model_file=model.path.name,
        provider=model.provider,
        model_figures=run_record_figures(model),
    )


def _earlier_stems(stems: dict[Path, str], out_dir: Path) -> dict[Path, str]:
    """Each photo keeps the stem of its earlier outputs in `out_dir` where a batch of other photos named
    them otherwise (`a/p.jpg` alone is `p`, beside `b/p.jpg` `p_<hash>`): a second set beside the first
    would leave two rows of one photo. Only a stem no other photo of this batch takes."""
    out = dict(stems)
    taken = {s.casefold() for s in out.values()}
    for path, stem in stems.items():
        # a stat first: records are read (and their seals checked, again by the plan) only where the
        # photo's other stem holds one, which is rare
        others = [o for o in stem_forms(path) if o != stem and o.casefold() not in taken]
        others = [o for o in others if (out_dir / f"{o}.json").exists()]
        if not others:
            continue
        source = ownership.source_key(path)
        if _record_source(out_dir / f"{stem}.json") == source:
            continue
        other = next((o for o in others if _record_source(out_dir / f"{o}.json") == source), None)
        if other is not None:
            taken.discard(stem.casefold())
            taken.add(other.casefold())
            out[path] = other
    return out


def _record_source(json_path: Path) -> str | None:
    record, _problem = ownership.read_record(json_path)
    return None if record is None else record.source


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
    if record is not None and record.source != item.source:  # intact results of ours: its row stays too
        why = f"{json_path.name} holds the results of another photo ({record['file']}){ownership.KEPT}"
        return _replace(item, blocked=why, blocked_ours=True)
    if record is not None and record.run != (model.sha256, mode):
        why = (
            f"{json_path.name} holds results of another model or mode; "
            "ask to overwrite (--overwrite) to replace them"
        )
        return _replace(item, blocked=why, blocked_ours=True)
    if not options.resume:
        return item  # nothing may be replaced: each file in the way fails the photo
    if orphans is None:
        orphans = lock.inherited_files(item.source) if lock is not None else {}
    foreign = ownership.not_ours(item.targets, record, orphans, (model.sha256, mode))
    if foreign is not None:
        return _replace(item, blocked=foreign)
    mask = review_source.find_mask(options.mask_source, item.path, targets.get("mask"))
    if mask is None and record is not None and record.reviewed_mask is not None:
        gone = not os.path.lexists(record.reviewed_mask)
        where = (
            "is no longer there"
            if gone
            else "this run does not read; give its folder again (--reviewed-masks)"
        )
        why = (
            f"{json_path.name} holds figures from the corrected mask {record.reviewed_mask}, which {where}; "
            "ask to overwrite (--overwrite) to replace them with the model's"
        )
        return _replace(item, blocked=why, blocked_ours=True)
    figure_options = options.figure_options()
    same_figures = record is not None and record.same_figures(
        mask, review_source.mask_sha256(mask), figure_options
    )
    changed = same_figures and _photo_changed(record, item.path)
    # The header is in the record, the CSV row and every PDF page: outputs made under another asset or
    # inspector are stale. A run given no header options asks for none, so it redoes outputs made under
    # one rather than keep an asset this run never named (docs/user-guide.md, "The results files").
    header = options.report_header or ReportHeader()
    new_header = record is not None and record.report_header != header
    if same_figures and not changed and not new_header and all(p.exists() for p in targets.values()):
        return _replace(item, done_record=record)
    return _replace(item, replace=True, photo_changed=changed, header_changed=new_header)


def _photo_changed(record: PhotoRecord, path: Path) -> bool:
    """Whether the photo file is no longer the one the record describes (re-shot under the same name)."""
    identity = record.photo
    return identity is not None and not identity.same_file(path)


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


def prepare_out_dir(out: Path) -> None:
    """Create the output folder. Temp files of a killed run are removed when the next run takes over
    its lock (`app.core.outlock`): only those whose names carry that run's token."""
    try:
        info: os.stat_result | None = os.stat(out)
    except OSError as exc:  # exists() raised some of these (a name too long) as a traceback
        info = None
        if exc.errno == errno.ELOOP:  # mkdir then said "File exists" of the link
            raise ExportError(
                f"Cannot create the output folder {out}: it leads into a loop of symbolic links (ELOOP)"
            ) from exc
        if exc.errno not in (errno.ENOENT, errno.ENOTDIR):
            raise ExportError(f"Cannot create the output folder {out}: {exc.strerror or exc}") from exc
        if os.path.islink(out):  # a dangling link: mkdir says "File exists"
            raise ExportError(
                f"Cannot create the output folder {out}: it is a symbolic link to {os.readlink(out)}, "
                "which does not exist"
            ) from exc
    if info is not None and not stat.S_ISDIR(info.st_mode):
        raise ExportError(f"The output folder {out} is a file, not a folder: name a folder (made if missing)")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        above = next((p for p in out.parents if os.path.lexists(p)), None)
        why = f"{above} is a file" if above is not None and not above.is_dir() else exc.strerror or exc
        raise ExportError(f"Cannot create the output folder {out}: {why}") from exc


def check_out_dir(out: Path) -> None:
    """`ExportError` for an output folder that cannot be one (a file, a place where none can be made),
    before any slow work; the folders made to find out are removed again."""
    # the deepest first; lexists, as exists() raises for a name too long (ENAMETOOLONG)
    missing = [p for p in (out, *out.parents) if not os.path.lexists(p)]
    try:
        prepare_out_dir(out)  # by trying: permissions, read-only or virtual file systems, root's rights
        files.probe_writable(out)  # an existing folder may still refuse files (read-only, permissions)
    except OSError as exc:
        raise ExportError(f"Cannot write into the output folder {out}: {exc.strerror or exc}") from exc
    finally:  # also when the folder could not be made part-way (a name too long below a new folder)
        for folder in missing:
            try:
                folder.rmdir()
            except OSError:
                if os.path.lexists(folder):  # something was put there meanwhile: it stays
                    break
