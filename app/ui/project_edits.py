"""The project panel's edits: an asset's details (name, location, material, notes); an inspection's asset,
date, inspector or notes corrected, or the inspection removed from the project. The change is written on
a worker (a server may be slow); the panel reads the project again after."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import PurePath
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.core.project import Asset, Inspection, Project
from app.core.project.shown import is_stale
from app.core.text import counted
from app.ui.date_field import DateField, date_problem_label
from app.ui.forms import plain_label, short_words, tag_combo
from app.ui.project_texts import ASSET_FIELDS, correction_text, inspection_label
from app.ui.questions import ask_no
from app.ui.workers import Worker

if TYPE_CHECKING:
    from app.ui.host import ProjectsHost


def _notes_edit(text: str) -> QPlainTextEdit:
    """A few lines of notes; Tab moves on instead of typing a tab."""
    edit = QPlainTextEdit(text)
    edit.setTabChangesFocus(True)
    edit.setFixedHeight(edit.fontMetrics().lineSpacing() * 4 + 12)
    return edit


def _lay_out(dialog: QDialog, about: str, form: QFormLayout, ok: QDialogButtonBox.StandardButton) -> None:
    """What the dialog is about over its form, and its OK (`ok`) and Cancel buttons."""
    label = plain_label(short_words(about))
    label.setToolTip(about if label.text() != about else "")  # a long tag whole
    label.setWordWrap(True)
    buttons = QDialogButtonBox(ok | QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(label)
    layout.addLayout(form)
    layout.addWidget(buttons)
    dialog.buttons = buttons


class CorrectInspectionDialog(QDialog):
    """The inspection's asset, date (no later than tomorrow, as the store allows), inspector and notes."""

    def __init__(
        self,
        inspection: Inspection,
        tags: Sequence[str] = (),
        parent: QWidget | None = None,
        typed: Inspection | None = None,
    ) -> None:
        """`typed`: what was entered before (a correction the project refused), shown again to fix."""
        super().__init__(parent)
        self.setObjectName("correct_inspection")
        self.setWindowTitle("Correct inspection")
        self.inspection = inspection
        shown = typed or inspection
        d = shown.date
        self.date = DateField(d, max(_dt.date.today() + _dt.timedelta(days=1), d))
        # another tag moves the inspection there (a new tag: a new asset)
        self.asset = tag_combo(list(dict.fromkeys([inspection.asset_tag, *tags])), shown.asset_tag)
        self.inspector = QLineEdit(shown.inspector)
        self.notes = _notes_edit(shown.notes)
        form = QFormLayout()
        form.addRow("Asset", self.asset)
        form.addRow("Date", self.date)
        form.addRow(date_problem_label(self.date))
        form.addRow("Inspector", self.inspector)
        form.addRow("Notes", self.notes)
        about = (
            f"{inspection_label(inspection)}: {counted(inspection.photo_count, 'photo')}. Their figures, "
            "results and reviews stay as they are; the trend follows the new date."
        )
        _lay_out(self, about, form, QDialogButtonBox.StandardButton.Ok)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Correct")
        self.date.problem_changed.connect(lambda problem: ok.setEnabled(problem is None))
        ok.setEnabled(self.date.problem() is None)

    def accept(self) -> None:
        if self.date.problem() is not None:  # OK is off then; this holds for Enter in the date too
            self.date.setFocus()
            return
        super().accept()

    def values(self) -> tuple[str, _dt.date, str, str]:
        """(asset tag, date, inspector, notes) as entered."""
        date = self.date.value()
        return self.asset.currentText().strip(), date, self.inspector.text().strip(), self.notes.toPlainText()


class AssetDetailsDialog(QDialog):
    """An asset's name, location, material or coating and notes (its tag is what inspections use)."""

    def __init__(self, asset: Asset, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("asset_details")
        self.setWindowTitle(f"Asset {asset.tag}")
        self.fields = {name: QLineEdit(getattr(asset, name)) for name, _label in ASSET_FIELDS}
        self.notes = _notes_edit(asset.notes)
        form = QFormLayout()
        for name, label in ASSET_FIELDS:
            form.addRow(label, self.fields[name])
        form.addRow("Notes", self.notes)
        about = f"{asset.tag}: shown on its trend PDF and in the project's export."
        _lay_out(self, about, form, QDialogButtonBox.StandardButton.Save)

    def values(self) -> dict[str, str]:
        """Every detail as entered (an empty one clears it)."""
        found = {name: edit.text().strip() for name, edit in self.fields.items()}
        return found | {"notes": self.notes.toPlainText().strip()}


def ask_remove_inspection(parent: QWidget | None, inspection: Inspection) -> bool:
    """Remove only on an explicit yes (the default button keeps it)."""
    return ask_no(
        parent,
        "remove_inspection_question",
        "Remove inspection",
        f"Remove the inspection {inspection_label(inspection)} from the project?",
        "Remove",
        "Keep it",
        f"The records, results and reviews of its {counted(inspection.photo_count, 'photo')} leave the "
        "project. The photo files and any saved masks stay where they are.",
    )


def ask_remove_photo(parent: QWidget | None, name: str, inspection: Inspection) -> bool:
    """Remove only on an explicit yes (the default button keeps it)."""
    return ask_no(
        parent,
        "remove_photo_question",
        "Remove photo",
        f"Remove {name} from the inspection {inspection_label(inspection)}?",
        "Remove",
        "Keep it",
        "Its results and review leave the project; the inspection's figures and trend are made without it. "
        "The file and any saved mask stay where they are.",
    )


def _on_project(target: str, change: Callable[[Project], object]) -> object:
    """A worker's job: `change` the project through its own connection (this runs off the UI thread)."""
    with Project.open(target) as project:
        return change(project)


class ProjectEdits(QObject):
    """The panel's Asset details…, Correct inspection…, Remove inspection… and Remove photo… for the
    window's project: each written on a worker, then the panel reads the project again."""

    details_saved = Signal(str)  # the asset's tag, once stored
    corrected = Signal(int)  # the inspection's id, once stored
    removed = Signal(int)  # the inspection's id, once removed
    photo_removed = Signal(int)  # the stored photo's id, once removed

    def __init__(self, projects: ProjectsHost) -> None:
        super().__init__(projects)  # type: ignore[arg-type]  # the host is a QObject
        self.projects = projects
        self.dialog: CorrectInspectionDialog | None = None
        projects.panel.correct_inspection_requested.connect(self.correct_dialog)
        projects.panel.remove_inspection_requested.connect(self.remove)
        projects.panel.asset_details_requested.connect(self.details_dialog)
        projects.panel.remove_photo_requested.connect(self.remove_photo)
        self.details: AssetDetailsDialog | None = None

    @property
    def by(self) -> str | None:
        return self.projects.window.settings.changes_by

    def _inspection(self, inspection_id: int) -> Inspection | None:
        view = self.projects.view
        return None if view is None else next((i for i in view.inspections() if i.id == inspection_id), None)

    def correct_dialog(
        self, inspection_id: int, typed: Inspection | None = None
    ) -> CorrectInspectionDialog | None:
        inspection = self._inspection(inspection_id)
        if inspection is None or self.projects.project is None:
            return None
        tags = [a.tag for a in self.projects.view.assets()] if self.projects.view is not None else []
        parent = self.projects.window
        dialog = CorrectInspectionDialog(inspection, tags, parent, typed)  # type: ignore[arg-type]
        dialog.accepted.connect(lambda: self.correct(inspection, *dialog.values()))
        dialog.setModal(True)
        dialog.show()
        self.dialog = dialog
        return dialog

    def correct(
        self, inspection: Inspection, tag: str, date: _dt.date, inspector: str, notes: str
    ) -> Worker | None:
        after = replace(inspection, asset_tag=tag, date=date, inspector=inspector, notes=notes)
        text = correction_text(inspection, after)
        by, shown = self.by, inspection  # shown: only what the user changed is written, not all of it

        def change(p: Project) -> None:
            p.correct_inspection(inspection.id, tag, date, inspector, notes, by, shown)

        return self._start(
            change,
            lambda _none: text,
            self.corrected,
            inspection.id,
            # refused (a clash with another inspection): the dialog again with what was typed, to fix;
            # not when the view is out of date (the message says to reload first)
            refused=lambda message: None if is_stale(message) else self.correct_dialog(inspection.id, after),
        )

    def remove(self, inspection_id: int, ask=ask_remove_inspection) -> Worker | None:
        inspection = self._inspection(inspection_id)
        if inspection is None or self.projects.project is None:
            return None
        if not ask(self.projects.window, inspection):  # type: ignore[arg-type]
            return None
        label = inspection_label(inspection)
        return self._start(
            lambda p: p.remove_inspection(inspection.id, self.by),
            lambda n: f"Removed {label} ({counted(n, 'photo')}) from the project; the files stay.",
            self.removed,
            inspection.id,
        )

    def details_dialog(self, tag: str) -> AssetDetailsDialog | None:
        view = self.projects.view
        asset = None if view is None else view.asset(tag)
        if asset is None or self.projects.project is None:
            return None
        dialog = AssetDetailsDialog(asset, self.projects.window)  # type: ignore[arg-type]
        dialog.accepted.connect(lambda: self.save_details(tag, dialog.values(), asset))
        dialog.setModal(True)
        dialog.show()
        self.details = dialog
        return dialog

    def save_details(self, tag: str, details: dict[str, str], shown: Asset | None = None) -> Worker | None:
        """Store the details; with `shown` (as the dialog showed them) only those the user changed."""
        return self._start(
            lambda p: p.ensure_asset(tag, self.by, shown, **details),
            lambda _asset: f"Saved the details of asset {tag}.",
            self.details_saved,
            tag,
        )

    def remove_photo(self, photo_id: int, ask=ask_remove_photo) -> Worker | None:
        view = self.projects.view
        photo = None if view is None else view.photo(photo_id)
        inspection = None if photo is None else self._inspection(photo.inspection_id)
        if photo is None or inspection is None or self.projects.project is None:
            return None
        name = PurePath(photo.path).name
        if inspection.photo_count == 1:  # the store refuses it too; say so before asking
            self.projects.window.show_message(
                f"{name} is the only photo of {inspection_label(inspection)}: remove the inspection instead.",
                "warning",
            )
            return None
        if not ask(self.projects.window, name, inspection):  # type: ignore[arg-type]
            return None
        text = f"Removed {name} from {inspection_label(inspection)}; the file stays."
        change = lambda p: p.remove_photo(photo_id, self.by)  # noqa: E731
        return self._start(change, lambda _none: text, self.photo_removed, photo_id)

    def _start(
        self,
        change,
        said: Callable[[object], str],
        signal,
        key: object,
        refused: Callable[[str], object] | None = None,
    ) -> Worker | None:
        """Run `change(project)` on a worker; then the panel reads the project again, the banner says
        `said(what change returned)` and `signal` carries `key` (a failure: the reason in the banner,
        then `refused(reason)`)."""
        if self.projects.project is None:
            return None
        worker = Worker(_on_project, self.projects.target, change)
        worker.signals.returned.connect(lambda out: self._done(said(out)))
        worker.signals.returned.connect(lambda _out: signal.emit(key))
        worker.signals.failed.connect(self.projects.job_failed)
        if refused is not None:
            worker.signals.failed.connect(refused)
        return self.projects.window.controller.pool.start(worker)

    def _done(self, text: str) -> None:
        self.projects.panel.refresh()
        self.projects.window.show_message(text, "info")
