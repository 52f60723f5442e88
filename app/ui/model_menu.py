"""The main window's Model and Help menu actions and what happens when a model loads (composed into
`MainWindow`; it uses the window only through `WindowHost`)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

import app
from app.core.adapt import AdaptSettings
from app.core.adapt_checks import refuse_bundled
from app.core.adapt_heads import AdaptRefused
from app.core.inference import InferenceMode, InferenceOptions
from app.core.model import SegmentationModel, default_model_path
from app.core.text import counted, safe_path
from app.ui.adapt_run import AdaptRun
from app.ui.adapt_ui import (
    AdaptFound,
    adapt_plan,
    adapt_sources,
    ask_save_signed_masks,
    choose_output,
    default_output,
    find_reviewed,
    in_use_text,
    same_file,
    save_masks_text,
    too_few_text,
)
from app.ui.batch_table import BatchRow
from app.ui.export_dialog import confirm_overwrite
from app.ui.help_dialogs import KeyboardShortcutsDialog, open_user_guide
from app.ui.host import WindowHost
from app.ui.model_info_dialog import ModelInfoDialog
from app.ui.overlay_state import DEFAULT_OPACITY
from app.ui.window_actions import all_shortcuts
from app.ui.workers import Worker

ADAPTING_TEXT = (
    "A model is being adapted: load another model when it ends, or cancel it in its progress dialog first."
)
NO_MODEL_TEXT = (
    "No model is bundled (models/*.onnx is empty). Load one with Model ▸ Load model… "
    "(an ONNX file following the Corroscope model contract)."
)
NOT_LOADED_TEXT = (
    "No model is loaded. Model ▸ Return to the shipped model loads the bundled one; Model ▸ Load model… "
    "loads another."
)


def no_model_text() -> str:
    """What to say while no model is loaded: that none is bundled only where that is so."""
    return NO_MODEL_TEXT if default_model_path("cpu") is None else NOT_LOADED_TEXT  # "cpu": no CUDA probe


def other_model_rows(rows: Iterable[BatchRow], model: SegmentationModel) -> str | None:
    """What to say when the batch table holds figures of another model than the one just loaded: the
    photo on screen is analysed again, its row and the table's exports are not (each names its model)."""
    others = [r.result for r in rows if r.result is not None and r.result.model_sha256 != model.sha256]
    if not others:
        return None
    names = sorted({safe_path(r.model_file) for r in others})
    return (
        f"Loaded {safe_path(model.path.name)}. The batch table keeps the figures of {', '.join(names[:2])}"
        f"{' and others' if len(names) > 2 else ''} for {counted(len(others), 'photo')}, and its CSV and PDF "
        "say so; open the folder again to analyse them with this model."
    )


def loaded_text(model: SegmentationModel) -> str:
    """The status message on loading: the file and its hash (where it runs is the status bar's right
    end), short enough to fit beside the permanent labels at 1280 px."""
    return f"Loaded {model.path.name} (sha256 {model.short_sha})"


class ModelMenu(QObject):
    """Model ▸ load / default / CPU only / fine detail / information; Help ▸ guide, keys, about."""

    adapt_looked = Signal()  # Adapt's search for reviewed photos ended, and what it found was acted on

    def __init__(self, host: WindowHost) -> None:
        super().__init__(host)  # type: ignore[arg-type]  # the host is the QMainWindow
        self.host = host
        self._user_model: Path | None = None  # a model the user asked for, saved once it loads
        self._remembered: Path | None = None  # the model loaded by hand last time, loading at start
        self.falling_back = False  # it was refused: the bundled model loads in its place
        self._looking = False  # Adapt's search for reviewed photos runs
        self._adapt_run: AdaptRun | None = None  # kept until it ends
        self._adapt_said = ""  # the adaptation's last banner message, cleared when the next run starts
        host.controller.model_loaded.connect(self._on_model_loaded)
        host.controller.model_refused.connect(self._on_model_refused)

    @property
    def _parent(self) -> QWidget:
        return self.host  # type: ignore[return-value]  # the host is the QMainWindow

    def _on_model_loaded(self, model: SegmentationModel) -> None:
        h = self.host
        self._remembered, self.falling_back = None, False
        opacities = {c.name: h.settings.opacity(c.name, DEFAULT_OPACITY) for c in model.classes}
        h.overlay_state.set_classes(model.classes, opacities)
        # where it runs and why not on CUDA, whole at 1280 px; the model's name (a long file name) is in
        # the tooltip, the "Loaded ..." message and Model information
        text = f"Running on {model.device}" + (f" · {model.cuda_note}" if model.cuda_note else "")
        self.host.provider_label.setText(text)
        providers = ", ".join(model.providers)
        tip = f"{text}\nModel {model.path.name}\nSHA-256 {model.sha256}\nProviders: {providers}"
        h.provider_label.setToolTip(tip)
        if self.host.banner.text == NO_MODEL_TEXT:
            self.host.banner.dismiss()
        if self._user_model is not None and model.path == self._user_model:
            self.host.settings.model_path = model.path  # loaded by hand: the next start loads it again
        self._user_model = None
        self.host.show_status(loaded_text(model), 8000)
        other = other_model_rows(h.batch_model.rows, model)
        if other:
            h.show_message(other, "info")
        self.host.update_enabled()

    def _on_model_refused(self, message: str) -> None:
        self._user_model = None
        remembered, self._remembered, self.falling_back = self._remembered, None, False
        if remembered is not None and self.host.controller.model is None and self._fall_back(remembered):
            self.host.show_message(
                f"The model loaded last time ({safe_path(remembered)}) was refused; the bundled model "
                f"loads instead. {message}",
                "warning",
            )
            return
        if self.host.controller.model is not None:
            kept = f"the previous model ({self.host.controller.model.path.name}) stays loaded"
        else:
            kept = "no model is loaded; load one with Model ▸ Load model…"
        self.host.show_message(f"Model refused, {kept}. {message}", "error")

    def load_remembered(self, path: Path) -> None:
        """At start, the model loaded by hand last time; if it no longer loads (overwritten, broken), the
        settings forget it and the bundled model loads instead."""
        self._remembered = Path(path)
        self.host.controller.load_model(path, self.host.settings.device)

    def _fall_back(self, refused: Path) -> bool:
        """Forget `refused` (else every start tries it again) and load the bundled model, if any."""
        if self.host.settings.model_path == refused:
            self.host.settings.model_path = None
            self.host.update_enabled()
        path = default_model_path(self.host.settings.device)
        if path is None:
            return False
        self.falling_back = True
        self.host.controller.load_model(path, self.host.settings.device)
        return True

    @property
    def adapting(self) -> bool:
        """An adaptation is being prepared or runs: Adapt and loading another model wait for its end (the
        run's result is loaded then; a model loaded meanwhile would be replaced under the user)."""
        return self._looking or self._adapt_run is not None

    @property
    def adaptation_runs(self) -> bool:
        return self._adapt_run is not None

    def cancel_adaptation(self) -> bool:
        """Stop a running adaptation, writing nothing; False when none runs or it is too late."""
        return self._adapt_run is not None and self._adapt_run.cancel()

    def load_model_dialog(self) -> None:
        if self.adapting:
            self.host.show_status(ADAPTING_TEXT, 10000)
            return
        path, _ = QFileDialog.getOpenFileName(
            self._parent, "Load model", self.host.settings.last_folder, "ONNX models (*.onnx)"
        )
        if path:
            self.load_model_file(Path(path))

    def load_model_file(self, path: Path) -> None:
        """A model chosen by hand: remembered across restarts once it has loaded; not while adapting (a
        dropped .onnx)."""
        if self.adapting:
            self.host.show_status(ADAPTING_TEXT, 10000)
            return
        self._load_by_hand(path)

    def _load_by_hand(self, path: Path) -> None:
        self._user_model, self._remembered = Path(path), None
        self.host.controller.load_model(path, self.host.settings.device)

    def use_default_model(self) -> None:
        if self.adapting:
            self.host.show_status(ADAPTING_TEXT, 10000)
            return
        self._remembered = None
        self.host.settings.model_path = None
        self.host.update_enabled()
        path = default_model_path(self.host.settings.device)
        if path is None:
            self.host.show_message(NO_MODEL_TEXT, "warning")
        else:
            self.host.controller.load_model(path, self.host.settings.device)

    def adapt_model_dialog(self) -> Worker | None:
        """Refit the loaded model to the reviewed masks of the batch's (or the folder's, or the project's)
        photos; photos signed in this window but not saved are saved first, if the user agrees. The
        masks are looked for on a worker (a folder on a share may hold thousands of photos)."""
        if self.host.controller.model is None or self.adapting:
            return None
        worker = Worker(find_reviewed, adapt_sources(self.host))
        worker.signals.returned.connect(self._adapt_with)
        worker.signals.failed.connect(lambda message: self._say(message, "warning"))
        self.host.busy_label.setText("Looking for reviewed photos…")
        self._looking = True
        self.host.update_enabled()
        worker.signals.finished.connect(self._looked)
        worker.signals.finished.connect(self.adapt_looked.emit)  # after the result was acted on
        return self.host.controller.pool.start(worker)

    def _looked(self) -> None:
        self.host.busy_label.setText("")
        self._looking = False
        self.host.update_enabled()

    def _say(self, text: str, level: str, sticky: bool = True) -> None:
        """What an adaptation ends with (refused, failed, done): sticky, so a message of the photo on screen
        arriving just after (its saved mask found, it analysed again) cannot take it off the banner."""
        self._adapt_said = text
        self.host.show_message(text, level, sticky)

    def _adapt_with(self, found: AdaptFound) -> None:
        model = self.host.controller.model
        if model is None:
            return
        plan = adapt_plan(self.host, found)
        least = AdaptSettings().min_photos
        if plan.count < least:
            self._say(too_few_text(plan, least), "warning")
            return
        unsaved = plan.unsaved
        if unsaved and not ask_save_signed_masks(self._parent, save_masks_text(plan)):
            return
        first = plan.saved[0][0] if plan.saved else unsaved[0].path
        project = getattr(getattr(self.host, "projects", None), "project", None)
        beside = project.location.folder if project is not None else None  # a site's model by its project
        out = choose_output(self._parent, default_output(beside or first.parent, model.path))
        if out is None:
            return
        if same_file(out, model.path):
            self._say(in_use_text(out), "warning")
            return
        try:  # before asking to replace it: a bundled model is never replaced
            refuse_bundled(out)
        except AdaptRefused as exc:
            self._say(f"Adaptation: {exc}", "warning")
            return
        replace = os.path.lexists(out)  # only a file the user was asked about and agreed to replace
        if replace and not confirm_overwrite(self._parent, [out]):
            return
        pairs, saves = list(plan.saved), []
        if unsaved:
            review = self.host.editing.review
            pairs += [(session.path, target) for session, target in review.mask_targets(unsaved)]
            saves = review.save_jobs(unsaved)
            if saves is None:  # the user keeps a file in the way
                return
        self._start_run(AdaptRun(
            self.host, model.path, pairs, out, saves, replace=replace, left_out=plan.left_out,
            load=self._load_by_hand, say=self._say, base_sha256=model.sha256,
        ))  # fmt: skip

    def _start_run(self, run: AdaptRun) -> None:
        if self._adapt_said and self._adapt_said in (self.host.banner.text, self.host.banner.sticky_text):
            self.host.banner.dismiss()  # the last run's refusal is not this run's
        self._adapt_run = run
        run.worker.signals.finished.connect(self._adapt_ended)
        run.start()
        self.host.update_enabled()

    def _adapt_ended(self) -> None:
        self._adapt_run = None
        self.host.update_enabled()

    def set_cpu_only(self, on: bool) -> None:
        self.host.settings.device = "cpu" if on else "auto"
        model = self.host.controller.model
        if model is not None:  # the same model on another device, not whatever its file holds now
            self.host.controller.load_model(model.path, self.host.settings.device, model.sha256)

    def set_tiles(self, on: bool) -> None:
        self.host.settings.tiles = on
        mode = InferenceMode.TILES if on else InferenceMode.RESIZE
        self.host.controller.set_options(InferenceOptions(mode=mode))

    def show_model_info(self) -> None:
        if self.host.controller.model is not None:
            ModelInfoDialog(self.host.controller.model, self._parent).exec()

    def show_user_guide(self) -> None:
        problem = open_user_guide(self._parent)
        if problem:
            self.host.show_message(problem, "warning")

    def show_shortcuts(self) -> None:
        model = self.host.controller.model
        rows = all_shortcuts() if model is None else all_shortcuts(model.classes)
        KeyboardShortcutsDialog(rows, self._parent).exec()

    def show_about(self) -> None:
        QMessageBox.about(
            self._parent,
            "About Corroscope",
            f"Corroscope {app.__version__}\nSegmentation of corrosion on photos of pipes.",
        )
