"""The main window's Model and Help menu actions and what happens when a model loads (a mixin of
`MainWindow`: it uses the window's controller, settings, labels and banner)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

import app
from app.core.inference import InferenceMode, InferenceOptions
from app.core.model import SegmentationModel, default_model_path
from app.ui.adapt_ui import AdaptRun, ask_output, reviewed_photos
from app.ui.help_dialogs import KeyboardShortcutsDialog, open_user_guide
from app.ui.model_info_dialog import ModelInfoDialog
from app.ui.overlay_state import DEFAULT_OPACITY
from app.ui.window_actions import all_shortcuts

NO_MODEL_TEXT = (
    "No model is bundled (models/*.onnx is empty). Load one with Model ▸ Load model… "
    "(an ONNX file following the Corroscope model contract)."
)


class ModelMenuMixin:
    """Model ▸ load / default / CPU only / fine detail / information; Help ▸ guide, keys, about."""

    def _on_model_loaded(self, model: SegmentationModel) -> None:
        opacities = {c.name: self.settings.opacity(c.name, DEFAULT_OPACITY) for c in model.classes}
        self.overlay_state.set_classes(model.classes, opacities)
        # what runs first: the label is elided at its right end when the status bar is short of room
        text = f"Running on {model.device} · model {model.path.name}"
        self.provider_label.setText(text + (f" · {model.cuda_note}" if model.cuda_note else ""))
        self.provider_label.setToolTip(
            f"{self.provider_label.text()}\nSHA-256 {model.sha256}\nProviders: {', '.join(model.providers)}"
        )
        if self.banner.text == NO_MODEL_TEXT:
            self.banner.dismiss()
        if self._user_model is not None and model.path == self._user_model:
            self.settings.model_path = model.path  # loaded by hand: the next start loads it again
        self._user_model = None
        self.show_status(f"Loaded {model.describe()}", 8000)
        self._update_enabled()

    def _on_model_refused(self, message: str) -> None:
        self._user_model = None
        if self.controller.model is not None:
            kept = f"the previous model ({self.controller.model.path.name}) stays loaded"
        else:
            kept = "no model is loaded; load one with Model ▸ Load model…"
        self.show_message(f"Model refused, {kept}. {message}", "error")

    def load_model_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Load model", self.settings.last_folder, "ONNX models (*.onnx)"
        )
        if path:
            self.load_model_file(Path(path))

    def load_model_file(self, path: Path) -> None:
        """A model chosen by hand: remembered across restarts once it has loaded."""
        self._user_model = Path(path)
        self.controller.load_model(path, self.settings.device)

    def use_default_model(self) -> None:
        self.settings.model_path = None
        self._update_enabled()
        path = default_model_path(self.settings.device)
        if path is None:
            self.show_message(NO_MODEL_TEXT, "warning")
        else:
            self.controller.load_model(path, self.settings.device)

    def adapt_model_dialog(self) -> None:
        """Refit the loaded model to the reviewed masks of the batch's (or the folder's) photos."""
        model = self.controller.model
        if model is None:
            return
        pairs = reviewed_photos(self)
        if not pairs:
            self.show_message(
                "No reviewed masks found for these photos: review a few (Edit ▸ Mark reviewed, File ▸ Save "
                "reviewed mask), then adapt.",
                "warning",
            )
            return
        out = ask_output(self, pairs[0][0].parent)
        if out is None:
            return
        self._adapt_run = AdaptRun(self, model.path, pairs, out)  # kept until it ends
        self._adapt_run.start()

    def set_cpu_only(self, on: bool) -> None:
        self.settings.device = "cpu" if on else "auto"
        if self.controller.model is not None:
            self.controller.load_model(self.controller.model.path, self.settings.device)

    def set_tiles(self, on: bool) -> None:
        self.settings.tiles = on
        mode = InferenceMode.TILES if on else InferenceMode.RESIZE
        self.controller.set_options(InferenceOptions(mode=mode))

    def show_model_info(self) -> None:
        if self.controller.model is not None:
            ModelInfoDialog(self.controller.model, self).exec()

    def show_user_guide(self) -> None:
        problem = open_user_guide()
        if problem:
            self.show_message(problem, "warning")

    def show_shortcuts(self) -> None:
        KeyboardShortcutsDialog(all_shortcuts(), self).exec()

    def show_about(self) -> None:
        QMessageBox.about(
            self,
            "About Corroscope",
            f"Corroscope {app.__version__}\nSegmentation of corrosion on photos of pipes.",
        )
