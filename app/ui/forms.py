"""Small helpers for form panels and labels."""

from __future__ import annotations

import re
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel

# A wrapping field is kept at least this wide beside its label; where label and field do not both fit,
# the form (`WrapLongRows`) puts the field under its label, so a narrow panel still reads a sentence per
# line rather than three words per line.
FIELD_MIN_WIDTH = 170


def form_values(form: QFormLayout) -> dict[str, str]:
    """What a form shows, label -> text (for tests and copy)."""
    out = {}
    for row in range(form.rowCount()):
        label = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
        field = form.itemAt(row, QFormLayout.ItemRole.FieldRole)
        if label and field:
            out[label.widget().text().rstrip(":")] = field.widget().text()
    return out


def plain_label(text: str = "") -> QLabel:
    """A label that shows its text as written: names and notes typed by people (an asset tag, a file
    name, a reviewer's note) are never read as rich text, which would hide "<weld>" or draw "<b>"."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def tag_combo(tags: Sequence[str], current: str) -> QComboBox:
    """An editable asset-tag field offering `tags`: a long tag is elided in it (whole in the tooltip),
    so a 500-character tag does not widen its dialog off the screen."""
    box = QComboBox()
    box.setEditable(True)
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(24)  # "P-101-A-NORTH-SPOOL-12" whole; longer ones scroll in the field
    for tag in tags:
        box.addItem(tag)
        box.setItemData(box.count() - 1, tag, Qt.ItemDataRole.ToolTipRole)
    box.currentTextChanged.connect(box.setToolTip)
    box.setCurrentText(current)
    box.setToolTip(current)
    return box


def short_words(text: str, limit: int = 60) -> str:
    """`text` with each word longer than `limit` cut in its middle ("P-7777…7777"): a label cannot wrap
    inside a word, so one 500-character tag widened its dialog off the screen."""
    half = (limit - 1) // 2
    return re.sub(rf"\S{{{limit + 1},}}", lambda m: f"{m[0][:half]}…{m[0][-half:]}", text)
