"""Typed access to the app's QSettings (device, model, grade scale, geometry, folders, recent files,
export folders, opacity)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

from app.core.grading import GradeScale
from app.core.model import DEVICES
from app.core.paths import samples_dir
from app.core.report_header import ReportHeader
from app.core.text import UNDECODED, safe_path

ORGANIZATION = "Corroscope"
APPLICATION = "Corroscope"
MAX_RECENT = 10


class AppSettings:
    """One place that knows the keys; tests pass a QSettings on an INI file in a temporary folder."""

    def __init__(self, qsettings: QSettings | None = None, stands_for: str | None = None) -> None:
        """`stands_for`: the settings file asked for when `qsettings` is a stand-in (`open_settings`)."""
        if qsettings is None:
            qsettings, stands_for = open_settings(
                default_settings_path(), lambda: QSettings(ORGANIZATION, APPLICATION)
            )
        self._s = qsettings
        self._stands_for = stands_for
        # told once, with the file, when changes cannot be saved (the window's banner and status bar)
        self.on_unsaved: Callable[[str], None] | None = None
        self._unsaved_told = False
        self._undecodable = undecodable_keys(self._s)

    @classmethod
    def at(cls, ini_path: str | Path) -> AppSettings:
        """Settings kept in one INI file (tests, portable installs)."""
        return cls(
            *open_settings(str(ini_path), lambda: QSettings(str(ini_path), QSettings.Format.IniFormat))
        )

    @property
    def qsettings(self) -> QSettings:
        return self._s

    def _set(self, key: str, value: object) -> None:
        self._drop_undecodable()
        self._s.setValue(key, value)
        # Qt writes the file on its own a moment after a change; its status says whether the last write
        # failed (no file access here: an opacity slider writes at every step)
        if self._s.status() == QSettings.Status.AccessError:
            self.check_saved()

    def check_saved(self) -> None:
        """Tell `on_unsaved`, once, when the settings could not be read (the app runs on its defaults) or
        cannot be saved (a read-only place, a failed write)."""
        if self._unsaved_told or self.on_unsaved is None:
            return
        name = self._stands_for or self._s.fileName()
        unread = unreadable(name)
        if unread is None and self._s.status() != QSettings.Status.AccessError and self._s.isWritable():
            return
        self._unsaved_told = True
        where = safe_path(name)
        if unread is not None:  # Qt then saves nothing either: it reads the file before each write
            self.on_unsaved(
                f"Settings could not be read from {where} ({unread}): Corroscope runs on its defaults, "
                "and nothing is saved there, so changes made now are lost when Corroscope closes."
            )
            return
        self.on_unsaved(
            f"Settings cannot be saved to {where} (it cannot be written): "
            "changes made now are lost when Corroscope closes."
        )

    def _drop_undecodable(self) -> None:
        """Qt writes the whole file after a change, values that were not UTF-8 as it read them (cut or with
        U+FFFD), which the next start could not tell from typed ones: they go instead, absent as read."""
        for key in self._undecodable:
            self._s.remove(key)
        self._undecodable = frozenset()

    def _str(self, key: str, default: str) -> str:
        """The text at `key`; `default` when absent, not text, or not UTF-8 in the file (read as absent:
        Qt's reading of it is not what was written, and a name so read must never sign a review)."""
        value = self._s.value(key, default)
        if not isinstance(value, str) or key in self._undecodable or UNDECODED in value:
            return default
        return value

    # device -----------------------------------------------------------------------------------
    @property
    def device(self) -> str:
        value = self._str("inference/device", "auto")
        return value if value in DEVICES else "auto"

    @device.setter
    def device(self, value: str) -> None:
        if value not in DEVICES:
            raise ValueError(f"device must be one of {DEVICES}, got {value!r}")
        self._set("inference/device", value)

    # inference mode -----------------------------------------------------------------------------
    @property
    def tiles(self) -> bool:
        """Fine detail (tiles mode): the whole photo resized, then near class edges a second look in
        tiles of the photo at `InferenceOptions.tile_scale` (1.75) x the input size (docs/performance.md,
        "Fine mode"); off: the whole photo resized only."""
        return self._str("inference/mode", "resize") == "tiles"

    @tiles.setter
    def tiles(self, on: bool) -> None:
        self._set("inference/mode", "tiles" if on else "resize")

    # grade scale ------------------------------------------------------------------------------
    @property
    def grade_scale(self) -> GradeScale:
        try:
            return GradeScale.parse(self._str("report/grade_scale", GradeScale.ASTM_D610.value))
        except ValueError:
            return GradeScale.ASTM_D610

    @grade_scale.setter
    def grade_scale(self, value: GradeScale | str) -> None:
        self._set("report/grade_scale", GradeScale.parse(value).value)

    # folders and recent files -----------------------------------------------------------------
    @property
    def last_folder(self) -> str:
        """The folder last opened from; before any, the bundled samples (where a new user starts)."""
        samples = samples_dir()
        return self._str("files/last_folder", str(samples if samples.is_dir() else Path.home()))

    @last_folder.setter
    def last_folder(self, value: str | Path) -> None:
        self._set("files/last_folder", str(value))

    @property
    def recent_files(self) -> list[str]:
        try:
            items = json.loads(self._str("files/recent", "[]"))
        except (json.JSONDecodeError, RecursionError):  # a hand-edited file nested past the parser
            return []
        return [str(p) for p in items if isinstance(p, str)][:MAX_RECENT]

    def add_recent_file(self, path: str | Path) -> list[str]:
        """Put `path` first (once) and keep the newest MAX_RECENT; returns the new list."""
        path = str(path)
        items = [path] + [p for p in self.recent_files if p != path]
        items = items[:MAX_RECENT]
        self._set("files/recent", json.dumps(items))
        return items

    def remove_recent_file(self, path: str | Path) -> None:
        """`path` off the recent files (its file is gone)."""
        self._set("files/recent", json.dumps([p for p in self.recent_files if p != str(path)]))

    def clear_recent_files(self) -> None:
        self._set("files/recent", "[]")

    @property
    def last_server_url(self) -> str:
        """The server project opened last, as a URL without its password (kept in plain text)."""
        return self._str("projects/last_server_url", "")

    @last_server_url.setter
    def last_server_url(self, value: str) -> None:
        self._set("projects/last_server_url", value)

    # exports ----------------------------------------------------------------------------------
    def export_folder(self, kind: str) -> tuple[Path, Path] | None:
        """(the photos' folder, the folder exported to) of the last `kind` export, if any."""
        try:
            item = json.loads(self._str(f"export/{kind}", "null"))
        except (json.JSONDecodeError, RecursionError):
            return None
        if not isinstance(item, list) or len(item) != 2 or not all(isinstance(v, str) and v for v in item):
            return None
        return Path(item[0]), Path(item[1])

    def set_export_folder(self, kind: str, photo_folder: str | Path, folder: str | Path) -> None:
        self._set(f"export/{kind}", json.dumps([str(photo_folder), str(folder)]))

    # review -----------------------------------------------------------------------------------
    @property
    def inspector_name(self) -> str:
        """Who marks photos reviewed (asked once)."""
        return self._str("review/inspector", "").strip()

    @inspector_name.setter
    def inspector_name(self, value: str) -> None:
        self._set("review/inspector", value.strip())

    @property
    def inspection_inspector(self) -> str:
        """The inspector last typed for a new inspection (else the reviewer's name); kept apart from
        `inspector_name`, so recording a colleague's inspection never changes who signs reviews."""
        return self._str("project/inspector", "").strip() or self.inspector_name

    @inspection_inspector.setter
    def inspection_inspector(self, value: str) -> None:
        self._set("project/inspector", value.strip())

    @property
    def changes_by(self) -> str | None:
        """Who a project's change log names: the inspector's name, else None (the computer's account)."""
        return self.inspector_name or None

    # report header ----------------------------------------------------------------------------
    @property
    def report_header(self) -> ReportHeader:
        """The asset, location, client, inspector and date last typed for a report (the inspector
        defaults to the name given when marking photos reviewed)."""
        values = {name: self._str(f"report/{name}", "") for name, _label in ReportHeader.LABELS}
        values["inspector"] = values["inspector"] or self.inspector_name
        return ReportHeader(**values)

    @report_header.setter
    def report_header(self, header: ReportHeader) -> None:
        for name, value in header.to_dict().items():
            self._set(f"report/{name}", value)

    # model ------------------------------------------------------------------------------------
    @property
    def model_path(self) -> Path | None:
        """The model loaded by hand (kept across restarts); None: the bundled default."""
        value = self._str("model/path", "")
        return Path(value) if value else None

    @model_path.setter
    def model_path(self, value: str | Path | None) -> None:
        self._set("model/path", str(value) if value else "")

    @property
    def recursive(self) -> bool:
        """Open folder includes subfolders."""
        return self._str("files/recursive", "false") == "true"

    @recursive.setter
    def recursive(self, on: bool) -> None:
        self._set("files/recursive", "true" if on else "false")

    # overlay ----------------------------------------------------------------------------------
    def opacity(self, class_name: str, default: float) -> float:
        """The class's opacity, 0..1; `default` for what the app never writes (NaN, -3, "abc": a hand-edited
        file), which would otherwise hide the class at every start."""
        try:
            value = float(self._s.value(f"overlay/opacity/{class_name}", default))
        except (TypeError, ValueError):
            return default
        return value if 0.0 <= value <= 1.0 else default  # NaN fails the comparison too

    def set_opacity(self, class_name: str, value: float) -> None:
        self._set(f"overlay/opacity/{class_name}", f"{min(1.0, max(0.0, value)):.3f}")

    # window -----------------------------------------------------------------------------------
    @property
    def window_geometry(self) -> QByteArray | None:
        value = self._s.value("window/geometry")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    @window_geometry.setter
    def window_geometry(self, value: QByteArray) -> None:
        self._set("window/geometry", value)

    @property
    def window_state(self) -> QByteArray | None:
        value = self._s.value("window/state")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    @window_state.setter
    def window_state(self, value: QByteArray) -> None:
        self._set("window/state", value)

    def sync(self) -> None:
        self._s.sync()
        self.check_saved()


def default_settings_path() -> str | None:
    """Where Qt keeps the app's settings on Linux and other Unix systems (an INI file under its config
    folder), found without opening them; None elsewhere (the Windows registry, a macOS plist)."""
    if sys.platform in ("win32", "darwin"):
        return None
    config = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericConfigLocation)
    return os.path.join(config, ORGANIZATION, f"{APPLICATION}.conf")


def open_settings(path: str | None, make: Callable[[], QSettings]) -> tuple[QSettings, str | None]:
    """`make()`, unless the settings file at `path` is a named pipe, socket or device: Qt opens it before
    anything else and would wait on it for ever, the window never shown. Then a throwaway INI file
    stands in (the app runs on its defaults and says so) and the path it stands for comes back too."""
    if path is not None and os.path.exists(path) and not os.path.isdir(path) and not os.path.isfile(path):
        stand_in = Path(tempfile.mkdtemp(prefix="corroscope-settings-")) / "settings.ini"
        return QSettings(str(stand_in), QSettings.Format.IniFormat), path
    return make(), None


def unreadable(file_name: str) -> str | None:
    """Why the settings file `file_name` is there but cannot be read; None when it can or is not there yet
    (the first start), or is no file (the Windows registry)."""
    if not os.path.exists(file_name):
        return None
    if os.path.isdir(file_name):
        return "it is a folder"
    if not os.path.isfile(file_name):
        return "it is not a file"
    return None if os.access(file_name, os.R_OK) else "there is no permission to read it"


def _ini_path(qsettings: QSettings) -> Path | None:
    """The INI file behind `qsettings`, when it is one (not the Windows registry or a macOS plist)."""
    native_ini = sys.platform not in ("win32", "darwin")
    if qsettings.format() != QSettings.Format.IniFormat and not native_ini:
        return None
    path = Path(qsettings.fileName())
    return path if path.is_file() else None


def undecodable_keys(qsettings: QSettings) -> frozenset[str]:
    """The keys whose value in the INI file is not UTF-8: Qt reads U+FFFD for such bytes, or drops them
    when they end the value ("/tmp/caf\\xe9" reads "/tmp/caf"), so only the file's bytes tell."""
    path = _ini_path(qsettings)
    try:
        raw = path.read_bytes() if path is not None else b""
    except OSError:
        return frozenset()
    section, keys = "", set()
    for line in raw.splitlines():
        text = line.strip()
        if text.startswith(b"[") and text.endswith(b"]"):
            section = text[1:-1].decode("utf-8", "replace")
            continue
        key, equals, value = text.partition(b"=")
        if equals and not _is_utf8(value):
            name = key.strip().decode("utf-8", "replace").replace("\\", "/")
            keys.add(name if section in ("", "General") else f"{section}/{name}")
    return frozenset(keys)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
