"""Starts the work (model loading, photo analysis, batches, exports) in workers and reports back.

Widgets never call ONNX Runtime or read files: they ask the controller, which runs `app.core` in a
worker and emits the results. Stale results (a newer photo was asked for) are dropped.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from app.core import analysis, photo_decode, pipeline
from app.core.errors import ModelFileChanged
from app.core.grading import ReviewPolicy
from app.core.inference import InferenceOptions
from app.core.model import SegmentationModel
from app.core.photo_notes import first_page_note
from app.core.pipeline import BatchOptions
from app.core.saved_corrections import CorrectionSearch
from app.core.text import safe_path
from app.ui.batch_job import batch_rows
from app.ui.batch_table import BatchRow
from app.ui.display_levels import overlay_levels, photo_levels
from app.ui.qimage import labels_view, rgb_to_qimage
from app.ui.result_state import OpenedPhoto, ResultState
from app.ui.workers import Worker, WorkerPool, alive

log = logging.getLogger(__name__)

REMEASURE_AFTER_MS = 300  # a pause in editing this long recomputes the patches and distribution


@dataclasses.dataclass(frozen=True)
class AnalyzedPhoto:
    result: analysis.PhotoResult
    labels_image: object  # QImage Indexed8, made in the worker
    overlay_levels: tuple | None = None  # the overlay's reduced copies for `color_table`, made in the worker
    color_table: tuple[int, ...] = ()
    # a copy of the labels for the first edit, made here: copying 50 MB of fresh pages at the first brush
    # stroke held the UI thread 0.3-0.7 s at 50 MP
    edit_copy: np.ndarray | None = None


class AppController(QObject):
    """The app's state (model, current photo and result) and the workers that change it."""

    model_loaded = Signal(object)  # SegmentationModel
    model_refused = Signal(str)  # why; the previous model stays loaded
    photo_opened = Signal(object)  # OpenedPhoto
    photo_analyzed = Signal(object)  # AnalyzedPhoto
    photo_failed = Signal(str)  # why; the app stays usable
    busy_changed = Signal(str)  # what runs now, "" when idle
    batch_started = Signal(int)
    batch_rest = Signal(list)  # a cancelled batch: the photos it did not reach
    batch_row_ready = Signal(object)  # BatchRow
    batch_finished = Signal(str)  # summary
    batch_left_out = Signal(str)  # files named like photos the folder scan left out, and why
    export_finished = Signal(list)  # written paths
    export_failed = Signal(str)

    def __init__(self, parent: QObject | None = None, options: InferenceOptions | None = None) -> None:
        super().__init__(parent)
        self.pool = WorkerPool(self, max_threads=2)
        self.options = options or InferenceOptions()
        self.state = ResultState(self)
        # After an edit the areas and grades follow at once; patches and the distribution (a full pass
        # over the map) are recomputed in a worker once the inspector pauses.
        self._measure_timer = QTimer(self)
        self._measure_timer.setSingleShot(True)
        self._measure_timer.setInterval(REMEASURE_AFTER_MS)
        self._measure_timer.timeout.connect(self._remeasure)
        self.state.labels_changed.connect(lambda _labels: self._measure_timer.start())
        # a photo left early is measured by the edits' side (`EditController._measure_left`), not here
        self.state.photo_changed.connect(lambda _photo: self._measure_timer.stop())
        self.model: SegmentationModel | None = None
        self._photo_token = 0
        self._photo_worker: Worker | None = None
        self.requested: Path | None = None  # the photo last asked for: shown, still loading or failed
        self._last_color_table: tuple[int, ...] = ()
        self._batch_worker: Worker | None = None
        self.batch_folders: list[Path] = []  # the folders the last batch was asked for (run_batch_paths)
        # where a batch looks for each photo's saved correction (the window's settings say)
        self.corrections: Callable[[], CorrectionSearch | None] = lambda: None

    def _remeasure(self) -> None:
        if self.state.result is None:
            return
        version, labels = self.state.version, self.state.result.labels.copy()  # the editor paints on
        worker = Worker(self.state.reassessed, labels)
        worker.signals.returned.connect(
            lambda result, v=version: alive(self.state) and self.state.set_measured(v, result)
        )
        self.pool.start(worker)

    @property
    def current(self) -> OpenedPhoto | None:
        """The photo on screen (`state.photo`)."""
        return self.state.photo

    @property
    def current_path(self) -> Path | None:
        """Where the photo on screen was read from; None when none is shown."""
        return None if self.current is None else self.current.path

    @property
    def result(self) -> analysis.PhotoResult | None:
        """Its result, with the label map shown (`state.result`)."""
        return self.state.result

    @property
    def policy(self) -> ReviewPolicy:
        return self.state.policy

    # model --------------------------------------------------------------------------------------
    def load_model(self, path: str | Path, device: str = "auto", sha256: str | None = None) -> Worker:
        """Load in a worker; on success it replaces the current model, else the current one stays
        (`sha256`: the model the file must hold, refused as `ModelFileChanged` if it holds another)."""
        worker = Worker(load_model_file, Path(path), device, sha256)
        worker.signals.returned.connect(self._on_model_loaded)
        worker.signals.failed.connect(self.model_refused)
        worker.signals.finished.connect(lambda: self.busy_changed.emit(""))
        self.busy_changed.emit(f"Loading model {Path(path).name}…")
        return self.pool.start(worker)

    def _on_model_loaded(self, model: SegmentationModel) -> None:
        self.model = model
        self.model_loaded.emit(model)
        if self.current is not None:  # re-analyse what is on screen with the new model
            self.open_photo(self.current.path, self._last_color_table)

    def batch_options(self, exports: tuple[str, ...], inputs: Sequence[Path] = ()) -> BatchOptions:
        """The options a batch runs with: this window's inference options and review policy; the CSV's
        `file` is relative to the folders among `inputs`."""
        folders = tuple(p for p in inputs if Path(p).is_dir())
        return BatchOptions(
            inference=self.options,
            policy=self.policy,
            exports=exports,
            input_folders=folders,
            corrections=self.corrections(),
        )

    def set_options(self, options: InferenceOptions) -> None:
        """How the model runs on a photo (resize or tiles); the photo on screen is analysed again."""
        if options != self.options:
            self.options = options
            if self.current is not None and self.model is not None:
                self.open_photo(self.current.path, self._last_color_table)

    # one photo ----------------------------------------------------------------------------------
    def open_photo(self, path: str | Path, color_table: Sequence[int] = ()) -> Worker:
        """Read, show, then analyse `path` in a worker; a newer call makes older results stale.

        With the overlay's `color_table`, the worker also composes the overlay image, so a 12-megapixel
        result reaches the UI thread ready to show.
        """
        if self._photo_worker is not None:
            self._photo_worker.cancel()
        self.requested = Path(path)
        self._last_color_table = tuple(color_table)
        self._photo_token += 1
        token = self._photo_token
        worker = Worker(
            _open_and_analyze, Path(path), self.model, self.options, self.policy, tuple(color_table)
        ).with_callbacks()
        name = Path(path).name
        worker.signals.progressed.connect(
            lambda done, total, t=token: self._on_photo_progress(t, name, done, total)
        )
        worker.signals.yielded.connect(lambda item, t=token: self._on_photo_item(t, item))
        worker.signals.failed.connect(lambda msg, t=token, p=Path(path): self._on_photo_failed(t, p, msg))
        worker.signals.finished.connect(lambda t=token: self._on_photo_done(t))
        self._photo_worker = worker
        self.busy_changed.emit(f"Analysing {Path(path).name}…")
        return self.pool.start(worker)

    def replacing(self, shown: Path | None) -> bool:
        """Whether another photo than `shown` is being opened (asked for, not read and analysed yet)."""
        return self._photo_worker is not None and self.requested is not None and self.requested != shown

    def clear_photo(self) -> None:
        """No photo on screen (e.g. a failed batch row is selected): a photo still loading is dropped."""
        if self._photo_worker is not None:
            self._photo_worker.cancel()
        self.requested = None
        self._photo_token += 1
        self.state.set_photo(None)

    def _on_photo_item(self, token: int, item: object) -> None:
        if token != self._photo_token:
            return
        if isinstance(item, OpenedPhoto):
            self.state.set_photo(item)
            self.photo_opened.emit(item)
        elif isinstance(item, AnalyzedPhoto):
            self.state.set_result(item.result, item.edit_copy)
            self.photo_analyzed.emit(item)

    def _on_photo_progress(self, token: int, name: str, done: int, total: int) -> None:
        if token == self._photo_token and total > 1:
            self.busy_changed.emit(f"Analysing {name}… step {done} of {total}")

    def _on_photo_failed(self, token: int, path: Path, message: str) -> None:
        if token == self._photo_token:
            if self.current is not None and self.current.path == path:  # read and shown, not analysed
                self.state.set_failed(message)
            self.photo_failed.emit(message)

    def _on_photo_done(self, token: int) -> None:
        if token == self._photo_token:
            self._photo_worker = None
            self.busy_changed.emit("")

    # batch --------------------------------------------------------------------------------------
    def run_batch_paths(
        self, inputs: Sequence[Path], out_dir: Path | None = None, recursive: bool = False
    ) -> Worker | None:
        """Analyse the photos in `inputs` (files and folders, listed in the worker, with their subfolders
        when `recursive`) one by one, through the same pipeline as `corroscope analyze`; with `out_dir`,
        outputs are written and resumed there."""
        if self.model is None:
            self.batch_finished.emit("No model loaded: load one with Model ▸ Load model…")
            return None
        self.cancel_batch()
        self.batch_folders = [Path(p) for p in inputs if Path(p).is_dir()]  # the table names photos inside
        exports = pipeline.DEFAULT_EXPORTS if out_dir is not None else ()
        options = self.batch_options(exports, inputs)
        worker = Worker(batch_rows, self.model, list(inputs), options, out_dir, recursive).with_callbacks()
        counts = {"total": 0, "done": 0, "failed": 0}
        planned: dict[Path, None] = {}  # in order; a dict: a row takes its photo off at once, not in O(n)

        def current() -> bool:
            """Whether this batch is still the one on screen: a batch replaced by a newer one (another
            folder opened while it ran) still delivers what it had queued, which must not reach the
            newer batch's table, counts, Continue or busy state."""
            return self._batch_worker is worker

        def on_item(item: object) -> None:
            if not current():
                return
            if isinstance(item, list):
                planned.clear()
                planned.update(dict.fromkeys(item))
                counts["total"] = len(item)
                self.batch_started.emit(len(item))
            elif isinstance(item, BatchRow):
                counts["failed" if item.failed else "done"] += 1
                planned.pop(item.path, None)
                self.batch_row_ready.emit(item)
            elif isinstance(item, str):
                self.batch_left_out.emit(item)

        def on_end(state: str, rest: bool = False) -> None:
            if not current():
                return
            self._batch_worker = None
            if rest:  # Continue offers what this batch did not reach
                self.batch_rest.emit(list(planned))
            n = counts["done"] + counts["failed"]
            self.batch_finished.emit(f"{state}: {n} of {counts['total']} photos, {counts['failed']} failed")
            self.busy_changed.emit("")

        worker.signals.yielded.connect(on_item)
        worker.signals.returned.connect(lambda _v: on_end("Batch finished"))
        worker.signals.cancelled.connect(lambda: on_end("Batch cancelled", rest=True))
        worker.signals.failed.connect(lambda msg: on_end(f"Batch stopped ({msg})"))
        self._batch_worker = worker
        self.busy_changed.emit("Batch running…")
        return self.pool.start(worker)

    def cancel_batch(self) -> None:
        if self._batch_worker is not None:
            self._batch_worker.cancel()

    @property
    def batch_running(self) -> bool:
        return self._batch_worker is not None

    # exports ------------------------------------------------------------------------------------
    def run_export(
        self,
        job,
        *args,
        then: Sequence[Callable[[list], None]] = (),
        announce: bool = True,
        failed: Callable[[str], None] | None = None,
    ) -> Worker:
        """Run an export function (returns the written paths) in a worker; each of `then` gets the paths
        after `export_finished` (not emitted without `announce`: a file written beside an export, whose
        "Exported N files" banner it must not replace). Connected before the worker starts: a small file
        can be written before a caller could connect to the worker it was handed back. `failed` gets the
        reason instead of `export_failed` ("Export failed: …") for a job that is no export (a save)."""
        worker = Worker(job, *args)
        if announce:
            worker.signals.returned.connect(lambda paths: self.export_finished.emit(list(paths)))
        for callback in then:
            worker.signals.returned.connect(callback)
        worker.signals.failed.connect(failed or self.export_failed)
        worker.signals.finished.connect(lambda: self.busy_changed.emit(""))
        self.busy_changed.emit("Exporting…")
        return self.pool.start(worker)

    def shutdown(self, msecs: int = 10000) -> None:
        """Cancel running work and wait for it (on close)."""
        self.pool.cancel_all()
        self.pool.wait(msecs)


def _open_and_analyze(
    path: Path,
    model: SegmentationModel | None,
    options: InferenceOptions,
    policy: ReviewPolicy,
    color_table: tuple[int, ...],
    *,
    cancelled: Callable[[], bool] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[object]:
    """The photo, then its result. The network runs on the reduced decode (`app.core.photo_decode`) on
    a thread of its own while the full decode and its QImage are made, so the figures follow the photo
    at once instead of a full decode later."""
    start = time.perf_counter()
    size = None if model is None else model.input_size
    with photo_decode.start_decode(path, input_size=size, sha256=True) as photo:
        note = first_page_note(safe_path(path.name)) + "." if photo.more_pages else ""
        if model is None:
            rgb = photo.full()
            yield _opened(path, rgb, note, photo.sha256)
            return
        view = photo.network_view()
        read_seconds = time.perf_counter() - start
        with ThreadPoolExecutor(1, thread_name_prefix="photo-analysis") as pool:
            job = pool.submit(
                _analysed,
                model,
                view,
                photo.shape,
                path,
                options,
                policy,
                read_seconds,
                color_table,
                cancelled=cancelled,
                progress=progress,
            )
            del view
            try:
                rgb = photo.full()
            except BaseException:
                job.cancel()
                raise
            yield _opened(path, rgb, note, photo.sha256)
            yield job.result()


def _analysed(
    model: SegmentationModel,
    view: np.ndarray,
    shape: tuple[int, int],
    path: Path,
    options: InferenceOptions,
    policy: ReviewPolicy,
    read_seconds: float,
    color_table: tuple[int, ...],
    *,
    cancelled: Callable[[], bool] | None,
    progress: Callable[[int, int], None] | None,
) -> AnalyzedPhoto:
    result = analysis.analyze_view(
        model, view, shape, path, options, policy, read_seconds, progress=progress, cancelled=cancelled
    )
    labels = labels_view(result.labels)
    overlay = None
    if color_table:  # only reduced copies: the viewer colours the full-size overlay where it is visible
        labels.setColorTable(list(color_table))
        overlay = overlay_levels(result.labels, color_table)
    return AnalyzedPhoto(result, labels, overlay, color_table, result.labels.copy())


def _opened(path: Path, rgb: np.ndarray, note: str = "", sha256: str = "") -> OpenedPhoto:
    """The photo with its QImage and the viewer's reduced copies, made here in the worker."""
    return OpenedPhoto(path, rgb, rgb_to_qimage(rgb), photo_levels(rgb), note, sha256)


def load_model_file(path: Path, device: str, sha256: str | None = None) -> SegmentationModel:
    """Worker job: the model at `path`; with `sha256`, only if the file still holds that model."""
    model = SegmentationModel.load(path, device)
    if sha256 is not None and model.sha256 != sha256:
        raise ModelFileChanged(safe_path(path.name), sha256, model.sha256)
    return model
