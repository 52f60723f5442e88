"""The window's project: open/new, the panel's dock, and the jobs behind its buttons (add an inspection,
re-run a photo, show a stored photo) on worker threads; trend and compare dialogs. Nothing here queries
the project on the UI thread: the panel's `ProjectView` (read on a worker) answers what the window asks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path, PurePath

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDockWidget, QFileDialog, QWidget

from app.core.project import SUFFIX, AddSummary, Project, is_url
from app.core.project.photos import PhotoLookup
from app.core.project.records import StoredPhoto, StoredResult
from app.core.saved_corrections import CorrectionSearch
from app.core.text import counted, safe_path
from app.ui.add_inspection_dialog import AddInspectionDialog, InspectionRequest, photos_start_folder
from app.ui.add_inspection_run import AddRun
from app.ui.export_folders import typed_path
from app.ui.history_dialogs import show_change_log, show_photo_history
from app.ui.host import WindowHost
from app.ui.project_edits import ProjectEdits
from app.ui.project_errors import OTHER, READ, ProjectErrors
from app.ui.project_export_job import start_export
from app.ui.project_menu import ProjectMenuSlots
from app.ui.project_panel_widget import ProjectPanelWidget
from app.ui.project_questions import ask_rerun_reviewed, ask_server_url, changed_text, same_run
from app.ui.project_reviews import ProjectReviews
from app.ui.project_view import ProjectView
from app.ui.project_windows import ProjectWindows, free_on_close
from app.ui.project_worker_jobs import relocate_job, rerun_job
from app.ui.screen_fit import scrolled
from app.ui.workers import Worker, alive

PROJECT_FILTER = f"Corroscope projects (*{SUFFIX})"


class ProjectUi(QObject):
    """Owns the open project of a window; the window only forwards its two File menu actions here."""

    project_changed = Signal(object)  # the Project, or None
    inspection_added = Signal(object)  # AddSummary
    result_added = Signal(int)  # photo id
    photos_relocated = Signal(int)  # how many were found
    dialog_opened = Signal(object)  # a trend or compare window, once the project was read for it

    def __init__(self, window: WindowHost) -> None:
        super().__init__(window)  # type: ignore[arg-type]  # the host is the QMainWindow
        self.window = window
        self.project: Project | None = None
        self.panel = ProjectPanelWidget()
        self.dock = QDockWidget("Project", window)
        self.dock.setObjectName("dock_project")
        self.dock.setWidget(scrolled(self.panel))  # a small screen scrolls it, not the window
        window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.dock)
        self.dock.hide()  # until a project is opened: the photo window stays as it was
        self.dialogs: list[QWidget] = []  # open trend / compare windows (kept alive)
        self._added_from = ""  # the folder photos were last added from (Add inspection starts there)
        self._opening: Worker | None = None  # the open under way whose project will be shown
        self.panel.add_inspection_requested.connect(self.add_inspection_dialog)
        self.panel.trend_requested.connect(self.show_trend)
        self.panel.compare_requested.connect(self.show_compare)
        self.panel.photo_activated.connect(self.show_stored_photo)
        window.controller.photo_opened.connect(lambda item: self.panel.follow_photo(item.path))
        self.panel.rerun_requested.connect(self.rerun)
        self.panel.history_requested.connect(lambda photo_id: show_photo_history(self, photo_id))
        self.panel.change_log_requested.connect(lambda tag: show_change_log(self, tag))
        self.panel.relocate_requested.connect(self.relocate_dialog)
        # a read's error goes once the project is read again
        self.errors = ProjectErrors(window.banner, window.show_message, window.statusBar)
        self.panel.failed.connect(lambda msg: self.errors.show(msg, READ))
        self.panel.loaded.connect(lambda: self.errors.clear(READ))
        self.panel.stop_waiting_requested.connect(self.stop_waiting)
        self.edits = ProjectEdits(self)  # asset details, inspection corrections, removals (project_edits.py)
        self.reviews = ProjectReviews(self)  # signed masks stored as reviewed results (project_reviews.py)
        self.windows = ProjectWindows(self)  # trend and compare: refreshed, then freed (project_windows.py)
        self.menu = ProjectMenuSlots(self.panel)  # the window's Project menu presses the panel's buttons
        self.panel.enabled_changed.connect(self.sync_actions)

    def sync_actions(self) -> None:
        """The Project menu's items enabled as the panel's buttons are (once the window made them)."""
        self.menu.sync(getattr(self.window, "actions", {}))

    @property
    def view(self) -> ProjectView | None:
        """The project as the panel last read it (None until it arrives)."""
        return self.panel.view

    @property
    def target(self) -> str:
        assert self.project is not None
        loc = self.project.location
        return str(loc.file) if loc.file is not None else loc.url.render_as_string(hide_password=False)

    def job_failed(self, message: str) -> None:
        """A worker's failure on the banner: one that could not reach this project goes with the next
        successful read (`ProjectErrors.job_failed`)."""
        self.errors.job_failed(message, None if self.project is None else self.project.location.display)

    def set_project(self, project: Project | None) -> None:
        if self.project is not None:
            self.project.abort()  # a read that waits on its server ends now, not when the server answers
        self.project = project
        self.panel.set_project(project)
        self.dock.show()
        self.project_changed.emit(project)

    def stop_waiting(self, seconds: int) -> None:
        """The user gave up on a server that holds a read: close the project (its connections end, so
        no thread stays held) and say how to come back; nothing was being written."""
        if self.project is None:
            return
        where = self.project.location.display
        self.set_project(None)
        self.window.show_message(
            f"Stopped waiting for {where}: it had not answered for {seconds} s or more, so the project "
            "is closed. Open it again when the server answers (File ▸ Open project on a server…).",
            "warning",
        )

    def shutdown(self) -> None:
        """The window closes: drop the reads under way and end their connections, so none holds the
        window's threads (which Qt waits for) while a stalled server says nothing."""
        self.panel.reads.drop_all()
        if self.project is not None:
            self.project.abort()

    def open(self, target: str | Path, create: bool = False) -> Worker:
        """Open (or create) the project on a worker: a file on a share that hangs, a schema upgrade of a
        large project or a server that does not answer (the connect timeout, 10 s) never freezes the
        window, which says what it waits for. Of several opens under way, the last one asked wins."""
        job = Project.create if create else Project.open
        worker = Worker(job, target)
        self._opening = worker
        worker.signals.returned.connect(lambda project: self._opened_by(worker, project))
        worker.signals.failed.connect(lambda msg: self._open_failed(worker, msg))
        server = is_url(target)
        self.window.busy_label.setText(
            "Connecting to the project's server…" if server else "Opening the project…"
        )
        return self.window.controller.pool.start(worker)

    def _opened_by(self, worker: Worker, project: Project) -> None:
        if worker is not self._opening:  # another open was asked for meanwhile
            project.close()
            return
        self._opening = None
        self.window.busy_label.setText("")
        self._on_opened(project)

    def _open_failed(self, worker: Worker, message: str) -> None:
        if worker is self._opening:
            self._opening = None
            self.window.busy_label.setText("")
            self.errors.show(message, READ)

    def new_project_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self.window, "New project", self.window.settings.last_folder, PROJECT_FILTER
        )
        if path:  # the file dialog asked before replacing; a project is never replaced: create refuses
            self.open(typed_path(path, SUFFIX), create=True)

    def open_project_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Open project", self.window.settings.last_folder, PROJECT_FILTER
        )
        if path:
            self.open(path)

    def close_project(self) -> None:
        """File ▸ Close project: the panel goes; reviews being stored finish on their own connections."""
        if self.project is None:
            return
        where = self.project.location.display
        self.set_project(None)
        self.dock.hide()
        self.window.show_status(f"Closed the project {where}")

    def export_project_dialog(self) -> Worker | None:
        return start_export(self)

    def open_project_server_dialog(self) -> Worker | None:
        last = self.window.settings.last_server_url
        url = ask_server_url(self.window, last)  # type: ignore[arg-type]  # the host is the QMainWindow
        return self.open(url) if url else None

    def _on_opened(self, project: Project) -> None:
        if project.location.file is None:
            self.window.settings.last_server_url = project.location.reopen_url
        self.errors.clear(READ, OTHER)  # the last project's (or the failed open's) error is not this one's
        self.set_project(project)
        self.window.statusBar().showMessage(f"Project {project.location.display}", 8000)

    def add_inspection_dialog(self) -> AddInspectionDialog | None:
        if self.project is None:
            return None
        settings = self.window.settings
        tags = [a.tag for a in self.view.assets()] if self.view is not None else []
        batch = [row.path for row in self.window.batch_model.rows if not row.failed]
        start = photos_start_folder(self._added_from, self.project.location.folder, settings.last_folder)
        dialog = AddInspectionDialog(
            tags,
            start,
            inspector=settings.inspection_inspector,
            batch_photos=batch,
            current_tag=self.panel.current_asset(),
        )
        dialog.accepted.connect(lambda: self._remember_inspector(dialog.request()))
        dialog.accepted.connect(lambda: setattr(self, "_added_from", dialog.folder))
        dialog.accepted.connect(lambda: self.add_inspection(dialog.request()))
        dialog.setModal(True)
        dialog.show()
        self.dialogs.append(dialog)
        return dialog

    def _remember_inspector(self, request: InspectionRequest) -> None:
        if request.inspector:
            self.window.settings.inspection_inspector = request.inspector

    def add_inspection(self, request: InspectionRequest) -> Worker | None:
        model = self.window.controller.model
        if self.project is None or model is None:
            self.window.show_message("Load a model first (Model ▸ Load model…)", "error")
            return None
        corrections = CorrectionSearch()
        run = AddRun(self.window, self.target, model, request, self.window.controller.options, corrections)
        run.worker.signals.returned.connect(lambda summary: self._on_added(summary, request))
        run.worker.signals.failed.connect(self.job_failed)
        self.window.busy_label.setText(
            f"Analysing {counted(len(request.paths), 'photo')} of {request.asset_tag}…"
        )
        run.worker.signals.finished.connect(lambda: self.window.busy_label.setText(""))
        return run.start(self.window.controller.pool)

    def _on_added(self, summary: AddSummary, request: InspectionRequest) -> None:
        shown = self.window.controller  # the photo on screen, if just stored, is picked in the tree then
        self.panel.refresh(then=lambda _view: self.panel.follow_photo(shown.current_path))
        if summary.cancelled:
            self.window.show_message("Adding the inspection was cancelled; nothing was stored", "info")
        else:
            problems = summary.failures + summary.review_failures
            failures = "".join(f"\n{f.path.name}: {f.reason}" for f in problems)
            said = summary.headline(request.asset_tag, request.date, request.inspector)  # as the CLI says it
            self.window.show_message(said + failures, "error" if problems else "info")
        self.inspection_added.emit(summary)

    def show_stored_photo(self, photo_id: int) -> Worker | None:
        """Open the stored photo the way any photo opens (viewer, overlay, figures, cursor readout); the
        figures stored in the project stay in the panel beside it. Where the photo is now is looked up
        on a worker (its folder may be a share); a photo picked meanwhile supersedes it."""
        view = self.view
        photo = None if view is None else view.photo(photo_id)
        if view is None or photo is None:
            return None
        return self.panel.reads.run(
            "photo",
            view.find_photo,
            photo,
            done=lambda lookup: self._open_stored(lookup, photo),
            failed=lambda msg: self.window.show_message(msg, "error"),
        )

    def _open_stored(self, lookup: PhotoLookup, photo: StoredPhoto) -> None:
        path = lookup.path
        if path is None:  # not the last photo shown either: its figures beside this one's would mislead
            name = safe_path(PurePath(photo.path).name)
            self.window.controller.clear_photo()
            self.window.viewer.clear()
            state = "changed" if lookup.changed else "not found"
            self.window.setWindowTitle(f"{name} ({state}) – Corroscope")
            self.window.update_enabled()
            self.window.show_message(
                changed_text(lookup.changed[0])
                if lookup.changed
                else f"{name} is not at {safe_path(photo.path)} any more (moved "
                "or renamed?). Find moved photos… looks for it by its content in a folder you pick.",
                "error",
            )
            return
        current = self.window.controller.current
        if current is None or current.path != path:
            self.window.open_photo(path, remember=False)

    def rerun(
        self, photo_id: int, ask: Callable[[QWidget, str, StoredResult], bool] | None = None
    ) -> Worker | None:
        """Analyse a stored photo again with the loaded model; the new result is stored beside the old.
        A photo whose figures an inspector signed is re-run only on an explicit yes (`ask`)."""
        model = self.window.controller.model
        if self.project is None:
            return None
        if model is None:
            self.window.show_message("Load a model first (Model ▸ Load model…)", "error")
            return None
        photo = None if self.view is None else self.view.photo(photo_id)
        name = Path(photo.path).name if photo is not None else f"photo {photo_id}"
        latest = None if self.view is None else self.view.latest_result(photo_id)
        if photo is not None and self.view is not None and photo_id in self.view.missing:
            self.window.show_message(  # before "the same figures": the file there now is another photo
                f"{safe_path(name)} was not found, or its file changed (another size), when the project was "
                "read; a re-run is refused. Find moved photos… looks for it by its content.",
                "error",
            )
            return None
        if latest is not None and same_run(latest, model, self.window.controller.options):
            self.window.show_message(
                f"The latest result of {name} already comes from this model ({model.path.name}, "
                f"{latest.mode} mode); a re-run would store the same figures again. Load another model, "
                "or switch Model ▸ Fine detail, to re-run it.",
                "info",
            )
            return None
        if (
            latest is not None
            and latest.is_reviewed
            and not (ask or ask_rerun_reviewed)(self.window, name, latest)
        ):
            return None
        by = self.window.settings.changes_by  # logged if a signed result is overturned
        worker = Worker(rerun_job, self.target, model, photo_id, self.window.controller.options, by)
        worker.signals.returned.connect(lambda count: self._on_rerun(photo_id, name, model.path.name, count))
        worker.signals.failed.connect(lambda msg: self.job_failed(f"Re-run of {name} failed: {msg}"))
        self.window.busy_label.setText(f"Re-running the model on {name}…")
        self.window.show_status(f"Re-running the model on {name}…")
        worker.signals.finished.connect(lambda: self.window.busy_label.setText(""))
        return self.window.controller.pool.start(worker)

    def _on_rerun(self, photo_id: int, name: str, model_name: str, count: int) -> None:
        self.panel.refresh(then=lambda _view: self.panel.select_photo(photo_id))
        self.window.show_message(
            f"Stored a new result for {name} (model {model_name}); the project keeps all {count} results "
            "of this photo, the panel shows the latest.",
            "info",
        )
        self.result_added.emit(photo_id)

    def relocate_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Folder the photos were moved to")
        if folder:
            self.relocate(Path(folder))

    def relocate(self, folder: Path) -> Worker | None:
        """Find missing photos in `folder` by content, on a worker (hashing a big folder takes time)."""
        if self.project is None:
            return None
        worker = Worker(relocate_job, self.target, folder)
        worker.signals.returned.connect(lambda found: self._on_relocated(found, folder))
        worker.signals.failed.connect(self.job_failed)
        return self.window.controller.pool.start(worker)

    def _on_relocated(self, found: int, folder: Path) -> None:
        self.panel.refresh(then=(lambda _view: self._open_picked_if_none()) if found else None)
        said = f"{counted(found, 'moved photo')} found again in {safe_path(folder)}"
        self.window.show_message(said, "info")
        self.photos_relocated.emit(found)

    def _open_picked_if_none(self) -> None:
        """The photo picked in the tree was not found when picked: now that photos were found, open it."""
        photo_id = self.panel.current_photo()
        if photo_id is not None and self.window.controller.current is None:
            self.show_stored_photo(photo_id)

    def show_trend(self, tag: str) -> Worker | None:
        """Read the project again on a worker, then show the asset's trend in its own window
        (`dialog_opened`; pyqtgraph loads then, not at start-up)."""
        return None if self.project is None else self.panel.refresh(then=lambda view: self._trend(view, tag))

    def _trend(self, view: ProjectView, tag: str) -> None:
        dialog = self.windows.trend(view, tag)
        if dialog is not None:
            self.dialog_opened.emit(self.keep(dialog))

    def show_compare(self, tag: str) -> Worker | None:
        """Read the project again on a worker, then compare two inspections of the asset
        (`dialog_opened`)."""
        if self.project is None:
            return None
        picked = (self.panel.current_inspection(), self.panel.current_photo())  # as asked, not as read
        return self.panel.refresh(then=lambda view: self._compare(view, tag, *picked))

    def _compare(self, view: ProjectView, tag: str, inspection_id: int | None, photo_id: int | None) -> None:
        self.dialog_opened.emit(self.keep(self.windows.compare(view, tag, inspection_id, photo_id)))

    def keep(self, dialog):
        """Show a trend, compare or history window, keep it while it is open and free it once closed."""
        self.dialogs = [d for d in self.dialogs if alive(d) and d.isVisible()] + [dialog]
        free_on_close(dialog)
        dialog.destroyed.connect(lambda: self._forget(dialog))
        dialog.show()
        return dialog

    def _forget(self, dialog: QWidget) -> None:
        self.dialogs = [d for d in self.dialogs if d is not dialog]
