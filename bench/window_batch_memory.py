"""The window's memory over a long batch: resident size before and after a folder of photos runs through
the window's batch (offscreen), with and without giving freed memory back every 50 photos.

    python -m bench.window_batch_memory FOLDER [--model FILE]

Each setting runs in its own process (a fresh heap); the line printed per setting is
`trim=<on|off> rows=N rss_start_mb=… rss_end_mb=… rss_peak_mb=… seconds=…`, then the ratio of the two
ends.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _rss_mb(field: str = "VmRSS") -> int:
    """Resident size now (VmRSS) or at its highest so far (VmHWM), in MB."""
    status = Path("/proc/self/status").read_text()
    return int(status.split(f"{field}:")[1].split()[0]) // 1024


def _child(folder: Path, model: Path | None, trim: bool) -> None:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QEventLoop, QSettings
    from PySide6.QtWidgets import QApplication

    import app.ui.controller as controller
    from app.core.model import default_model_path
    from app.ui.main_window import MainWindow
    from app.ui.settings import AppSettings

    if not trim:
        controller.release_free_memory = lambda: False
    qt = QApplication([])
    ini = Path(tempfile.mkdtemp()) / "settings.ini"
    window = MainWindow(AppSettings(QSettings(str(ini), QSettings.Format.IniFormat)))
    loaded = QEventLoop()
    window.controller.model_loaded.connect(lambda *_a: loaded.quit())
    window.controller.load_model(model or default_model_path("cpu"), "cpu")
    loaded.exec()
    start, begin = _rss_mb(), time.perf_counter()
    done = QEventLoop()
    window.controller.batch_finished.connect(lambda *_a: done.quit())
    window.open_folder(folder)
    done.exec()
    seconds = time.perf_counter() - begin
    rows = len(window.batch_model.rows)
    print(f"trim={'on' if trim else 'off'} rows={rows} rss_start_mb={start} rss_end_mb={_rss_mb()} "
          f"rss_peak_mb={_rss_mb('VmHWM')} seconds={seconds:.1f}", flush=True)  # fmt: skip
    window.controller.shutdown()
    qt.quit()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.window_batch_memory", description=__doc__.splitlines()[0]
    )
    p.add_argument("folder", type=Path)
    p.add_argument("--model", type=Path)
    p.add_argument("--child", choices=("on", "off"), help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if not sys.platform.startswith("linux"):
        print("resident size is read from /proc: Linux only", file=sys.stderr)
        return 2
    if a.child:
        _child(a.folder, a.model, a.child == "on")
        return 0
    ends = {}
    for setting in ("off", "on"):
        cmd = [sys.executable, "-m", "bench.window_batch_memory", str(a.folder), "--child", setting]
        cmd += ["--model", str(a.model)] if a.model else []
        line = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
        print(line)
        ends[setting] = int(line.split("rss_end_mb=")[1].split()[0])
    print(f"end resident size, trim on / off: {ends['on'] / ends['off']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
