"""File ▸ Export project…: the open project's tables and each asset's trend PDF written into a folder the
user picks, on a worker, as `corroscope project export` writes them; and the trend window's Save PDF… of
one asset. Files already there are replaced only on an explicit yes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QWidget

from app.core.export import safe_stem
from app.core.files import overwrite_hint
from app.core.project import Asset, Project, Trend
from app.core.text import counted
from app.report.project_export import (
    ASKED_HOW,
    PROJECT_CSV,
    TRENDS_CSV,
    ProjectExport,
    export_files,
    export_project,
)
from app.report.project_pdf import write_asset_pdf
from app.ui.export_dialog import confirm_overwrite
from app.ui.export_folders import typed_path
from app.ui.questions import ask_no, names_list
from app.ui.workers import Worker

if TYPE_CHECKING:
    from app.ui.host import ProjectsHost


def _export_job(target: str, out: Path, overwrite: bool) -> ProjectExport:
    with Project.open(target) as project:  # its own connection: this runs on a worker thread
        return export_project(project, out, overwrite=overwrite, how=ASKED_HOW)


def ask_folder(parent: QWidget, start: str) -> Path | None:
    folder = QFileDialog.getExistingDirectory(parent, "Export the project into a folder", start)
    return Path(folder) if folder else None


def ask_replace(parent: QWidget, folder: Path, names: list[str]) -> bool:
    """Replace only on an explicit yes (the default keeps the files)."""
    return ask_no(
        parent,
        "replace_export_question",
        "Replace files",
        f"{folder} already holds {counted(len(names), 'file')} this export writes:\n{names_list(names)}",
        "Replace them",
        "Keep them",
        "Keep them, then pick another folder (or make a new one in the folder dialog).",
    )


def start_export(
    projects: ProjectsHost,
    folder: Callable[[QWidget, str], Path | None] = ask_folder,
    replace: Callable[[QWidget, Path, list[str]], bool] = ask_replace,
) -> Worker | None:
    """Ask where, check what would be replaced (from the project as the panel read it), then export."""
    window = projects.window
    view = projects.view
    if projects.project is None or view is None:
        window.show_message("Open a project first (File ▸ Open project…).", "warning")
        return None
    loc = projects.project.location
    start = str(loc.folder) if loc.folder is not None else window.settings.last_folder
    out = folder(window, start)  # type: ignore[arg-type]  # the host is the QMainWindow
    if out is None:
        return None
    files = export_files(out, [a.tag for a in view.assets()])  # as the panel read the project
    there = [p.name for p in files if p.exists()]
    if there and not replace(window, out, there):  # type: ignore[arg-type]
        return None
    worker = Worker(_export_job, projects.target, out, bool(there))
    worker.signals.returned.connect(lambda done: _exported(projects, out, done))
    worker.signals.failed.connect(lambda msg: projects.errors.show(f"The project was not exported: {msg}"))
    window.busy_label.setText("Exporting the project…")
    worker.signals.finished.connect(lambda: window.busy_label.setText(""))
    return window.controller.pool.start(worker)


def _exported(projects: ProjectsHost, out: Path, done: ProjectExport) -> None:
    pdfs = counted(len(done.files) - 2, "trend PDF")
    projects.window.show_message(
        f"Exported {counted(done.assets, 'asset')} to {out}: {PROJECT_CSV}, {TRENDS_CSV} and {pdfs}.", "info"
    )


def ask_pdf_path(parent: QWidget, start: Path) -> Path | None:
    path, _ = QFileDialog.getSaveFileName(
        parent,
        "Save the trend as PDF",
        str(start),
        "PDF (*.pdf)",
        options=QFileDialog.Option.DontConfirmOverwrite,  # asked below, the same way as every export
    )
    if not path:
        return None
    return typed_path(path, ".pdf")


def _trend_pdf_job(target: str, path: Path, asset: Asset, trend: Trend, overwrite: bool) -> list[Path]:
    """The asset's trend PDF from the project as it is now (another inspector may have changed it since
    the window opened; a report and its change log must agree), else from the window's figures."""
    with Project.open(target) as project:  # its own connection: this runs on a worker thread
        now = project.asset(asset.tag)
        if now is not None:
            asset, trend = now, project.trend(now.tag)
        changes = project.changes(asset.tag)
        name = project.location.display
    with overwrite_hint("save again to be asked whether to replace it"):  # the window asked before
        return [write_asset_pdf(path, asset, trend, name, overwrite=overwrite, changes=changes)]


def save_trend_pdf(
    projects: ProjectsHost,
    parent: QWidget,
    asset: Asset,
    trend: Trend,
    ask_path: Callable[[QWidget, Path], Path | None] = ask_pdf_path,
    replace: Callable[[QWidget | None, list[Path]], bool] = confirm_overwrite,
    done: Callable[[Path], None] | None = None,
) -> Worker | None:
    """The trend window's Save PDF…: the asset's trend PDF (as Export project writes it, from the project
    as it is when written) where the user says, by default beside the project file."""
    window = projects.window
    if projects.project is None:
        window.show_message("The project was closed; open it again to save its trend.", "warning")
        return None
    loc = projects.project.location
    folder = loc.folder if loc.folder is not None else Path(window.settings.last_folder or Path.home())
    path = ask_path(parent, folder / f"{safe_stem(asset.tag)}_trend.pdf")
    if path is None:
        return None
    overwrite = path.exists()
    if overwrite and not replace(parent, [path]):
        return None
    then = [] if done is None else [lambda paths: done(Path(paths[0]))]
    return window.controller.run_export(
        _trend_pdf_job, projects.target, path, asset, trend, overwrite, then=then
    )
