"""One adaptation in the window's worker pool: a small non-modal progress dialog with Cancel (the window
stays usable meanwhile), and a model file that lands only if the run was not cancelled by then."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QProgressDialog

from app.core.adapt import AdaptResult, AdaptSettings, adapt_model
from app.core.adapt_checks import ALLOW_REPLACING, named_few
from app.core.adapt_scores import comparison_text
from app.core.errors import Cancelled
from app.core.files import overwrite_hint, staged
from app.core.text import counted, safe_message, safe_path
from app.ui.review_actions import SaveJob, run_jobs
from app.ui.workers import Worker

NAMES_SHOWN = 5  # photos named in a message about those left out; the rest counted


def left_out_text(left_out: Sequence[Path]) -> str:
    """The photos looked at that have no reviewed mask, named, so an inspector sees which were skipped."""
    if not left_out:
        return ""
    n = len(left_out)
    names = named_few((safe_path(p.name) for p in left_out), NAMES_SHOWN)  # escaped: control characters
    return (
        f" {counted(n, 'photo')} {'has' if n == 1 else 'have'} no saved reviewed mask and "
        f"{'was' if n == 1 else 'were'} left out: {names}."
    )


def result_text(result: AdaptResult, left_out: Sequence[Path] = ()) -> str:
    b, a = result.base, result.adapted
    notes = "".join(f" Note: {safe_message(n)}." for n in result.notes)
    return (
        f"Adapted to {result.fitted_on or counted(result.photos, 'reviewed photo')}; loaded "
        f"{safe_path(result.path.name)}. Leave-one-out "
        f"over {result.loo_over or 'them'}: corroded-share error {b.share_error:.1f} → {a.share_error:.1f} "
        f"points, ASTM D610 grade agreement {100 * b.d610_agreement:.0f} → {100 * a.d610_agreement:.0f} % "
        f"({comparison_text(b, a)})."
        f"{left_out_text(left_out)} Model ▸ Return to the shipped model undoes it.{notes}"
    )


class Landing:
    """Cancel against the model file's landing, decided under one lock: cancelled before, nothing is
    written; after, Cancel is too late (the file is in place and the run reports it)."""

    def __init__(self, cancelled: Callable[[], bool]) -> None:
        self._cancelled = cancelled  # the worker's flag: Cancel, a quit, the window closing
        self._lock = threading.Lock()
        self._landed = False

    def cancel(self, ask: Callable[[], None]) -> bool:
        """Run `ask` (the worker's cancel) unless the model landed already; False when too late."""
        with self._lock:
            if not self._landed:
                ask()
            return not self._landed

    def land(self) -> None:
        """From here on the model lands; `Cancelled` when the run was cancelled first."""
        with self._lock:
            if self._cancelled():
                raise Cancelled("Adaptation cancelled.")
            self._landed = True


def save_then_adapt(saves: list[SaveJob], landing: Landing, *args, **kwargs) -> AdaptResult:
    """Worker job: write the signed masks not saved yet, then adapt (`adapt_model`'s arguments). The model
    is staged and lands only after `landing` agreed: a Cancel during the last step still writes nothing,
    and a file that appeared where none was asked to be replaced is refused, not replaced."""
    run_jobs(saves)
    with overwrite_hint(ALLOW_REPLACING), staged():
        result = adapt_model(*args, **kwargs)
        landing.land()
    return result


class AdaptRun:
    """One adaptation: the worker, its progress dialog, and what happens when it ends."""

    def __init__(
        self,
        window,
        base: Path,
        pairs: list[tuple[Path, Path]],
        out: Path,
        saves: list[SaveJob] | None = None,
        *,
        replace: bool = False,
        left_out: Sequence[Path] = (),
        load: Callable[[Path], None] | None = None,
        say: Callable[[str, str, bool], None] | None = None,
        base_sha256: str | None = None,
    ) -> None:
        """`saves`: jobs writing signed masks that `pairs` names and that are not on disk yet; `replace`:
        the user agreed to replace `out`; `left_out`: photos looked at without a reviewed mask; `load`
        and `say`: how the adapted model is loaded and messages shown (the window's by default);
        `base_sha256`: the model loaded in the window, which `base` must still hold."""
        self.window = window
        self.left_out = tuple(left_out)
        self._load = load or window.load_model_file
        self._say = say or window.show_message
        self.ended = False
        self.dialog = QProgressDialog("Adapting the model…", "Cancel", 0, 1, window)
        self.dialog.setWindowTitle("Adapt to reviewed photos")
        # not modal: the guide promises a usable window (batch rows, other photos, Ctrl+Q) meanwhile
        self.dialog.setWindowModality(Qt.WindowModality.NonModal)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.dialog.setMinimumDuration(0)
        self.dialog.setMinimumWidth(360)  # its title and "Leave-one-out 10 of 10" whole (it elided both)
        self.landing = Landing(lambda: self.worker.is_cancelled)
        self.worker = Worker(
            save_then_adapt, list(saves or []), self.landing, base, pairs, out, AdaptSettings(),
            overwrite=replace, progress=self._progress, cancelled=lambda: self.worker.is_cancelled,
            base_sha256=base_sha256,
        )  # fmt: skip
        sig = self.worker.signals
        sig.progressed.connect(self._show_progress)
        sig.returned.connect(self._done)
        sig.failed.connect(lambda message: self._say(f"Adaptation: {message}", "warning"))
        sig.cancelled.connect(lambda: window.show_status("Adaptation cancelled; nothing was written", 8000))
        sig.finished.connect(self._end)
        self.dialog.canceled.connect(self.cancel)

    def start(self) -> Worker:
        self.dialog.show()
        return self.window.controller.pool.start(self.worker)

    def cancel(self) -> bool:
        """Stop the run, writing nothing; False when it is too late (the model is written)."""
        if self.ended:
            return False
        stopped = self.landing.cancel(self.worker.cancel)
        self.window.show_status(
            "Cancelling the adaptation…" if stopped else "Too late to cancel: the adapted model is written",
            8000,
        )
        return stopped

    def _progress(self, done: int, total: int, what: str) -> None:  # on the worker's thread
        self._what = what  # before the signal: its slot shows this step's words, not the last one's
        self.worker.signals.progressed.emit(done, total)

    def _show_progress(self, done: int, total: int) -> None:
        if self.ended or self.worker.is_cancelled:  # a step queued before Cancel: the dialog stays hidden
            return
        self.dialog.setLabelText(getattr(self, "_what", "Adapting the model…"))
        self.dialog.setMaximum(total)
        self.dialog.setValue(done)

    def _done(self, result: AdaptResult) -> None:
        self._load(result.path)
        worse_grades = result.adapted.d610_agreement < result.base.d610_agreement
        # sticky: the photo on screen is analysed again with the new model, and what that says (edits kept
        # over the new mask) must not take the outcome off the banner
        self._say(result_text(result, self.left_out), "warning" if worse_grades else "info", True)

    def _end(self) -> None:
        self.ended = True
        self.dialog.hide()  # not close(): a QProgressDialog's close emits canceled
        self.dialog.deleteLater()
