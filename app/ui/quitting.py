"""What closing the main window asks and waits for: unsaved edits, a running batch or adaptation, and
reviews still being stored in the project (the window waits for those in a dialog and keeps answering)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QDialog

from app.ui import questions
from app.ui.host import WindowHost

if TYPE_CHECKING:
    from app.ui.edit_menu import EditUi
    from app.ui.model_menu import ModelMenu
    from app.ui.project_jobs import ProjectUi


class QuittingHost(WindowHost, Protocol):
    """The main window as its close sees it."""

    editing: EditUi
    projects: ProjectUi
    model_menu: ModelMenu

    def close(self) -> bool: ...


class Quitting:
    """The window's close asks `ready()`; a wait for reviews closes the window again when they are done."""

    def __init__(self, window: QuittingHost) -> None:
        self.window = window
        self._confirmed = False  # the quit's questions were answered; a wait for reviews may follow
        self.wait: QDialog | None = None
        self._waiting_saves = False

    def ready(self) -> bool:
        """True when the window may close now; otherwise it asked, or waits, or the user said no."""
        review = self.window.editing.review
        if review.saving:  # a save that fails must leave its edits on screen, not vanish with the window
            if not self._waiting_saves:
                self._waiting_saves = True
                review.when_saved(self._saves_ended)
            self.window.show_status("Writing the corrected mask first; the window closes once it is saved.")
            return False
        if not self._confirmed:
            if not self._confirm():
                return False
            self._confirmed = True
        reviews = self.window.projects.reviews
        if not reviews.storing or reviews.abandoned:
            return True
        if self.wait is None:  # signed masks just saved: their reviews reach the project first
            self.wait = reviews.wait_then(self.window, self._stored, self._kept)
        return False

    def _confirm(self) -> bool:
        """Unsaved edits, a running batch and a running adaptation are asked about once per quit."""
        w = self.window
        if not w.editing.confirm_close():
            return False
        if w.controller.batch_running:
            done = w.batch_model.done_count
            if not questions.ask_quit_during_batch(w, done, w.batch.total):
                w.show_status(questions.quit_during_batch_text(done, w.batch.total).split(":")[0])
                return False
        if w.model_menu.adaptation_runs:
            if not questions.ask_quit_during_adaptation(w):
                w.show_status("The window stays open; the adaptation goes on.")
                return False
            w.model_menu.cancel_adaptation()  # the close then waits for the worker to stop
        return True

    def _saves_ended(self, written: bool) -> None:
        self._waiting_saves = False
        if written:
            QTimer.singleShot(0, self.window.close)
        else:  # the banner says why; the edits stay, still unsaved
            self.window.show_status("The window stays open: a corrected mask could not be saved.", 10000)

    def _stored(self) -> None:
        self.wait = None
        QTimer.singleShot(0, self.window.close)  # after the dialog's own signal has returned

    def _kept(self, failed: bool) -> None:
        self.wait = None
        self._confirmed = False
        if failed:  # the banner holds the reason; closing now would take it away unread
            self.window.show_status("The window stays open: a review was not stored in the project.", 10000)
        else:
            self.window.show_status(
                "The window stays open; the reviews are still being stored in the project.", 10000
            )
