"""The review half of the Edit UI: mark reviewed, reviewed masks saved, found and opened, training
export, and the question before unsaved edits go (composed into `EditUi`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QWidget

from app.core import exporters
from app.core.reviewed import reviewed_mask_path
from app.core.training_export import ReviewedPhoto, export_training_data
from app.ui.edit_controller import EditController
from app.ui.export_dialog import confirm_overwrite
from app.ui.export_folders import export_folder
from app.ui.host import WindowHost
from app.ui.review_dialog import ReviewDialog, ask_discard_edits


class ReviewUi(QObject):
    """The review actions of a window's `EditUi`; `on_change` refreshes the edit UI's actions."""

    def __init__(self, window: WindowHost, edits: EditController, on_change: Callable[[], None]) -> None:
        super().__init__(edits)
        self.window = window
        self.edits = edits
        self._update = on_change

    @property
    def _parent(self) -> QWidget:
        return self.window  # type: ignore[return-value]  # the host is the QMainWindow

    # review and reviewed masks --------------------------------------------------------------------
    def ask_inspector(self, name: str = "") -> ReviewDialog | None:
        result = self.window.controller.result
        dialog = ReviewDialog(result.path.name if result else "this photo", name, self._parent)
        return dialog if dialog.exec() else None

    def mark_reviewed(self) -> None:
        """Sign the mask on screen: the inspector's name (asked once), the time and a note."""
        dialog = self.ask_inspector(self.window.settings.inspector_name)
        if dialog is None:
            return
        self.window.settings.inspector_name = dialog.name
        session = self.edits.mark_reviewed(dialog.name, dialog.note)
        if session is not None:
            self.window.show_status(f"Marked reviewed by {dialog.name}; File ▸ Save reviewed mask keeps it")
        self._update()

    def change_inspector(self) -> None:
        dialog = self.ask_inspector(self.window.settings.inspector_name)
        if dialog is not None:
            self.window.settings.inspector_name = dialog.name

    def default_mask_path(self) -> Path | None:
        result = self.window.controller.result
        if result is None:
            return None
        session = self.edits.session
        if session is not None and session.mask_path is not None:
            return session.mask_path
        folder = export_folder(self.window.settings, "photo", result.path.parent)
        return reviewed_mask_path(folder, result.path.stem)

    def save_reviewed_mask(self, path: Path | None = None) -> None:
        """Write the mask on screen as `<name>_mask.reviewed.png` (asking before replacing a file)."""
        if self.window.controller.result is None:
            return
        if path is None:
            start = self.default_mask_path()
            chosen, _ = QFileDialog.getSaveFileName(
                self._parent, "Save reviewed mask", str(start), "Reviewed masks (*.png)", "",
                QFileDialog.Option.DontConfirmOverwrite,
            )  # fmt: skip
            if not chosen:
                return
            path = Path(chosen)
        exists = path.exists()
        if exists and not confirm_overwrite(self._parent, [path]):
            return
        if self.edits.session is None:
            self.edits.begin()
        path.parent.mkdir(parents=True, exist_ok=True)
        job = self.edits.save_job(path, overwrite=exists)
        if job is not None:
            self.window.controller.run_export(job)
        self._update()

    def save_beside_exports(self, paths: list) -> None:
        """File ▸ Export of an edited or reviewed photo: its reviewed mask goes beside the mask PNG."""
        session, result = self.edits.session, self.window.controller.result
        if session is None or result is None or not (session.edited or session.review.is_reviewed):
            return
        for written in map(Path, paths):
            if written.name == exporters.targets(written.parent, result.path.stem, ["mask"])["mask"].name:
                target = reviewed_mask_path(written.parent, result.path.stem)
                if target != session.mask_path or session.unsaved:
                    self.save_reviewed_mask(target)
                return

    def open_reviewed_mask_dialog(self) -> None:
        start = self.default_mask_path()
        chosen, _ = QFileDialog.getOpenFileName(
            self._parent, "Open reviewed mask", str(start.parent if start else ""), "Masks (*.png)"
        )
        if chosen:
            self._replace_with_mask(Path(chosen))

    def _replace_with_mask(self, path: Path) -> None:
        session = self.edits.session
        if session is not None:
            if session.unsaved and not ask_discard_edits(self._parent, [session.path.name], "Open the mask"):
                return
            self.edits.discard(session.path)
        self.edits.open_reviewed_mask(path)

    def look_for_saved_mask(self, item) -> None:
        """A photo without edits in this run opens with its reviewed mask, beside it or in its results."""
        path = item.result.path
        if path in self.edits.sessions:
            return
        folders = [path.parent, export_folder(self.window.settings, "photo", path.parent)]
        for folder in folders:
            candidate = reviewed_mask_path(folder, path.stem)
            if candidate.is_file():
                self.edits.open_reviewed_mask(candidate)
                return

    def revert(self) -> None:
        session = self.edits.session
        if session is not None and ask_discard_edits(self._parent, [session.path.name], "Revert"):
            self.edits.discard(session.path)

    def export_training(self) -> None:
        """File ▸ Export reviewed photos as training data: every photo marked reviewed in this run."""
        items = [
            ReviewedPhoto(s.path, s.editor.labels.copy(), s.review)
            for s in self.edits.sessions.values()
            if s.review.is_reviewed
        ]
        result = self.window.controller.result
        if not items or result is None:
            self.window.show_message("No photo is marked reviewed yet (Edit ▸ Mark reviewed…)", "warning")
            return
        folder = QFileDialog.getExistingDirectory(
            self._parent,
            f"Export {len(items)} reviewed photo(s) as training data",
            self.window.settings.last_folder,
        )
        if folder:
            classes = result.classes
            job = lambda: [export_training_data(items, Path(folder), classes).manifest]  # noqa: E731
            self.window.controller.run_export(job)

    def confirm_close(self) -> bool:
        """True when nothing unsaved would be lost, or the user agrees to lose it (on quit)."""
        unsaved = self.edits.unsaved_sessions()
        return not unsaved or ask_discard_edits(self._parent, [s.path.name for s in unsaved], "Quit")
