"""The edits that run in a worker (flood and polygon fills, smart select, select similar): one at a time,
cancellable (Esc), each landing as one undo step on the photo it was made for, or said not to. A part of
`EditController` (its state, session and messages), kept apart for its size."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from app.core import smart_select as smart
from app.core.editing import LabelEditor, Point, Step
from app.core.inference import probabilities as network_probabilities
from app.core.select_similar import select_similar
from app.core.text import safe_path
from app.ui.edit_session import EditSession, Prepared, prepare
from app.ui.workers import Worker, alive

if TYPE_CHECKING:
    from app.ui.controller import AppController
    from app.ui.result_state import ResultState


class BackgroundEdits:
    """Worker-made edits of `EditController`, which provides `app`, `state`, `session`, `begin`, `busy`,
    `message`, `busy_changed`, `_after_edit` and `_worker`."""

    app: AppController
    state: ResultState
    _worker: Worker | None

    def fill_polygon(self, points: list[Point], class_id: int) -> Worker | None:
        """Fill a polygon or lasso in a worker (a whole 50 MP photo's region froze the window for a second
        on the UI thread); the edit lands as one undo step, as smart select's."""
        return self._fill(lambda e: e.polygon_edit(points, class_id), "polygon fill")

    def flood_fill(self, point: Point, class_id: int) -> Worker | None:
        """Flood-fill the clicked region in a worker (as `fill_polygon`)."""
        return self._fill(lambda e: e.fill_edit(point, class_id), "flood fill")

    def _fill(self, make: Callable[[LabelEditor], Step | None], what: str) -> Worker | None:
        session = None if self.busy else self.begin()
        if session is None:
            return None
        editor = session.editor  # read, never written, by the worker: edits wait while it runs (busy)
        return self._run(lambda: Prepared(make(editor)), what)

    def smart_select(self, marks: smart.Marks) -> Worker | None:
        """Recompute the pipe region from `marks` in a worker; the edit lands as one undo step."""
        session, photo, result = self.begin(), self.state.photo, self.state.result
        if session is None or photo is None or result is None or self.busy:
            return None
        labels, probs = session.editor.labels, session.probabilities
        kept = session.smart_photo
        model, options = self.app.model, self.app.options
        if model is None or model.sha256 != result.model_sha256:
            model = None  # another model by now: its probabilities would not be this map's

        def job() -> Prepared:
            p = probs
            if p is None and model is not None:  # the network's own probabilities seed GrabCut best
                p = network_probabilities(model, photo.rgb, options)  # docs/performance.md, smart select
            sp = kept
            if sp is None or not sp.fits(photo.rgb, p, smart.SmartSelectOptions()):
                sp = smart.prepare_photo(photo.rgb, result.classes, p)  # once per photo: clicks reuse it
            edit = smart.smart_select(
                photo.rgb,
                labels,
                marks,
                result.classes,
                probabilities=p,
                confidence=result.confidence,
                photo=sp,
            )
            return replace(prepare(edit), probabilities=p, smart_photo=sp)

        return self._run(job, "smart select")

    def select_similar(self, point: Point, tolerance: float) -> Worker | None:
        session, photo, result = self.begin(), self.state.photo, self.state.result
        if session is None or photo is None or result is None or self.busy:
            return None
        rgb, labels, classes = photo.rgb, session.editor.labels, result.classes

        def job() -> Prepared:
            return prepare(select_similar(rgb, labels, point, tolerance, classes))

        return self._run(job, "select similar")

    def _run(self, job: Callable[[], Step | None], what: str) -> Worker:
        session = self.session
        worker = Worker(job)
        worker.signals.returned.connect(  # one cancelled after it returned: its edit is not wanted
            lambda edit, s=session: (
                alive(self) and not worker.is_cancelled and self._on_smart_edit(s, edit, what)
            )
        )
        worker.signals.failed.connect(
            lambda msg: worker.is_cancelled or self.message.emit(f"{what.capitalize()}: {msg}", "warning")
        )
        worker.signals.finished.connect(lambda: alive(self) and self._worker_done(worker))
        self._worker = worker
        self.busy_changed.emit(True)
        return self.app.pool.start(worker)

    def _worker_done(self, worker: Worker) -> None:
        if self._worker is worker:  # a cancelled one ending late: the next may be running
            self._worker = None
            self.busy_changed.emit(False)

    def cancel_work(self) -> bool:
        """Stop waiting for a fill, smart select or select similar (Esc): its edit is dropped when it comes,
        and editing goes on at once (the worker only reads the map; what it read by then is discarded)."""
        worker = self._worker
        if worker is None:
            return False
        worker.cancel()
        self._worker_done(worker)
        self.message.emit("Cancelled: the mask is as it was", "info")
        return True

    def _on_smart_edit(self, session: EditSession | None, prepared: Prepared, what: str) -> None:
        if session is None or session is not self.session:  # another photo is on screen now
            if session is not None:  # its edit is not applied unseen: said, so the inspector can redo it
                self.message.emit(
                    f"{what.capitalize()} on {safe_path(session.path.name)} was not applied: another photo "
                    "was opened before it finished; go back to it and try again",
                    "info",
                )
            return
        if prepared.probabilities is not None:
            session.probabilities = prepared.probabilities
        if prepared.smart_photo is not None:
            session.smart_photo = prepared.smart_photo
        if prepared.edit is None:
            self.message.emit(f"{what.capitalize()} changed nothing", "info")
            return
        applied = session.editor.apply(prepared.edit)
        self._after_edit(session, None if applied is None else applied.box, True)
