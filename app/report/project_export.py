"""A whole project exported: `project.csv` (one row per stored photo), `trends.csv` (one row per
inspection of each asset) and a trend PDF per asset, as `corroscope project export` and the window's
File ▸ Export project… write them. Every file is checked before any is written."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import ExportError, OutputExistsError
from app.core.export import distinct_stems, escape_cell, write_csv
from app.core.files import overwrite_hint, staged
from app.core.project.records import Asset
from app.core.project.store import Project
from app.core.project.tables import RATE_COLUMN, project_table, trend_table
from app.core.project.trend import TREND_COLUMNS
from app.report.project_pdf import write_asset_pdf

PROJECT_CSV, TRENDS_CSV = "project.csv", "trends.csv"


@dataclass(frozen=True)
class ProjectExport:
    """What an export wrote: how many assets, and the files in the order written."""

    assets: int
    files: tuple[Path, ...]


def export_files(out: Path, tags: Sequence[str]) -> list[Path]:
    """The files an export into `out` writes: the two tables, then the trend PDF of each asset `tags`
    names, each its own (tags "A/1" and "A_1", or "Pipe" and "PIPE", get a short hash of the tag)."""
    pdfs = (out / f"{stem}_trend.pdf" for stem in distinct_stems(tags))
    return [out / PROJECT_CSV, out / TRENDS_CSV, *pdfs]


CLI_HOW = "pass --overwrite to replace {}"  # {}: "it" or "them"
ASKED_HOW = "export again to be asked whether to replace {}"  # the window asked before


def export_project(project: Project, out: Path, overwrite: bool = False, how: str = CLI_HOW) -> ProjectExport:
    """Write the project's tables and PDFs into `out` (made if missing); `OutputExistsError` naming every
    file already there, before anything is written, unless `overwrite` (`how` says how to replace them,
    in the words of the command or the window). The set lands whole or not at
    all: each file waits under a temporary name until all are written (a full disk part-way leaves
    nothing of this export behind, so nothing of it is in the way of a retry)."""
    assets = project.assets()
    files = export_files(out, [a.tag for a in assets])
    existing = [p for p in files if p.exists()]
    if existing and not overwrite:
        names = ", ".join(p.name for p in existing)
        them = "it" if len(existing) == 1 else "them"  # "holds trends.csv (... replace it)"
        raise OutputExistsError(f"{out} already holds {names} ({how.format(them)})")
    made = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file in the way, a read-only or vanished place
        raise ExportError(f"Cannot create the output folder {out}: {exc.strerror or exc}") from exc
    try:
        with overwrite_hint(how.format("it")), staged():
            _write_set(project, assets, files, overwrite)
    except BaseException:
        if made:  # the folder this export made, left empty: not left behind either
            with contextlib.suppress(OSError):
                out.rmdir()
        raise
    return ProjectExport(len(assets), tuple(files))


def _write_set(project: Project, assets: Sequence[Asset], files: Sequence[Path], overwrite: bool) -> None:
    columns, rows = project_table(project)
    write_csv(files[0], rows, columns, overwrite=overwrite)
    trend_rows = []
    for asset, pdf in zip(assets, files[2:], strict=True):
        trend = project.trend(asset.tag)
        trend_rows += [[escape_cell(asset.tag), *row] for row in trend_table(trend)]
        changes = project.changes(asset.tag)
        write_asset_pdf(pdf, asset, trend, project.location.display, overwrite=overwrite, changes=changes)
    write_csv(files[1], trend_rows, ["asset", *TREND_COLUMNS, RATE_COLUMN], overwrite=overwrite)
