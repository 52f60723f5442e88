"""Small helpers for form panels."""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout


def form_values(form: QFormLayout) -> dict[str, str]:
    """What a form shows, label -> text (for tests and copy)."""
    out = {}
    for row in range(form.rowCount()):
        label = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
        field = form.itemAt(row, QFormLayout.ItemRole.FieldRole)
        if label and field:
            out[label.widget().text().rstrip(":")] = field.widget().text()
    return out
