"""Start the real Corroscope window on the sample photos and save screenshots into docs/images/.

Run through `scripts/screenshots` (Xvfb or offscreen). Each picture is the window (or dialog) as Qt
renders it on screen: photo with overlay and figures, the batch table, the model dialog, compare mode.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.core.model import default_model_path  # noqa: E402
from app.core.paths import samples_dir  # noqa: E402
from app.ui.main_window import MainWindow  # noqa: E402
from app.ui.model_info_dialog import ModelInfoDialog  # noqa: E402
from app.ui.settings import AppSettings  # noqa: E402


def wait(signal, timeout_ms: int = 120_000) -> None:
    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


def settle(ms: int = 300) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def pick_model(arg: Path | None, scratch: Path) -> tuple[Path, str]:
    if arg is not None:
        return arg, f"the model given ({arg.name})"
    bundled = default_model_path()
    if bundled is not None:
        return bundled, f"the bundled model ({bundled.name})"
    from tests.helpers.tiny_models import channel_model  # needs onnx (the dev extra)

    return channel_model(scratch / "channel-test-model.onnx"), "a tiny channel test model (none bundled)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    args = parser.parse_args(argv)
    app = QApplication(sys.argv[:1])
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        model_path, which = pick_model(args.model, scratch)
        settings = AppSettings.at(scratch / "settings.ini")  # never the user's settings
        # auto: the status bar shows what really runs and, on a machine without CUDA, why not
        window = MainWindow(settings)
        window.resize(1400, 900)
        window.show()
        window.controller.load_model(model_path, settings.device)
        wait(window.controller.model_loaded)
        photos = sorted(p for p in samples_dir().glob("*.jpg"))
        if not photos:
            print(f"no sample photos in {samples_dir()}", file=sys.stderr)
            return 1

        window.controller.run_batch_paths(photos)
        wait(window.controller.batch_finished)
        window.open_photo(photos[0])
        wait(window.controller.photo_analyzed)
        window.batch.table.selectRow(0)
        settle()
        saved = [save(window, args.out / "main-window.png")]

        window.overlay_state.set_comparing(True)
        settle()
        saved.append(save(window, args.out / "compare-plain-photo.png"))
        window.overlay_state.set_comparing(False)

        window.viewer.zoom_by(2.5)
        window.overlay_state.set_visible(1, False)
        settle()
        saved.append(save(window.viewer, args.out / "zoomed-corrosion-only.png"))

        dialog = ModelInfoDialog(window.controller.model, window)
        dialog.show()
        settle()
        saved.append(save(dialog, args.out / "model-info.png"))
        dialog.close()
        window.controller.shutdown()
        window.close()
    for path in saved:
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    print(f"model: {which}; platform: {app.platformName()}")
    return 0


def save(widget, path: Path) -> Path:
    if not widget.grab().save(str(path)):
        raise SystemExit(f"could not write {path}")
    return path


if __name__ == "__main__":
    sys.exit(main())
