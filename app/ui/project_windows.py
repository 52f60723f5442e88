"""The open project's trend and compare windows: each made from a fresh read of the project, shown again
from every later read (an open window kept the figures of the read it was made from, while its Save
PDF… wrote newer ones), and freed when closed (each closed Compare kept its photos, ~100 MB for a 12 MP
one, because the window that is their parent lives on)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QWidget

from app.core.errors import CorroscopeError
from app.core.text import safe_repr
from app.ui.compare_dialog import CompareDialog
from app.ui.project_export_job import save_trend_pdf
from app.ui.project_view import ProjectView
from app.ui.workers import alive

if TYPE_CHECKING:
    from app.ui.host import ProjectsHost
    from app.ui.trend_view_widget import TrendDialog


class ProjectWindows:
    """Makes, refreshes and frees the trend and compare windows of `projects` (kept in its `dialogs`)."""

    def __init__(self, projects: ProjectsHost) -> None:
        self.projects = projects
        projects.panel.loaded.connect(self.refresh)  # every read: Reload, an add, a re-run, an edit…

    def trend(self, view: ProjectView, tag: str) -> TrendDialog | None:
        from app.ui.trend_view_widget import TrendDialog  # pyqtgraph loads now, not at start-up

        try:
            trend = view.trend(tag)
        except CorroscopeError as exc:
            self.projects.window.show_message(str(exc), "error")
            return None
        dialog = TrendDialog(trend, self.projects.window, view.asset(tag))  # type: ignore[arg-type]
        dialog.save_requested.connect(lambda: self._save(dialog))
        return dialog

    def _save(self, dialog: TrendDialog) -> None:
        """Save PDF…: the PDF is written from the project as it is then (its table and change log must
        agree); the project is then read again, so the window shows what was written, and says so."""
        if dialog.asset is None or dialog.view.trend is None:
            return
        projects = self.projects

        def saved(path: Path) -> None:
            if alive(dialog):  # the window may be closed (and freed) by now
                projects.panel.refresh(then=lambda view: self._written(dialog, view, path))

        save_trend_pdf(projects, dialog, dialog.asset, dialog.view.trend, done=saved)

    def _written(self, dialog: TrendDialog, view: ProjectView, path: Path) -> None:
        if alive(dialog):
            self.show(dialog, view)
            dialog.show_saved(path)

    def compare(
        self, view: ProjectView, tag: str, inspection_id: int | None = None, photo_id: int | None = None
    ) -> CompareDialog:
        """The asset's inspections compared; the inspection or photo picked in the tree (ids as read
        when asked) against the inspection before it."""
        window = self.projects.window
        model = window.controller.model  # draws the overlays the project keeps no mask of
        style = window.overlay_state.style  # the classes drawn as in the window
        photo = None if photo_id is None else view.photo(photo_id)
        if photo is not None:
            inspection_id = photo.inspection_id
        return CompareDialog(view, tag, window, model, style, inspection_id, photo_id)  # type: ignore[arg-type]

    def refresh(self) -> None:
        """Show the project as the panel read it last in every open trend and compare window."""
        view = self.projects.view
        if view is None:
            return
        for dialog in self.projects.dialogs:
            if alive(dialog) and dialog.isVisible():
                self.show(dialog, view)

    @staticmethod
    def show(dialog: QWidget, view: ProjectView) -> None:
        from app.ui.trend_view_widget import TrendDialog

        if isinstance(dialog, CompareDialog):
            dialog.show_view(view)
        elif isinstance(dialog, TrendDialog):
            tag = dialog.view.trend.asset_tag if dialog.view.trend is not None else ""
            if view.asset(tag) is None:
                dialog.show_gone(f"the asset {safe_repr(tag)} is no longer in the project")
            else:
                dialog.show_trend(view.trend(tag), view.asset(tag))


def free_on_close(dialog: QWidget) -> None:
    """Delete a kept window once it is closed (Close, Esc, the title bar): its parent, the main window,
    would keep it, hidden, with all it holds. A Compare lets its photo jobs end first (`release`)."""
    release = getattr(dialog, "release", None)
    finished = getattr(dialog, "finished", None)
    if finished is not None:
        finished.connect(lambda _result: release() if release is not None else dialog.deleteLater())
