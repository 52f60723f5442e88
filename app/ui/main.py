"""Start the desktop app: `main(argv) -> int` (called by `corroscope` / `corroscope gui`)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

import app
from app.core.model import default_model_path
from app.core.paths import resources_dir
from app.core.text import safe_path
from app.ui.settings import APPLICATION, ORGANIZATION, AppSettings


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="corroscope gui", description="Corroscope desktop app")
    parser.add_argument(
        "paths",
        nargs="*",  # text: Path() would fold a server URL's "//" and take it for a photo
        help="a photo or a project (*.corroscope, or a postgresql:// URL) to open, or folders/photos to run "
        "as a batch",
    )
    parser.add_argument("--model", type=Path, help="ONNX model to load instead of the bundled one")
    parser.add_argument(
        "--device", choices=("auto", "cpu"), help="auto tries CUDA first; kept in the settings"
    )
    parser.add_argument("--settings", type=Path, help="keep settings in this INI file (portable use, tests)")
    return parser.parse_args(list(argv))


def _startup_model(args: argparse.Namespace, settings: AppSettings) -> tuple[Path | None, str, bool]:
    """The model to load first: --model, else the one loaded by hand last time, else the bundled one;
    a note when the remembered one has gone; and whether it is the remembered one (refused, the bundled
    one loads in its place)."""
    if args.model:
        return args.model, "", False
    remembered = settings.model_path
    if remembered is not None and os.path.lexists(remembered) and not remembered.is_dir():
        return remembered, "", True  # there, even if no model (a named pipe): its load says why, not "gone"
    note = ""
    if remembered is not None and not _folder_reachable(remembered):
        note = (  # an offline drive or share: kept, so the site's model loads again once it is back
            f"The model loaded last time ({safe_path(remembered)}) cannot be reached: its folder is "
            "missing (an unplugged drive or an offline share?). The bundled model loads for now; the next "
            "start tries that model again (Model ▸ Return to the shipped model forgets it)."
        )
    elif remembered is not None:
        gone = safe_path(remembered)
        note = f"The model loaded last time ({gone}) is gone; the bundled model loads instead."
        settings.model_path = None
    return default_model_path(settings.device), note, False


def _folder_reachable(path: Path) -> bool:
    try:
        return path.parent.is_dir()
    except OSError:  # a share that answers with an error is not reachable either
        return False


def create_window(args: argparse.Namespace, settings: AppSettings):
    """The window with its model loading and the photos from the command line started."""
    from app.core.project import is_url
    from app.report import register_exporter
    from app.ui.main_window import MainWindow
    from app.ui.model_menu import NO_MODEL_TEXT

    register_exporter()  # the window's composition root: core's exporters gain the PDF report
    if args.device:
        settings.device = args.device
    window = MainWindow(settings)
    model_path, note, remembered = _startup_model(args, settings)
    urls = [t for t in args.paths if is_url(t)]  # a server's project, opened as any project is
    # named and exported to whole: the app may start anywhere
    paths = [Path(t).absolute() for t in args.paths if not is_url(t)]
    if (paths or urls) and model_path is not None:
        # After the model (the pool runs two workers at once): open them when it has loaded or failed.
        controller = window.controller

        def open_paths(*_args: object) -> None:
            if window.model_menu.falling_back:  # the remembered model was refused: the bundled one loads
                return
            controller.model_loaded.disconnect(open_paths)
            controller.model_refused.disconnect(open_paths)
            _open_keeping_warning(window, paths, urls)

        controller.model_loaded.connect(open_paths)
        controller.model_refused.connect(open_paths)
    elif paths or urls:
        QTimer.singleShot(0, lambda: _open_keeping_warning(window, paths, urls))
    if model_path is None:
        window.show_message(NO_MODEL_TEXT, "warning")
    elif remembered:
        window.model_menu.load_remembered(model_path)
    else:
        window.controller.load_model(model_path, settings.device)
        if note:
            window.show_message(note, "warning")
    return window


def _open_keeping_warning(window, paths: list[Path], urls: Sequence[str] = ()) -> None:
    """Open the command line's photos and project (a server's `urls`: the last one); a warning of the
    start (a model gone or refused, settings not saved) stays on the banner, which opening a photo
    clears of the last photo's messages."""
    warning = window.banner.text if window.banner.level == "warning" else ""
    if urls:
        window.projects.open(urls[-1])
    window.open_paths(paths)
    if warning and not window.banner.text:
        window.show_message(warning, "warning")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    qt_app = QApplication.instance() or QApplication([sys.argv[0]])
    qt_app.setOrganizationName(ORGANIZATION)
    qt_app.setApplicationName(APPLICATION)
    qt_app.setApplicationVersion(app.__version__)
    icon = resources_dir() / "icons" / "corroscope.png"
    if icon.is_file():
        qt_app.setWindowIcon(QIcon(str(icon)))
    settings = AppSettings.at(args.settings) if args.settings else AppSettings()
    window = create_window(args, settings)
    window.show()
    return int(qt_app.exec())


if __name__ == "__main__":
    sys.exit(main())
