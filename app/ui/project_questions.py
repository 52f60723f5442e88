"""The project's questions to the user: re-run a signed photo?, a server's URL; and when a re-run would
only store the same figures again, or would analyse another file than the stored photo."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QInputDialog, QWidget

from app.core.inference import InferenceMode, InferenceOptions
from app.core.model import SegmentationModel
from app.core.project.records import StoredResult
from app.core.report_header import time_text
from app.core.text import safe_path
from app.ui.questions import ask_no


def same_run(latest: StoredResult, model: SegmentationModel, options: InferenceOptions) -> bool:
    """The stored model result is what a re-run would give: the same model file in the same mode (and
    tile scale, in tiles mode; one not recorded may differ), and not signed since (re-running a signed
    photo brings the model's figures back, which has a purpose)."""
    same = (
        not latest.is_reviewed and latest.model_sha256 == model.sha256 and latest.mode == options.mode.value
    )
    return same and (options.mode is not InferenceMode.TILES or latest.tile_scale == options.tile_scale)


def changed_text(path: Path) -> str:
    """Why a stored photo is not opened or re-run: another file is at its place now."""
    return (
        f"{safe_path(path)} is not the photo the project stored: the file changed since it was added "
        "(another photo copied over it?). Its stored figures are not this file's; a re-run is refused. "
        "Put the stored photo back, or Find moved photos… looks for it by its content."
    )


def ask_rerun_reviewed(parent: QWidget | None, name: str, reviewed: StoredResult) -> bool:
    """Re-run a signed photo only on an explicit yes: the new figures would take the review's place."""
    when = f" on {time_text(reviewed.reviewed_at)}" if reviewed.reviewed_at else ""
    return ask_no(
        parent,
        "rerun_reviewed_question",
        "Re-run a reviewed photo",
        f"{name} counts with figures {reviewed.reviewed_by or 'an inspector'} reviewed{when}.",
        "Re-run the model",
        "Keep the review",
        "The model's new result would take the review's place in the tree, the trend, Compare and the "
        "export (the review stays in the photo's history; saving its signed mask again brings it back).",
    )


def ask_server_url(parent: QWidget | None, last: str = "") -> str:
    """The server's URL, typed in a dialog wide enough to read one whole and filled with `last` (the
    server opened before); "" when cancelled."""
    dialog = QInputDialog(parent)
    dialog.setObjectName("server_url_dialog")
    dialog.setWindowTitle("Open project on a server")
    dialog.setLabelText(
        "PostgreSQL URL, e.g. postgresql://user@host:5432/database\n"
        "(a password is read from ~/.pgpass or PGPASSWORD; one typed here is never saved)"
    )
    dialog.setTextValue(last)
    dialog.resize(max(dialog.sizeHint().width(), 560), dialog.sizeHint().height())
    return dialog.textValue().strip() if dialog.exec() else ""
