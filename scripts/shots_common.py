"""What the screenshot scripts share: their two arguments, the model to show, the real window on a scratch
settings file with that model loaded, waiting on Qt, saving a widget and the closing lines.

Each `scripts/*screenshots.py` runs `with shooting_window(args) as shot:` and saves pictures of
`shot.window`; `scripts/screenshots` runs them all (under Xvfb when it can).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QEventLoop, QPoint, QTimer  # noqa: E402
from PySide6.QtGui import QAction  # noqa: E402
from PySide6.QtWidgets import QApplication, QMenu  # noqa: E402

from app.core.model import default_model_path  # noqa: E402
from app.ui.main_window import MainWindow  # noqa: E402
from app.ui.settings import AppSettings  # noqa: E402

WINDOW_SIZE = (1400, 900)  # the guide's pictures: wide enough for the toolbar in one row


def wait(signal, timeout_ms: int = 120_000) -> None:
    """Run Qt's events until `signal` fires (or the timeout)."""
    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


def settle(ms: int = 300) -> None:
    """Run Qt's events for `ms` (repaints, layouts, queued signals)."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def save(widget, path: Path) -> Path:
    if not widget.grab().save(str(path)):
        raise SystemExit(f"could not write {path}")
    return path


def save_model_menu(window: MainWindow, path: Path, active: QAction | None = None) -> Path:
    """The window's Model menu opened as a user opens it (`active` highlighted), saved to `path`."""
    menu = window.menuBar().findChild(QMenu, "menu_model")
    if menu is None:
        raise SystemExit("no Model menu")
    menu.popup(window.mapToGlobal(QPoint(200, 30)))
    if active is not None:
        menu.setActiveAction(active)
    settle(500)
    saved = save(menu, path)
    menu.close()
    return saved


def pick_model(arg: Path | None, scratch: Path) -> tuple[Path, str]:
    """The model given, else the bundled one, else a tiny channel test model; and words saying which."""
    if arg is not None:
        return arg, f"the model given ({arg.name})"
    bundled = default_model_path()
    if bundled is not None:
        return bundled, f"the bundled model ({bundled.name})"
    return channel_test_model(scratch)


def channel_test_model(scratch: Path) -> tuple[Path, str]:
    """The tiny channel test model (red -> corrosion, blue -> asset); needs onnx (the dev extra)."""
    from tests.helpers.tiny_models import channel_model

    return channel_model(scratch / "channel-test-model.onnx"), "a tiny channel test model"


def parse_args(doc: str | None, argv: list[str] | None) -> argparse.Namespace:
    """--model FILE and --out FOLDER (default docs/images, made if missing)."""
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    return args


@dataclass(frozen=True)
class Shot:
    """The window being shot, a scratch folder deleted afterwards, and which model it shows (and the
    application, kept alive while the shot is)."""

    app: QApplication
    window: MainWindow
    scratch: Path
    which: str


@contextmanager
def shooting_window(
    args: argparse.Namespace,
    device: str | None = "cpu",
    model: Callable[[Path], tuple[Path, str]] | None = None,
) -> Iterator[Shot]:
    """The real window (settings in a scratch file, never the user's), shown at `WINDOW_SIZE`, with the
    model loaded: `model(scratch)` where given, else `pick_model`; `device` None: the settings' (auto,
    so the status bar says what really runs). Closed afterwards with nothing to ask."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        model_path, which = (
            model(scratch) if model is not None and args.model is None else pick_model(args.model, scratch)
        )
        settings = AppSettings.at(scratch / "settings.ini")
        window = MainWindow(settings)
        window.resize(*WINDOW_SIZE)
        window.show()
        window.controller.load_model(model_path, device or settings.device)
        wait(window.controller.model_loaded)
        try:
            yield Shot(app, window, scratch, which)
        finally:
            window.editing.edits.sessions.clear()  # nothing to ask on close
            window.controller.shutdown()
            window.close()


def report(saved: list[Path], which: str) -> int:
    """Print what was written (relative to the repository where inside it) and with what; 0."""
    for path in saved:
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    print(f"model: {which}; platform: {QApplication.instance().platformName()}")
    return 0
