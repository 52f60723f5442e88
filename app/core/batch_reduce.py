"""Stage 3 of the photo pipeline: outcomes -> `results.csv` (merged with earlier rows) and its run record
`results.json`, both from the rows in memory."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from app.core import exporters, results_table
from app.core.analysis import PhotoFailure, PhotoFigures
from app.core.batch_types import (
    BatchOptions,
    PhotoOutcome,
    Plan,
    load_record,
)
from app.core.errors import ExportError
from app.core.export import (
    CSV_NAME,
    companion_path,
    csv_columns,
    csv_row,
    failure_row,
    models_used,
    run_record,
    write_csv,
    write_run_json,
)
from app.core.files import refuse_existing, staged
from app.core.model_accuracy import UNKNOWN, run_record_figures
from app.core.record import PhotoRecord

log = logging.getLogger(__name__)


def reduce_batch(
    plan: Plan, outcomes: Iterable[PhotoOutcome], options: BatchOptions | None = None
) -> tuple[Path | None, str | None]:
    """`results.csv` in the output folder: one row per input, in input order, merged with the rows of
    other photos an earlier run listed there; with `options`, its run record `results.json` beside it,
    from the same rows. Then the folder's lock is released. (path of the CSV, error)."""
    try:
        if plan.out_dir is None:
            return None, None
        columns = csv_columns(plan.class_names)
        inputs = [p.path for p in plan.photos]
        outcomes = list(outcomes)
        try:
            with staged():  # a pair: the record failing (a full disk) leaves the old CSV too, never one alone
                csv_path, rows, error = results_table.write(
                    plan.out_dir / CSV_NAME,
                    columns,
                    _rows(plan, outcomes),
                    inputs,
                    plan.overwrite,
                    plan.input_folders,
                    keep=[o.path for o in outcomes if o.outputs_kept],
                    json_names=_records(plan),
                )
                if csv_path is not None and options is not None:
                    error = write_run_record(csv_path, rows, columns, plan, options, strict=True) or error
        except (OSError, ValueError, ExportError) as exc:
            log.info("%s", exc)  # returned: the caller reports it (once)
            return None, (
                f"{exc}; neither {CSV_NAME} nor {companion_path(plan.out_dir / CSV_NAME).name} was written "
                "(each photo's own files are complete: run again to write them)"
            )
        return csv_path, error
    finally:
        if plan.lock is not None:
            plan.lock.release()


def _records(plan: Plan) -> dict[str, Path]:
    """The name of each record this batch writes -> its photo."""
    return {t.name: i.path for i in plan.photos for k, t in i.targets if k == exporters.JSON_KIND}


def _rows(plan: Plan, outcomes: Iterable[PhotoOutcome]) -> list[list[str]]:
    by_index = {o.index: o for o in outcomes}
    rows = []
    for item in plan.photos:
        outcome = by_index.get(item.index)
        if outcome is not None and outcome.failure is not None:
            rows.append(failure_row(outcome.failure, plan.class_names, plan.input_folders))
            continue
        json_path = dict(item.targets).get(exporters.JSON_KIND)
        if outcome is not None and outcome.record is not None:
            record = outcome.record  # what was written (or checked, when skipped): not read again
        else:
            record = load_record(json_path) if json_path is not None else None
        if (
            record is not None
            and record.source == item.source
            and record.run == (plan.model_sha256, plan.mode)
        ):
            rows.append(results_table.record_row(record, item.path, plan.class_names))
        elif outcome is None:  # a stopped batch never reached it, and the folder holds nothing of it
            not_reached = PhotoFailure.not_reached(item.path)
            rows.append(failure_row(not_reached, plan.class_names, plan.input_folders))
    return rows


def write_run_record(
    csv_path: Path,
    rows: Sequence[Sequence[str]],
    columns: Sequence[str],
    plan: Plan,
    options: BatchOptions,
    strict: bool = False,
) -> str | None:
    """`results.json` beside `results.csv`: the model's SHA-256 once, versions, options, counts of the
    `rows` just written; the error text if it cannot be written (with `strict`, a failure to write
    raises instead). A file of that name that is not a run record of ours (a user's own, a link) is kept,
    unless the batch may overwrite."""
    target = companion_path(csv_path)
    if any(p == target for item in plan.photos for _, p in item.targets):  # a photo named "results"
        why = f"{target.name} not written: a photo's own record has that name (rename that photo)"
        log.info("%s", why)  # returned: the caller reports it (once)
        return why
    earlier, foreign = results_table.read_run_record(target)
    if foreign is not None and not plan.overwrite:
        log.info("%s", foreign)
        return foreign
    try:
        facts = plan.model_facts()
        given = [Path(f).absolute() for f in options.input_folders]
        folders = list(dict.fromkeys([*given, *results_table.input_folders_of(earlier)]))
        record = run_record(csv_path, rows, columns, facts, options.to_json(), folders)
        write_run_json(target, record, overwrite=True)
    except (OSError, ValueError, ExportError) as exc:
        if strict:
            raise
        log.info("%s: %s", target, exc)
        return f"{target}: {exc}"
    return None


def write_table(
    csv_path: Path,
    entries: Sequence[PhotoRecord | PhotoFigures | PhotoFailure],
    class_names: Sequence[str],
    *,
    overwrite: bool,
    input_folders: Sequence[Path] = (),
    model: Any = None,
) -> list[Path]:
    """A results table the caller holds (the window's batch table) as `results.csv` and its run record,
    with the same rows and record a batch writes; `OutputExistsError` for either file there without
    `overwrite` (asked before the CSV is written). `model` (the loaded SegmentationModel): its accuracy
    figures and range calibration go into the record when it made the rows, as in a batch's."""
    columns = csv_columns(class_names)
    rows = [
        failure_row(e, class_names, input_folders)
        if isinstance(e, PhotoFailure)
        else csv_row(e, class_names, input_folders)
        for e in entries
    ]
    companion = companion_path(csv_path)
    refuse_existing(csv_path, companion, overwrite=overwrite)
    run = _table_record(csv_path, entries, rows, columns, input_folders, model)
    with staged():  # a pair: a full disk at the record leaves the old CSV too, never one without the other
        return [
            write_csv(csv_path, rows, columns, overwrite=overwrite),
            write_run_json(companion, run, overwrite=overwrite),
        ]


def _table_record(
    csv_path: Path,
    entries: Sequence[PhotoRecord | PhotoFigures | PhotoFailure],
    rows: Sequence[Sequence[str]],
    columns: Sequence[str],
    input_folders: Sequence[Path],
    model: Any,
) -> dict[str, Any]:
    """The run record of `write_table`'s rows: the model that made them (its figures when it is `model`),
    or each model when several did."""
    first = next((e for e in entries if not isinstance(e, PhotoFailure)), None)
    facts = {} if first is None else _record(first).model_facts()
    used = models_used(entries)  # in order of first use: the first is `first`'s
    if facts and model is not None and facts["sha256"] == model.sha256:
        facts.update(run_record_figures(model))
    elif first is not None:  # another model made them: what its rows say of its accuracy
        facts["accuracy"] = used[0]["accuracy"] or UNKNOWN
    run = run_record(csv_path, rows, columns, facts, None, input_folders)
    if len(used) > 1:  # rows from several models (one loaded after another): none is "the" model
        run["model"], run["models"] = None, used
    return run


def _record(entry: PhotoRecord | PhotoFigures) -> PhotoRecord:
    return entry if isinstance(entry, PhotoRecord) else PhotoRecord.from_result(entry)
