"""Fixtures for the UI tests: offscreen Qt, settings in a temporary folder, tiny ONNX models, photos."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PySide6", reason="the UI tests need PySide6")
pytest.importorskip("onnx", reason="the UI tests build tiny ONNX models with onnx.helper")

from PySide6.QtCore import QCoreApplication, QSettings

from app.core import contract
from app.core.files import write_png
from app.core.synthetic import synthetic_pipe
from app.ui.settings import AppSettings
from tests.helpers.tiny_models import channel_model, figures_metadata

# Before pytest-qt makes the QApplication: no display needed.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TIMEOUT_MS = 30_000


@pytest.fixture(scope="session", autouse=True)
def _private_settings(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Even a stray default QSettings lands in a temporary folder, never the user's settings."""
    where = str(tmp_path_factory.mktemp("qsettings"))
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
            QSettings.setPath(fmt, scope, where)
    QCoreApplication.setOrganizationName("CorroscopeTests")
    QCoreApplication.setApplicationName("CorroscopeTests")


@pytest.fixture
def settings(tmp_path: Path) -> AppSettings:
    return AppSettings.at(tmp_path / "settings.ini")


@pytest.fixture(scope="session")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model with a range calibration and accuracy figures, as a shipped model has."""
    return channel_model(tmp_path_factory.mktemp("models") / "tiny.onnx", metadata=figures_metadata())


@pytest.fixture(scope="session")
def other_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second valid model (different file, so a different SHA-256)."""
    return channel_model(tmp_path_factory.mktemp("models2") / "tiny-b.onnx", sharpness=8.0)


@pytest.fixture(scope="session")
def bad_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid ONNX file that breaks the contract (no class list in its metadata)."""
    path = tmp_path_factory.mktemp("bad") / "no-classes.onnx"
    return channel_model(path, metadata={contract.KEY_CLASSES: None})


def photo(tmp_path: Path, seed: int, size=(96, 128), name: str | None = None) -> tuple[Path, np.ndarray]:
    rgb, _labels = synthetic_pipe(seed, size)
    path = tmp_path / (name or f"pipe_{seed:02d}.png")
    write_png(path, rgb)
    return path, rgb


@pytest.fixture
def photo_path(tmp_path: Path) -> Path:
    return photo(tmp_path, 3)[0]


@pytest.fixture(autouse=True)
def _no_unanswered_batch_question(monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder opened while a batch runs asks first (a modal box: a test would hang on it); a test that
    does so answers the question itself."""
    from app.ui import questions

    def unanswered(*_args) -> bool:
        raise AssertionError("asked whether to stop the running batch: the test must answer it")

    monkeypatch.setattr(questions, "ask_replace_running_batch", unanswered)


@pytest.fixture
def window(qtbot, settings: AppSettings, model_path: Path):
    """The real main window with the tiny model loaded."""
    from app.ui.main_window import MainWindow

    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.resize(1000, 700)
    win.show()
    with qtbot.waitSignal(win.controller.model_loaded, timeout=TIMEOUT_MS):
        win.controller.load_model(model_path, "cpu")
    yield win
    win.controller.shutdown()


def open_and_wait(qtbot, win, path: Path) -> None:
    with qtbot.waitSignal(win.controller.photo_analyzed, timeout=TIMEOUT_MS):
        win.open_photo(path)


def exported_pdf_text(qtbot, win, out: Path, stem: str) -> str:
    """File ▸ Export results… of the photo on screen as a PDF into `out`, then its text on one line (the
    "fi" ligature written out)."""
    from pypdf import PdfReader

    from app.ui import export_jobs

    written: list[list] = []
    win.controller.export_finished.connect(written.append)
    export_jobs.start_photo_export(win, out, ["pdf"])
    qtbot.waitUntil(lambda: len(written) >= 1, timeout=TIMEOUT_MS)
    text = " ".join(page.extract_text() for page in PdfReader(out / f"{stem}.pdf").pages)
    return " ".join(text.split()).replace("\ufb01", "fi")


def tab_into_date(qtbot, dialog) -> None:
    """Show a dialog with `asset` and `date` fields, and Tab from the asset into the date, as a user does."""
    from PySide6.QtCore import Qt

    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.asset.lineEdit().setFocus()
    qtbot.waitUntil(lambda: dialog.asset.lineEdit().hasFocus())
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Tab)
    assert dialog.date.hasFocus()
