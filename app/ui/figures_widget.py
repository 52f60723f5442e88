"""The figures of the photo on screen: area per class, corroded share, grade, review flag, timing."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.core import figures
from app.core.analysis import PhotoResult
from app.core.grading import GradeScale
from app.ui.forms import form_values


class FiguresWidget(QGroupBox):
    """Shows one `PhotoResult` with the same texts as the PDF report; the grade scale is chosen here."""

    grade_scale_changed = Signal(str)

    def __init__(
        self, grade_scale: GradeScale | str = GradeScale.ASTM_D610, parent: QWidget | None = None
    ) -> None:
        super().__init__("Figures", parent)
        self._result: PhotoResult | None = None
        self.scale_combo = QComboBox()
        for key, title in figures.SCALE_TITLES.items():
            self.scale_combo.addItem(title, key.value)
        self.scale_combo.setCurrentIndex(
            max(0, self.scale_combo.findData(GradeScale.parse(grade_scale).value))
        )
        self.scale_combo.currentIndexChanged.connect(self._on_scale)
        self.grade_label = QLabel()
        self.grade_label.setStyleSheet("font-size: 15pt; font-weight: bold;")
        self.grade_label.setWordWrap(True)
        self.review_label = QLabel()
        self.review_label.setWordWrap(True)
        self.source_label = QLabel()  # model, edited or reviewed mask (set by the edit UI)
        self.source_label.setObjectName("figures_source")
        self.source_label.setWordWrap(True)
        self.source_label.setVisible(False)
        self._form = QFormLayout()
        self._form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        scale_row = QHBoxLayout()
        scale_row.addWidget(QLabel("Grade scale"))
        scale_row.addWidget(self.scale_combo, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(scale_row)
        layout.addWidget(self.grade_label)
        layout.addWidget(self.review_label)
        layout.addWidget(self.source_label)
        layout.addLayout(self._form)
        layout.addStretch(1)
        self.set_result(None)

    @property
    def grade_scale(self) -> GradeScale:
        return GradeScale(self.scale_combo.currentData())

    @property
    def result(self) -> PhotoResult | None:
        return self._result

    def values(self) -> dict[str, str]:
        """What the panel shows, label -> text (for tests and copy)."""
        return form_values(self._form)

    def set_result(self, result: PhotoResult | None, message: str = "") -> None:
        self._result = result
        while self._form.rowCount():
            self._form.removeRow(0)
        if result is None:
            self.grade_label.setText("")
            self.review_label.setText(message or "Open a photo to see its figures.")
            self.review_label.setStyleSheet("")
            return
        a = result.assessment
        self.grade_label.setText(figures.grade_text(a, self.grade_scale, result.measures.distribution))
        if figures.needs_review(a, self.grade_scale):
            review = figures.review_text(a, self.grade_scale)
            self.review_label.setText("⚠ " + review.replace("Yes: ", "Needs review: "))
            self.review_label.setStyleSheet("color: #a04000; font-weight: bold;")
        else:
            self.review_label.setText("No review needed.")
            self.review_label.setStyleSheet("color: #206020;")
        for key, value in figures.figure_rows(result, self.grade_scale):
            if key in ("Grade", "Needs review"):
                continue
            field = QLabel(value)
            field.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            field.setWordWrap(len(value) > 24)
            self._form.addRow(key + ":", field)

    def set_source(self, html: str, style: str = "") -> None:
        """Where the figures come from (the model's, an edited or a reviewed mask); "" hides it."""
        self.source_label.setText(html)
        self.source_label.setStyleSheet(style)
        self.source_label.setVisible(bool(html))

    def _on_scale(self, _index: int) -> None:
        self.set_result(self._result)
        self.grade_scale_changed.emit(self.grade_scale)
