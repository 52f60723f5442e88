"""Stage 3 of the photo pipeline: outcomes -> `results.csv` (merged with earlier rows) and `results.json`."""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from app.core import exporters, results_table
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
    failure_row,
    run_record,
    write_run_json,
)
from app.core.model import SegmentationModel

log = logging.getLogger(__name__)


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


def model_figures(model: SegmentationModel) -> dict[str, Any]:
    """What the run record says of the model's own accuracy: the line, its figures, the share range's
    calibration measured on held-out folds (or why photos have no range)."""
    cal = model.range_calibration
    return {
        "accuracy": model.accuracy_line,
        "accuracy_figures": None if model.accuracy is None else model.accuracy.to_json(),
        "share_range": None if cal is None else {"label": cal.label, "held_out": cal.held_out},
        "share_range_note": model.range_note,
    }


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
        facts = {
            "file": model.path.name,
            "sha256": model.sha256,
            "provider": model.device,
            "mode": plan.mode,
            **model_figures(model),
        }
        record = run_record(csv_path, rows, columns, facts, options.to_json(), options.input_folders)
        write_run_json(companion_path(csv_path), record, overwrite=True)
    except (OSError, ValueError, ExportError) as exc:
        log.error("%s: %s", companion_path(csv_path), exc)
        return f"{companion_path(csv_path)}: {exc}"
    return None
