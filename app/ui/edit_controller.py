"""Editing the label map on screen: one session per photo, kept while the app runs.

A session holds a `LabelEditor` on a full-resolution copy of the model's map (the eraser restores the
model's), the photo's review state and what was saved. Each edit redraws only its box of the overlay;
the figures come from the editor's incremental counts (no recount of a 12 MP map). Smart select and
select similar run in a worker, and the map is not edited meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QRect, QTimer, Signal

from app.core.analysis import PhotoResult, reassess
from app.core.editing import Box, Checkpoint, LabelEditor, Point, Step
from app.core.palette import class_by_name
from app.core.reviewed import (
    ReviewedMask,
    ReviewState,
    photo_sha256,
    read_reviewed_mask,
    write_reviewed_mask,
)
from app.core.text import safe_path
from app.ui.controller import AnalyzedPhoto, AppController
from app.ui.edit_background import BackgroundEdits
from app.ui.edit_session import (
    EDITED_AFTER_REVIEW,
    UNDONE_PAST_REVIEW,
    EditSession,
    signature_back,
)
from app.ui.image_viewer_widget import ImageViewerWidget
from app.ui.qimage import labels_view
from app.ui.result_state import PendingMeasures
from app.ui.saved_masks import not_used_text
from app.ui.workers import Worker, alive

log = logging.getLogger(__name__)

FIGURES_MS = 40  # figures follow a stroke at most this often (the counts are always exact)
# undo and redo kept for each photo not on screen: one whole-photo step of a 12 MP photo (24 MB) and
# strokes; per photo, so 30 edited photos hold at most about 1 GB of history
BACKGROUND_UNDO_BYTES = 32 * 1024 * 1024


def replaced_text(session: EditSession) -> str:
    """What the banner says when a photo edited here was replaced on disk under its name."""
    what = "signature and edits" if session.review.is_reviewed else "edits"
    saved = (
        f" (the saved mask {safe_path(session.mask_path)} stays, and is refused for this photo)"
        if session.mask_path is not None
        else " (they were not saved)"
    )
    return (
        f"{safe_path(session.path.name)} is another photo by now (replaced on disk under its name): its "
        f"{what} were for the photo before and are not applied{saved}."
    )


def _qrect(box: Box) -> QRect:
    y0, x0, y1, x1 = box
    return QRect(x0, y0, x1 - x0, y1 - y0)


BUSY_TEXT = (
    "Not edited: a fill or smart select is still working on this photo; edit again once its result shows "
    "(Esc stops it)"
)


class EditController(QObject, BackgroundEdits):
    """Edits of the photo on screen (brush, polygon, fill, smart select, undo) and the sessions of all."""

    session_changed = Signal(object)  # EditSession | None: the photo on screen's session (or none)
    edited = Signal()  # the map on screen changed (undo/redo availability may have changed)
    busy_changed = Signal(bool)  # a smart-select worker runs
    message = Signal(str, str)  # text, level ("info", "warning", "error")
    mask_opened = Signal(object, object)  # Path, ReviewState: a saved correction was opened
    measured_left = Signal(object, object)  # EditSession, PhotoResult: a photo left unmeasured, measured

    def __init__(self, app: AppController, viewer: ImageViewerWidget) -> None:
        super().__init__(app)
        self.app = app
        self.state = app.state
        self.viewer = viewer
        self.sessions: dict[Path, EditSession] = {}
        self._worker: Worker | None = None
        self._recounting: set[Path] = set()  # photos left whose patches are being counted (`_measure_left`)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(FIGURES_MS)
        self._timer.timeout.connect(self._push_figures)
        app.photo_analyzed.connect(self._on_analyzed)
        self.state.photo_changed.connect(self._on_photo_changed)

    # sessions -----------------------------------------------------------------------------------
    @property
    def session(self) -> EditSession | None:
        """The session of the photo on screen, once it has a result and has been edited or reviewed."""
        result = self.state.result
        return None if result is None else self.sessions.get(result.path)

    @property
    def busy(self) -> bool:
        return self._worker is not None

    def recounting(self) -> list[Path]:
        """Photos whose patches and distribution still follow their last edit (the one on screen, or one
        left before they did): their batch rows hold the figures from before that edit until then."""
        on_screen = self.state.result.path if self.state.measures_pending and self.state.result else None
        return sorted({*self._recounting, *([on_screen] if on_screen else [])})

    def review_of(self, path: Path) -> ReviewState:
        """The review state of a photo in this run (model when it was neither edited nor reviewed): what
        the JSON, CSV and PDF of its figures should say."""
        session = self.sessions.get(Path(path))
        return session.review if session is not None else ReviewState()

    def model_result(self) -> PhotoResult | None:
        """The photo on screen's figures from the model's own mask (beside the edited ones, for the PDF)."""
        result, model = self.state.result, self.state.model_labels
        if result is None or model is None or result.labels is model:
            return result
        return reassess(result, model, self.state.policy)

    def unsaved_sessions(self) -> list[EditSession]:
        return [s for s in self.sessions.values() if s.unsaved]

    def class_id(self, name: str) -> int | None:
        result = self.state.result
        found = class_by_name(result.classes, name) if result is not None else None
        return None if found is None else found.id

    def begin(self) -> EditSession | None:
        """The session of the photo on screen, made on its first edit; None without a result."""
        result = self.state.result
        if result is None or self.state.model_labels is None:
            return None
        if self.app.replacing(result.path):  # an edit now would land on the photo being left
            self.message.emit(f"Not edited: {safe_path(self.app.requested.name)} is opening", "info")
            return None
        session = self.sessions.get(result.path)
        if session is None:
            model, labels = self.state.model_labels, self.state.labels_to_edit()
            session = EditSession(result.path, LabelEditor(labels, model), labels_view(labels))
            session.photo_sha256 = self._photo_sha256()
            self.sessions[result.path] = session
            self.viewer.update_labels(session.image, QRect())  # same pixels: nothing to redraw
            self.state.set_labels(labels, session.editor.stats(result.classes))
            self.session_changed.emit(session)
        return session

    def discard(self, path: Path) -> None:
        """Forget the edits and review of `path`; on screen, the model's map comes back."""
        session = self.sessions.pop(Path(path), None)
        if session is None or self.state.result is None or self.state.result.path != session.path:
            return
        model = self.state.model_labels
        assert model is not None
        self.viewer.update_labels(labels_view(model))
        self.state.set_labels(model)
        self.session_changed.emit(None)
        self.edited.emit()

    def _on_photo_changed(self, _photo) -> None:
        """The photos left keep their edits and a little undo, nothing that can be made again: smart
        select's copy of the photo and the network's probabilities (+128 MB a 12 MP photo, kept for the
        session before); a session that holds no change at all (a stroke that changed nothing) goes."""
        for path, session in list(self.sessions.items()):
            session.editor.trim_undo(BACKGROUND_UNDO_BYTES)
            session.smart_photo = session.probabilities = None  # made again if the photo is edited again
            if not (session.edited or session.unsaved or session.editor.can_redo):
                del self.sessions[path]
        if self.state.left_unmeasured is not None:
            self._measure_left(self.state.left_unmeasured)
        self.session_changed.emit(None)
        self.edited.emit()

    def _measure_left(self, pending: PendingMeasures) -> None:
        """The photo left before its patches and distribution followed its last edit: they are counted in
        a worker (a 12 MP map takes a while) for its session and batch row."""
        session = self.sessions.get(pending.path)
        if session is None:
            return
        mark = session.editor.checkpoint()  # after the trim above: later trims of it drop nothing more
        worker = Worker(pending.compute)
        self._recounting.add(pending.path)
        worker.signals.returned.connect(
            lambda result, s=session, m=mark: alive(self) and self._on_measured_left(s, m, result)
        )
        worker.signals.finished.connect(lambda p=pending.path: alive(self) and self._recounting.discard(p))
        self.app.pool.start(worker)

    def _on_measured_left(self, session: EditSession, mark: Checkpoint, result: PhotoResult) -> None:
        if self.sessions.get(session.path) is not session or not session.editor.at(mark):
            return  # reverted, or edited since: the figures of that map are counted on screen
        on_screen = self.state.result is not None and self.state.result.path == session.path
        if not on_screen:  # on screen, the figures follow the map shown (`AppController._remeasure`)
            self.measured_left.emit(session, result)

    def _on_analyzed(self, item: AnalyzedPhoto) -> None:
        session = self.sessions.get(item.result.path)
        if session is not None:
            if session.editor.labels.shape != item.result.labels.shape:  # the file changed on disk
                self.sessions.pop(item.result.path)
                self.message.emit(
                    f"{item.result.path.name} changed on disk: its edits no longer fit", "warning"
                )
                session = None
            elif self._other_photo(session):
                self.sessions.pop(item.result.path)
                self.message.emit(replaced_text(session), "warning")
                session = None
            else:
                self._take_new_model_map(session)
                self._show(session)
        self.session_changed.emit(session)
        self.edited.emit()

    def _photo_sha256(self) -> str:
        photo = self.state.photo
        return "" if photo is None else photo.sha256

    def _other_photo(self, session: EditSession) -> bool:
        """Whether the photo under the session's name is another picture by now (replaced on disk while the
        app ran): its edits and signature were drawn over the picture before and are not this one's."""
        now = self._photo_sha256()
        return bool(session.photo_sha256 and now and now != session.photo_sha256)

    def _take_new_model_map(self, session: EditSession) -> None:
        """The photo analysed again (Fine detail, another model) with edits: they stay, over the new map,
        which the eraser and Revert now give back (they gave the old one, which nothing else showed)."""
        model = self.state.model_labels
        if model is None or model is session.editor.model_labels:
            return
        if not np.array_equal(model, session.editor.model_labels):
            self.message.emit(
                f"{safe_path(session.path.name)} was analysed again: your edits are kept over the new "
                "model mask (the eraser and Edit ▸ Revert to the model's mask give the new one)",
                "warning",  # a banner: the new mask is hidden under the edits
            )
        session.editor.model_labels = model

    def _show(self, session: EditSession) -> None:
        self.viewer.update_labels(session.image)
        result = self.state.result
        assert result is not None
        self.state.set_labels(session.editor.labels, session.editor.stats(result.classes))

    # reviewed masks on disk ---------------------------------------------------------------------
    def open_reviewed_mask(self, path: Path) -> Worker | None:
        """Read a reviewed mask for the photo on screen in a worker; it becomes the photo's session."""
        result = self.state.result
        if result is None:
            return None
        worker = Worker(read_reviewed_mask, path, result.size, result.classes, photo=result.path)
        worker.signals.returned.connect(
            lambda mask, p=result.path: alive(self) and self._on_mask_read(p, mask)
        )
        worker.signals.failed.connect(lambda msg: self.message.emit(not_used_text(path, msg), "warning"))
        return self.app.pool.start(worker)

    def _on_mask_read(self, photo: Path, mask: ReviewedMask) -> None:
        result, model = self.state.result, self.state.model_labels
        if result is None or result.path != photo or model is None or photo in self.sessions:
            return  # another photo by now, or edited meanwhile: the edits on screen win
        editor = LabelEditor(mask.labels, model)
        review = ReviewState.signed_or_edited(mask.review)
        session = EditSession(photo, editor, labels_view(mask.labels), review, review, mask.path)
        session.photo_sha256 = self._photo_sha256()
        self.sessions[photo] = session
        self._show(session)
        self.session_changed.emit(session)
        self.edited.emit()
        self.mask_opened.emit(mask.path, review)

    def save_job(
        self, path: Path, overwrite: bool, session: EditSession | None = None, copy: bool = False
    ) -> Callable[[], list[Path]] | None:
        """Marks the session (default: the photo on screen's) saved to `path` and returns the job that
        writes it (None: no session). `copy`: a copy only (beside exports), the session left as it was."""
        result, model = self.state.result, self.app.model
        session = session or self.session
        classes = result.classes if result is not None else model.classes if model is not None else None
        if session is None or classes is None:
            return None
        labels, review, photo, drawn_on = (
            session.editor.labels.copy(),
            ReviewState.signed_or_edited(session.review),
            session.path,
            session.photo_sha256,
        )
        if not copy:
            session.mark_saved(path)  # what is saved is this copy; later edits count as unsaved

        def job() -> list[Path]:
            try:  # the photo's SHA-256 in the record: the mask is never applied to another photo of its name
                # (the one it was drawn on: the file may hold another picture by now)
                sha = drawn_on or photo_sha256(photo) or review.photo_sha256
                record = replace(review, photo_sha256=sha)
                return [write_reviewed_mask(path, labels, classes, record, overwrite=overwrite)]
            except Exception:
                if not copy:  # a copy that failed leaves the session's own saved file as good
                    session.save_failed = True
                raise

        return job

    # review -------------------------------------------------------------------------------------
    def mark_reviewed(self, by: str, note: str = "") -> EditSession | None:
        session = self.begin()
        result = self.state.result
        if session is None or result is None:
            return None
        session.sign(ReviewState.reviewed_now(by, note, result.model_sha256))
        self.session_changed.emit(session)
        return session

    def _after_edit(self, session: EditSession, box: Box | None, final: bool) -> None:
        if box is not None:
            self.viewer.update_labels(session.image, _qrect(box))
        if final:
            self._timer.stop()
            self._push_figures()
            if session.follow_signature():
                if session.review.is_reviewed:
                    self.message.emit(signature_back(session.review), "info")
                else:
                    undone = session.signature_redoable()
                    self.message.emit(UNDONE_PAST_REVIEW if undone else EDITED_AFTER_REVIEW, "warning")
                self.session_changed.emit(session)
            self.edited.emit()
        elif not self._timer.isActive():
            self._timer.start()

    def _push_figures(self) -> None:
        session, result = self.session, self.state.result
        if session is not None and result is not None:
            self.state.set_labels(session.editor.labels, session.editor.stats(result.classes))

    # tools --------------------------------------------------------------------------------------
    def _free(self) -> bool:
        """Whether an edit may start now; while a tool's worker runs it is refused, saying so (it was
        dropped without a word)."""
        if self.busy:
            self.message.emit(BUSY_TEXT, "info")
        return not self.busy

    def stroke_begin(self, point: Point, radius: float, class_id: int | None) -> bool:
        session = self.begin() if self._free() else None
        if session is None:
            return False
        self._after_edit(session, session.editor.begin_stroke(point, radius, class_id), final=False)
        return True

    def stroke_move(self, point: Point) -> None:
        session = self.session
        if session is not None and session.editor.in_stroke:
            self._after_edit(session, session.editor.extend_stroke(point), final=False)

    def stroke_end(self) -> Step | None:
        session = self.session
        if session is None or not session.editor.in_stroke:
            return None
        edit = session.editor.end_stroke()
        self._after_edit(session, None if edit is None else edit.box, final=True)
        return edit

    def undo(self) -> Step | None:
        return self._step(LabelEditor.undo, create=False)

    def redo(self) -> Step | None:
        return self._step(LabelEditor.redo, create=False)

    def _step(self, fn: Callable[[LabelEditor], Step | None], create: bool = True) -> Step | None:
        session = (self.begin() if create else self.session) if self._free() else None
        if session is None:
            return None
        edit = fn(session.editor)
        self._after_edit(session, None if edit is None else edit.box, final=True)
        return edit
