"""What the loaded model is: file, SHA-256, classes and colours, training metrics, providers."""

from __future__ import annotations

import html
import json

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from app.core import contract
from app.core.model import SegmentationModel


def model_info_html(model: SegmentationModel) -> str:
    """The dialog's content as HTML (also used by tests)."""
    e = html.escape
    meta = model.metadata
    rows = [
        ("File", str(model.path)),
        ("SHA-256", model.sha256),
        ("Architecture", meta.get(contract.KEY_ARCHITECTURE, "not stated")),
        ("Backbone", meta.get(contract.KEY_BACKBONE, "not stated")),
        ("Trained on", meta.get(contract.KEY_TRAINED_ON, "not stated")),
        ("Created", meta.get(contract.KEY_CREATED, "not stated")),
        ("Input size", "{} × {} (H × W)".format(*model.input_size)),
        ("Running on", f"{model.device} ({', '.join(model.providers)})"),
    ]
    if model.cuda_note:
        rows.append(("Why not CUDA", model.cuda_note))
    parts = ["<h3>Model</h3><table cellspacing=4>"]
    parts += [f"<tr><td><b>{e(k)}</b></td><td><code>{e(v)}</code></td></tr>" for k, v in rows]
    parts.append("</table><h3>Classes</h3><table cellspacing=4>")
    for c in model.classes:
        r, g, b = c.color
        parts.append(
            f"<tr><td>{c.id}</td><td style='background-color:rgb({r},{g},{b})'>&nbsp;&nbsp;&nbsp;&nbsp;</td>"
            f"<td>{e(c.name)}</td><td>RGB {r}, {g}, {b}</td></tr>"
        )
    parts.append("</table><h3>Training metrics (test split)</h3>")
    if model.metrics:
        parts.append("<table cellspacing=4>")
        for key, value in model.metrics.items():
            text = value if isinstance(value, str) else json.dumps(value)
            if isinstance(value, float):
                text = f"{value:.4f}"
            parts.append(f"<tr><td><b>{e(str(key))}</b></td><td>{e(text)}</td></tr>")
        parts.append("</table>")
    else:
        parts.append("<p>The model's metadata holds no metrics.</p>")
    return "".join(parts)


class ModelInfoDialog(QDialog):
    def __init__(self, model: SegmentationModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Model: {model.path.name}")
        self.resize(620, 520)
        self.browser = QTextBrowser()
        self.browser.setHtml(model_info_html(model))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
