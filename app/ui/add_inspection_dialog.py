"""The "Add inspection" dialog: asset, date, inspector, notes, and the photos or folders to analyse (the
batch's photos in one click; a photo added by mistake taken off the list with Delete)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.batch_inputs import photos_in
from app.core.left_out import left_out_line
from app.core.paths import models_dir, resources_dir
from app.core.photos import IMAGE_EXTENSIONS
from app.core.text import display_path
from app.ui.date_field import DateField, date_problem_label
from app.ui.forms import plain_label, tag_combo
from app.ui.workers import Worker, WorkerPool

IMAGE_FILTER = "Photos ({})".format(" ".join(f"*{e}" for e in IMAGE_EXTENSIONS))


@dataclass(frozen=True)
class InspectionRequest:
    asset_tag: str
    date: _dt.date
    inspector: str
    paths: tuple[Path, ...]
    notes: str = ""


def _listing(paths: list[Path]) -> tuple[list[Path], str | None]:
    """Worker job: the photos among `paths` (folders listed, not recursed) and what is left out."""
    return photos_in(paths), left_out_line(paths)


def photos_start_folder(last_added: str, project_folder: Path | None, last_folder: str) -> str:
    """Where Add photos… and Add folder… open: the folder photos were last added from, else the project
    file's folder (its photo folders usually lie beside it), else the window's last folder, but never
    inside the app's own install (the bundled samples, a new user's last folder): then the home folder."""
    for folder in (last_added, str(project_folder or ""), last_folder):
        if folder and Path(folder).is_dir() and not _in_the_install(Path(folder)):
            return folder
    return str(Path.home())


def _in_the_install(folder: Path) -> bool:
    resolved = folder.resolve()
    return any(resolved.is_relative_to(place.resolve()) for place in (resources_dir(), models_dir()))


class AddInspectionDialog(QDialog):
    listed = Signal()  # the photos of the last add_paths are in the list

    def __init__(
        self,
        asset_tags: Sequence[str],
        start_folder: str = "",
        parent: QWidget | None = None,
        inspector: str = "",
        batch_photos: Sequence[Path] = (),
        current_tag: str | None = None,
    ) -> None:
        """`inspector`: the name the app already holds (Edit ▸ Inspector name…), pre-filled;
        `batch_photos`: the window's batch, offered as one button; `current_tag`: the asset picked in the
        tree, proposed (else the first)."""
        super().__init__(parent)
        self.setWindowTitle("Add inspection")
        self._folder = start_folder
        self.asset = tag_combo(asset_tags, current_tag or (asset_tags[0] if asset_tags else ""))
        self.asset.lineEdit().selectAll()  # a new tag typed replaces the proposed one
        self.asset.lineEdit().setPlaceholderText("asset tag, e.g. P-101-A")
        today = _dt.date.today()
        self.date = DateField(today, today + _dt.timedelta(days=1))  # as the store allows (time zones)
        self.inspector = QLineEdit(inspector)
        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText("Optional: weather, access, what was not photographed…")
        self.notes.setTabChangesFocus(True)
        self.notes.setFixedHeight(self.fontMetrics().lineSpacing() * 3 + 12)
        self.photos = QListWidget()
        self.photos.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.left_out_label = plain_label()  # what a picked folder holds named like a photo but not read
        self.left_out_label.setWordWrap(True)
        self.left_out_label.hide()
        self._paths: list[Path] = []  # the photos listed, in order
        self._lists_pending = 0  # listings still on the worker: the photos are not all in the list yet
        self.pool = WorkerPool(self, max_threads=1)  # a share may hold thousands of files
        add_photos, add_folder = QPushButton("Add photos…"), QPushButton("Add folder…")
        add_photos.clicked.connect(self._pick_photos)
        add_folder.clicked.connect(self._pick_folder)
        self.add_batch = QPushButton(f"Batch photos ({len(batch_photos)})")
        self.add_batch.setToolTip("The photos of the batch below")
        self.add_batch.setVisible(bool(batch_photos))
        self.add_batch.clicked.connect(lambda: self.add_paths(list(batch_photos)))
        self.remove = QPushButton("Remove")
        self.remove.setToolTip("Take the selected photos off the list (Delete)")
        self.remove.clicked.connect(self.remove_selected)
        self.remove.setEnabled(False)
        self.photos.itemSelectionChanged.connect(
            lambda: self.remove.setEnabled(bool(self.photos.selectedItems()))
        )
        self.photos.installEventFilter(self)  # Delete in the list takes the selected photos off
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Analyse and store")
        # Enter is Analyse and store: a focused push button of a dialog is its default otherwise, and the
        # focus stays on Add photos… after it, so Enter opened the file dialog again
        for button in (add_photos, add_folder, self.add_batch, self.remove):
            button.setAutoDefault(False)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Asset", self.asset)
        form.addRow("Date", self.date)
        form.addRow(date_problem_label(self.date))
        form.addRow("Inspector", self.inspector)
        form.addRow("Notes", self.notes)
        pick = QHBoxLayout()
        for button in (add_photos, add_folder, self.add_batch, self.remove):
            pick.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(pick)
        layout.addWidget(self.photos, 1)
        layout.addWidget(self.left_out_label)
        layout.addWidget(self.buttons)
        self.asset.currentTextChanged.connect(self._update_ok)
        self.date.problem_changed.connect(self._update_ok)
        self._update_ok()

    def add_paths(self, paths: Sequence[Path]) -> Worker:
        """Photos (folders are listed on a worker, not recursed) into the list, each once; `listed`
        follows. The paths are kept as Python paths: a name that is not UTF-8 would not survive a trip
        through the list's text."""
        self._lists_pending += 1
        self._update_ok()
        worker = Worker(_listing, list(paths))
        worker.signals.returned.connect(lambda found: self._add_found(*found))
        worker.signals.finished.connect(self._listed)
        return self.pool.start(worker)

    def _add_found(self, photos: list[Path], skipped: str | None) -> None:
        for p in photos:
            if p not in self._paths:
                self._paths.append(p)
                self.photos.addItem(display_path(p))
        if skipped:  # a phone's HEIC photos would go unseen otherwise
            self.left_out_label.setText(skipped)
            self.left_out_label.show()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        keys = (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)
        if watched is self.photos and event.type() == QEvent.Type.KeyPress and event.key() in keys:
            self.remove_selected()
            return True
        return super().eventFilter(watched, event)

    def remove_selected(self) -> None:
        """The selected photos off the list (the files are not touched)."""
        rows = sorted((self.photos.row(item) for item in self.photos.selectedItems()), reverse=True)
        for row in rows:
            self.photos.takeItem(row)
            del self._paths[row]
        self._update_ok()

    def _listed(self) -> None:
        self._lists_pending -= 1
        self._update_ok()
        self.listed.emit()

    def accept(self) -> None:
        if self.date.problem() is not None:  # OK is off then; this holds for Enter in the date too
            self.date.setFocus()
            return
        super().accept()

    @property
    def folder(self) -> str:
        """The folder photos were last picked from here (where the next Add inspection starts)."""
        return self._folder

    def request(self) -> InspectionRequest:
        return InspectionRequest(
            self.asset.currentText().strip(),
            self.date.value(),
            self.inspector.text().strip(),
            tuple(self._paths),
            self.notes.toPlainText().strip(),
        )

    def _pick_photos(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Photos of the inspection", self._folder, IMAGE_FILTER)
        if files:
            self._folder = str(Path(files[0]).parent)
            self.add_paths([Path(f) for f in files])

    def _pick_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of the inspection's photos", self._folder)
        if folder:
            self._folder = folder
            self.add_paths([Path(folder)])

    def _update_ok(self, *_args) -> None:
        ok = bool(self.asset.currentText().strip()) and self.photos.count() > 0 and not self._lists_pending
        ok = ok and self.date.problem() is None
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)
