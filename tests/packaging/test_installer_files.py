"""The Windows installer script and the Linux desktop entry: photos open with Corroscope, nothing hijacked."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ISS = ROOT / "installer" / "corroscope.iss"
DESKTOP = ROOT / "packaging" / "linux" / "corroscope.desktop"
PHOTO_EXTENSIONS = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp")


def _sections(text: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(";") or line.startswith("#"):
            continue
        match = re.fullmatch(r"\[(\w+)\]", line)
        if match:
            current = match.group(1)
            sections.setdefault(current, [])
        else:
            sections.setdefault(current, []).append(line)
    return sections


def _entry(line: str) -> dict[str, str]:
    """An Inno Setup entry line `Name: "value"; Other: value` as a dict."""
    fields = {}
    for match in re.finditer(r'(\w+):\s*("(?:[^"]|"")*"|[^;]*)', line):
        value = match.group(2).strip()
        if value.startswith('"') and value.endswith('"'):
            value = value[1:-1].replace('""', '"')
        fields[match.group(1)] = value
    return fields


def _iss() -> dict[str, list[str]]:
    return _sections(ISS.read_text(encoding="utf-8"))


def _defines() -> dict[str, str]:
    return dict(re.findall(r'#define (\w+) "([^"]*)"', ISS.read_text(encoding="utf-8")))


def test_installs_the_one_folder_build_recursively():
    defines = _defines()
    assert defines["SourceDir"].replace("\\", "/") == "../dist/corroscope"
    files = [_entry(line) for line in _iss()["Files"]]
    assert any(f["Source"] == "{#SourceDir}\\*" and "recursesubdirs" in f["Flags"] for f in files)


def test_start_menu_entry_and_uninstaller():
    setup = dict(line.split("=", 1) for line in _iss()["Setup"])
    assert setup["DefaultGroupName"] == "{#AppName}"
    assert "{#GuiExe}" in setup["UninstallDisplayIcon"]
    assert setup["ChangesAssociations"] == "yes"
    icons = [_entry(line) for line in _iss()["Icons"]]
    assert any(i["Name"].startswith("{group}") and i["Filename"] == "{app}\\{#GuiExe}" for i in icons)
    assert any(i["Filename"] == "{uninstallexe}" for i in icons)
    assert (ROOT / "resources" / "icons" / "corroscope.ico").is_file()
    assert _defines()["GuiExe"] == "corroscope-gui.exe"


def test_every_photo_type_opens_with_corroscope_without_becoming_the_default():
    registry = [_entry(line) for line in _iss()["Registry"]]
    for ext in PHOTO_EXTENSIONS:
        open_with = [r for r in registry if r["Subkey"] == f"Software\\Classes\\{ext}\\OpenWithProgids"]
        assert len(open_with) == 1, ext
        assert open_with[0]["ValueName"] == "{#ProgId}"
        assert "uninsdeletevalue" in open_with[0]["Flags"]
        supported = [r for r in registry if r["Subkey"].endswith("SupportedTypes") and r["ValueName"] == ext]
        assert len(supported) == 1, ext
    # Hijacking would be writing the default value of an extension key (or its whole key).
    for r in registry:
        if re.fullmatch(r"Software\\Classes\\\.\w+", r["Subkey"]):
            raise AssertionError(f"writes the default program of {r['Subkey']}")
    commands = [r["ValueData"] for r in registry if r["Subkey"].endswith("shell\\open\\command")]
    assert commands and all(c == '"{app}\\{#GuiExe}" "%1"' for c in commands)


def test_desktop_entry_offers_corroscope_for_photos():
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(DESKTOP, encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Exec"].split()[0] == "corroscope"
    assert entry["Exec"].split()[1] in ("%f", "%F")
    assert entry["Terminal"] == "false"
    mime = set(filter(None, entry["MimeType"].split(";")))
    assert mime == {"image/jpeg", "image/png", "image/tiff", "image/bmp", "image/webp"}
    assert (ROOT / "resources" / "icons" / f"{entry['Icon']}.png").is_file()
    assert (ROOT / "resources" / "icons" / f"{entry['Icon']}.svg").is_file()
    assert entry["Categories"].endswith(";")
