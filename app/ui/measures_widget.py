"""The scale of the photo on screen and its physical areas (each class, the largest patch, the oblique
photo note), and the scale controls: draw a line over a known length, type that length.

The grade with its D610 distribution and evidence and the share's range are in the figures panel
(`app.core.figures.figure_rows`)."""

from __future__ import annotations

from PySide6.QtCore import QRegularExpression, Qt, Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.core import measure_text
from app.core.analysis import PhotoFigures
from app.core.measures import PhotoMeasures
from app.ui.forms import FIELD_MIN_WIDTH, form_values

DRAW_HINT = "Draw a line over a known length (a ruler, the pipe's outer diameter) on the photo."
ZERO_LINE = "That line has no length: drag from one end of the known length to the other."
LENGTH_TEXT = QRegularExpression(r"[0-9.,]{0,20}")  # what may be typed; `length_mm` reads it
LENGTH_FORMAT = "Type the line's length in mm with one decimal point or comma, e.g. 114.3 or 114,3"


def length_mm(text: str) -> float | None:
    """The length typed: 12.5 or 12,5; None for anything else (1,000.5 is not guessed at)."""
    text = text.strip()
    if text.count(".") + text.count(",") > 1 or not any(c.isdigit() for c in text):
        return None
    return float(text.replace(",", "."))


class MeasuresWidget(QGroupBox):
    """Shows one photo's areas with the PDF's texts; asks for the scale line's known length."""

    draw_requested = Signal(bool)  # the line tool on (True) or off
    length_entered = Signal(float)  # the known length in mm of the line drawn
    clear_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Scale and areas", parent)
        self._measures: PhotoMeasures | None = None
        self._figures: PhotoFigures | None = None
        self._form = QFormLayout()
        self._form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # see FiguresWidget
        self.note_label = QLabel()
        self.note_label.setWordWrap(True)
        self.note_label.setStyleSheet("color: #606060; font-style: italic;")
        self.draw_button = QPushButton("Draw scale line")
        self.draw_button.setCheckable(True)
        self.draw_button.setToolTip(DRAW_HINT)
        self.draw_button.toggled.connect(self.draw_requested)
        self.clear_button = QPushButton("Clear scale")
        self.clear_button.clicked.connect(self.clear_requested)
        self.line_label = QLabel(DRAW_HINT)
        self.line_label.setWordWrap(True)
        self.length_edit = QLineEdit()
        self.length_edit.setPlaceholderText("known length")
        # digits and separators only, read by `length_mm`: a locale-aware validator "fixed" 12,5 into 125
        # before it was read (a scale ten times too big, areas a hundred times)
        self.length_edit.setValidator(QRegularExpressionValidator(LENGTH_TEXT, self.length_edit))
        self.length_edit.returnPressed.connect(self._on_length)
        self.set_button = QPushButton("Set scale")
        self.set_button.clicked.connect(self._on_length)
        self.scale_label = QLabel()
        buttons = QHBoxLayout()
        buttons.addWidget(self.draw_button)
        buttons.addWidget(self.clear_button)
        length_row = QHBoxLayout()
        length_row.addWidget(self.length_edit, 1)
        length_row.addWidget(QLabel("mm"))
        length_row.addWidget(self.set_button)
        layout = QVBoxLayout(self)
        layout.addLayout(self._form)
        layout.addWidget(self.note_label)
        layout.addWidget(self.scale_label)
        layout.addLayout(buttons)
        layout.addWidget(self.line_label)
        layout.addLayout(length_row)
        self.set_line(None)
        self.set_measures(None, None)

    def values(self) -> dict[str, str]:
        """What the panel shows, label -> text (for tests and copy)."""
        return form_values(self._form)

    @property
    def measures(self) -> PhotoMeasures | None:
        return self._measures

    def set_measures(
        self, measures: PhotoMeasures | None, figures: PhotoFigures | None, wait: str = ""
    ) -> None:
        """Show `measures` of `figures`; `wait` says why none are shown yet (e.g. "Measuring…")."""
        self._measures, self._figures = measures, figures
        while self._form.rowCount():
            self._form.removeRow(0)
        if measures is None or figures is None:
            self.note_label.setText(wait)
            self.note_label.setVisible(bool(wait))
            self.scale_label.setText("")
            return
        for key, value in measure_text.area_rows(measures):
            field = QLabel(value)
            field.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            field.setWordWrap(True)
            field.setMinimumWidth(min(field.sizeHint().width(), FIELD_MIN_WIDTH))
            self._form.addRow(key + ":", field)
        note = measure_text.area_note(measures)
        self.note_label.setText(note)
        self.note_label.setVisible(bool(note))
        scale = measures.mm_per_px
        # with a scale, the form's "Scale" row shows it: the scale once in the window
        self.scale_label.setText("No scale: areas in % only." if scale is None else "")
        self.scale_label.setVisible(scale is None)
        self.clear_button.setEnabled(scale is not None)

    def set_line(self, length_px: float | None) -> None:
        """The scale line drawn (its length in photo pixels), or none yet (None: the length typed for an
        earlier line goes too); a line of no length (a click) is refused with the reason."""
        drawn = length_px is not None and length_px > 0
        if drawn:
            self.line_label.setText(f"Line: {length_px:.1f} px. Type its length:")
        else:
            self.line_label.setText(DRAW_HINT if length_px is None else ZERO_LINE)
            self.length_edit.clear()
        self.length_edit.setEnabled(drawn)
        self.set_button.setEnabled(drawn)
        if drawn:
            self.length_edit.setFocus(Qt.FocusReason.OtherFocusReason)
            self.length_edit.selectAll()
            scroll = _scroll_area_of(self)
            if scroll is not None:  # the field below the figures: in view where it is typed into
                scroll.ensureWidgetVisible(self.length_edit)

    def _on_length(self) -> None:
        value = length_mm(self.length_edit.text())
        if value is None:
            self.line_label.setText(LENGTH_FORMAT)
            return
        self.length_entered.emit(value)


def _scroll_area_of(widget: QWidget) -> QScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QScrollArea):
        parent = parent.parentWidget()
    return parent
