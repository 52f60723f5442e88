"""What the loaded model is: file, SHA-256, classes and colours, training metrics, providers."""

from __future__ import annotations

import html
import json
from itertools import islice
from pathlib import Path

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from app.core import contract
from app.core.adapt import KEY_ADAPTATION
from app.core.meta_json import strict_json
from app.core.model import SegmentationModel
from app.core.paths import models_dir
from app.core.text import PATH_LIMIT, safe_text
from app.ui.adaptation_info import adaptation_html, trained_on_text
from app.ui.screen_fit import resize_on_screen

_SHOWN = 400  # characters of one value the model states (metadata can hold megabytes)
_MAX_ENTRIES = 200  # metrics and classes listed; the rest are not shown


def model_file_text(path: Path) -> str:
    """A model bundled with the program by its name and where it is inside the program; any other by its
    whole path (which file is loaded must be unmistakable)."""
    try:
        inside = path.resolve().relative_to(models_dir().resolve())
    except ValueError:
        return str(path)
    return f"{inside.as_posix()} (bundled with Corroscope, in its models folder)"


def model_info_html(model: SegmentationModel) -> str:
    """The dialog's content as HTML (also used by tests)."""
    e = html.escape
    meta = model.metadata
    rows = [
        ("File", model_file_text(model.path)),
        ("SHA-256", model.sha256),
        ("Architecture", meta.get(contract.KEY_ARCHITECTURE, "not stated")),
        ("Backbone", meta.get(contract.KEY_BACKBONE, "not stated")),
        ("Trained on", trained_on_text(meta, meta.get(contract.KEY_TRAINED_ON, "not stated"))),
        ("Created", meta.get(contract.KEY_CREATED, "not stated")),
        ("Input size", "{} × {} (H × W)".format(*model.input_size)),
        ("Running on", f"{model.device} ({', '.join(model.providers)})"),
        ("Accuracy", model.accuracy_line),
        # figures the file states and the app set aside (implausible): which, and why
        *([("Accuracy set aside", model.accuracy_note)] if model.accuracy_note else []),
        ("Share range", _range_text(model)),
    ]
    members = _ensemble_members(meta.get(contract.KEY_ENSEMBLE))
    if members and KEY_ADAPTATION in meta:  # the members' files are the base model's, not in this one
        rows.insert(3, ("Ensemble", f"its base model's: {members}; their final classifiers refitted here"))
    elif members:
        rows.insert(3, ("Ensemble", members))
    if model.cuda_note:
        rows.append(("Why not CUDA", model.cuda_note))
    parts = ["<h3>Model</h3><table cellspacing=4>"]
    rows = [(k, safe_text(v, PATH_LIMIT if k == "File" else _SHOWN)) for k, v in rows]
    parts += [f"<tr><td><b>{e(k)}</b></td><td><code>{e(v)}</code></td></tr>" for k, v in rows]
    parts.append("</table><h3>Classes</h3><table cellspacing=4>")
    for c in model.classes:
        r, g, b = c.color
        parts.append(
            f"<tr><td>{c.id}</td><td style='background-color:rgb({r},{g},{b})'>&nbsp;&nbsp;&nbsp;&nbsp;</td>"
            f"<td>{e(c.name)}</td><td>RGB {r}, {g}, {b}</td></tr>"
        )
    split = model.metrics.get("split") if isinstance(model.metrics, dict) else None
    heading = f"Evaluation ({safe_text(split, 40)} split)" if isinstance(split, str) else "Evaluation"
    parts.append(f"</table><h3>{e(heading)}</h3>")
    no_metrics = ["<p>The model's metadata holds no metrics.</p>"]
    if model.metrics_note:  # it states some, unreadable: which, and why
        no_metrics = [f"<p>Not shown: {e(safe_text(model.metrics_note, _SHOWN))}.</p>"]
    elif KEY_ADAPTATION in meta:  # the base model's were not copied: they are not this file's
        no_metrics = ["<p>No validation figures: its own are the leave-one-out under Adaptation.</p>"]
    parts += _metrics_html(model.metrics) if model.metrics else no_metrics
    return "".join(parts + adaptation_html(meta))


def _range_text(model: SegmentationModel) -> str:
    """ "80 % range: held 81 % of inspectors' shares on held-out photos, mean width 20 points", or why
    the photos get none."""
    cal = model.range_calibration
    if cal is None:
        return model.range_note or "none"
    held = cal.held  # checked where the calibration was read, as the PDF's statement reads it
    if held.coverage is None or held.mean_width is None:
        return f"{cal.label} (its held-out coverage is not stated)"
    promise = cal.promise()
    return (
        f"{cal.label}: held {held.coverage * 100:.0f} % of inspectors' shares on held-out photos, "
        f"mean width {held.mean_width:.0f} points{'' if promise is None else '; ' + promise}"
    )


def _ensemble_members(raw: str | None) -> str | None:
    """'mean of 2 models: a.onnx (sha 1234abcd5678), ...' from `corroscope.ensemble`, or None."""
    if not raw:
        return None
    try:
        members = strict_json(raw)  # as every metadata value: nesting too deep is a ValueError too
        names = [f"{safe_text(m['file'])} (SHA-256 {safe_text(str(m['sha256'])[:12])})" for m in members[:20]]
    except ValueError as exc:
        return f"listed, but not readable ({safe_text(exc)})"
    except (TypeError, KeyError):
        return "listed, but not readable"
    return f"mean of {len(members)} models: {', '.join(names)}"


_PROTOCOLS = {"per_photo": "per photo, averaged over photos", "pooled": "pooled over all pixels"}
# The training pipeline's plain keys, in words (a key not listed shows as written).
_KEYS = {"data": "Data set", "n_photos": "Photos", "split": "Split", "model": "Model file", "mode": "Mode"}
_SCORES = ("iou", "dice", "precision", "recall")


def _metrics_html(metrics: dict) -> list[str]:
    """Per-class tables for each protocol in the training pipeline's summary; other keys as plain rows."""
    e = html.escape
    parts: list[str] = []
    for key, value in islice(metrics.items(), _MAX_ENTRIES):
        per_class = value.get("per_class") if isinstance(value, dict) else None
        if isinstance(per_class, dict):
            parts.append(f"<p><b>{e(_PROTOCOLS.get(key) or safe_text(key))}</b></p>")
            parts.append("<table cellspacing=4><tr><th>class</th>")
            parts += [f"<th>{e(s.upper() if s == 'iou' else s.capitalize())} %</th>" for s in _SCORES]
            parts.append("</tr>")
            for name, scores in islice(per_class.items(), _MAX_ENTRIES):
                scores = scores if isinstance(scores, dict) else {}
                cells = "".join(
                    f"<td align=right>{100 * scores[s]:.2f}</td>"
                    if isinstance(scores.get(s), float)
                    else "<td/>"
                    for s in _SCORES
                )
                parts.append(f"<tr><td>{e(safe_text(name))}</td>{cells}</tr>")
            parts.append("</table>")
            if isinstance(value.get("mean_iou"), float):
                parts.append(f"<p>mean IoU {100 * value['mean_iou']:.2f} %</p>")
        elif not isinstance(value, dict):
            text = f"{value:.4f}" if isinstance(value, float) else str(value)
            parts.append(f"<p><b>{e(_KEYS.get(key) or safe_text(key))}</b>: {e(safe_text(text, _SHOWN))}</p>")
        else:
            named = _KEYS.get(key) or safe_text(key)
            parts.append(f"<p><b>{e(named)}</b>: {e(safe_text(json.dumps(value), _SHOWN))}</p>")
    return parts


class ModelInfoDialog(QDialog):
    def __init__(self, model: SegmentationModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Model: {model.path.name}")
        resize_on_screen(self, 620, 520)
        self.browser = QTextBrowser()
        self.browser.setHtml(model_info_html(model))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
