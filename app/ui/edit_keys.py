"""The Edit menu's tools, actions and keys, also listed by Help ▸ Keyboard shortcuts."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtGui import QKeySequence

from app.core.palette import DEFAULT_CLASSES, ClassInfo
from app.ui.actions import ActionSpec

SK = QKeySequence.StandardKey
# (name, menu text, key, tip): the tools, one at a time
TOOLS = (
    ("pan", "&Pan and zoom", "H", "Drag to pan, wheel to zoom (no editing)"),
    ("brush", "&Brush", "B", "Paint the chosen class; [ and ] change the size"),
    ("eraser", "&Eraser", "E", "Paint the model's own classes back"),
    (
        "polygon",
        "Pol&ygon / lasso fill",
        "L",
        "Click vertices (click the first or right-click to fill), or drag a lasso",
    ),
    ("fill", "&Flood fill", "F", "Give the clicked connected region to the chosen class"),
    (
        "smart",
        "&Smart select",
        "S",
        "Drag a box around the pipe (outside it becomes background; Ctrl+drag keeps it); "
        "click to include, Shift+click to exclude",
    ),
    (
        "similar",
        "Se&lect similar rust",
        "W",
        "Click a rust patch: similar connected pipe pixels become corrosion",
    ),
)
# (what, mouse gesture) of the smart-select tool, for Help ▸ Keyboard shortcuts beside the tools' keys
SMART_GESTURES = (
    ("Smart select: a box that keeps the mask outside it", "Ctrl+drag"),
    ("Smart select: exclude a part", "Shift+click"),
)
EDIT_ACTIONS = (
    ActionSpec("undo", "&Edit", "&Undo", "undo", SK.Undo, more_shortcuts=("Ctrl+Z",)),
    ActionSpec("redo", "&Edit", "&Redo", "redo", "Ctrl+Shift+Z", more_shortcuts=("Ctrl+Y",)),
    ActionSpec("brush_bigger", "&Edit", "Bigger brush", "bigger", "]", separator_before=True),
    ActionSpec("brush_smaller", "&Edit", "Smaller brush", "smaller", "["),
    ActionSpec(
        "cancel_tool", "&Edit", "Cancel the shape being drawn or the fill running", "cancel_tool", "Esc"
    ),
    ActionSpec(
        "mark_reviewed", "&Edit", "&Mark reviewed…", "mark_reviewed", "Ctrl+Shift+R", separator_before=True
    ),
    ActionSpec("revert", "&Edit", "Re&vert to the model's mask…", "revert", None),
    ActionSpec("inspector", "&Edit", "Inspector &name…", "change_inspector", None),
    ActionSpec("save_reviewed", "&File", "&Save corrected mask…", "save_reviewed_mask", SK.Save),
    ActionSpec(
        "save_all_reviewed",
        "&File",
        "Save &all corrected masks",
        "save_all_corrected",
        "Ctrl+Shift+S",
        tip="every photo edited or signed in this window and not saved, each to its results folder",
    ),
    ActionSpec("open_reviewed", "&File", "Open corrected mas&k…", "open_reviewed_mask_dialog", None),
    ActionSpec(
        "export_training", "&File", "Export reviewed photos as &training data…", "export_training", None
    ),
)


# The default classes keep the one-letter keys inspectors learned (C, P for pipe, N for none).
LETTER_KEYS = {"corrosion": "C", "asset": "P", "background": "N"}


def paint_keys(index: int, name: str) -> list[str]:
    """The keys of the paint action of the model's class number `index` (from 0) named `name`: its
    letter for a default class, and Alt+1 … Alt+9 by position (plain 1 … 9 show or hide the overlay's
    classes)."""
    keys = [LETTER_KEYS[name]] if name in LETTER_KEYS else []
    return keys + ([f"Alt+{index + 1}"] if index < 9 else [])


def paint_text(info: ClassInfo) -> str:
    return f"Paint {info.name}".replace("&", "&&")  # a class name is shown, never a mnemonic


def edit_shortcuts(classes: Sequence[ClassInfo] = DEFAULT_CLASSES) -> list[tuple[str, str, str]]:
    """(where, what, keys) of the edit tools and of painting `classes` (the loaded model's), for Help ▸
    Keyboard shortcuts."""
    rows = [("Edit", text.replace("&", ""), key) for _n, text, key, _t in TOOLS]
    rows += [("Edit", what, gesture) for what, gesture in SMART_GESTURES]
    for i, c in enumerate(classes):
        if keys := paint_keys(i, c.name):
            rows.append(("Edit", f"Paint {c.name}", ", ".join(keys)))
    return rows
