"""Small helpers for form panels and labels."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel

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
