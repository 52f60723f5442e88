"""The figures of the photo on screen: area per class, corroded share, grade, review flag, timing.

A view of `ResultState` (napari's rule): it listens to the state and nobody else calls its setters.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.core import figures
from app.core.analysis import MODEL_REASON, PhotoResult, as_signed
from app.core.edit_masks import maps_equal
from app.core.grading import GradeScale
from app.core.sources import EDITED_REASON
from app.core.text import safe_text
from app.ui.forms import FIELD_MIN_WIDTH, form_values
from app.ui.long_words import plain_tooltip
from app.ui.result_state import ResultState
from app.ui.review_dialog import review_text
from app.ui.saved_masks import is_signed, shown_signature

NO_PHOTO_TEXT = "Open a photo, or pick a row of the batch, to see its figures."
FAILED_STYLE = "color: #a01010; font-weight: bold;"
REASON_CHARS = 160  # of a failure's reason in the panel; the banner has it whole


def failed_text(reason: str) -> str:
    """The panel's line for a photo whose analysis failed: the reason's first line, cut short."""
    first = reason.strip().splitlines()[0] if reason.strip() else "no reason given"
    short = first if len(first) <= REASON_CHARS else first[: REASON_CHARS - 1].rstrip() + "…"
    return f"✖ Analysis failed: {safe_text(short, REASON_CHARS + 40)}"


# the scale is shown once, in the "Scale and areas" box, not here as well
_SHOWN_ELSEWHERE = ("Grade", "Needs review", "Scale")
# what each figure means (the panel's tooltips), by row label; "<class>, % of the photo" rows by `figure_tip`
FIGURE_TIPS = {
    "Corroded share of the asset": "Corrosion's share of the pipe seen in the photo: corrosion pixels / "
    "(corrosion + asset pixels). The grade scales grade this figure.",
    "Share range": "Where the true corroded share lies for most photos (the range's coverage is in its "
    "name, measured on photos the model did not train on) and the grades at its two ends: a range "
    "across a grade cut-off means the grade is uncertain.",
    "Corrosion patches": "Connected areas of corrosion: how many, the largest one's share of the asset, "
    "and specks (patches too small to count).",
    "D610 distribution": "How the corrosion is spread, as ASTM D610 names it: S spot (a few patches "
    "hold most of it), G general (over most of the surface), P pinpoint (many tiny points), H hybrid "
    "(pinpoints and large patches); the evidence follows.",
    "Corrosion area": "The corrosion's area in physical units, from the scale set in the Scale and "
    "areas box (a photo taken at an angle makes it approximate).",
    "Model's mean confidence": "The model's mean top-class probability over the photo (0-1): low values "
    "mean the model was unsure of many pixels.",
    "Time taken": "Seconds the analysis of this photo took.",
    "Provider": "Where the model ran (CPU or GPU) for this photo.",
}
GRADE_TIP = (
    "The grade of the corroded share on the scale chosen above (ASTM D610: 10 best to 0 worst, with the "
    "distribution letter; ISO 4628-3: Ri 0 best to Ri 5 worst)."
)
REVIEW_TIP = (
    "Whether an inspector should check this photo before its figures are used, and why (the range "
    "spans grade cut-offs, low confidence, an edit not yet signed)."
)


def figure_tip(key: str) -> str:
    """What the figure `key` means (the panel's tooltip); "" for a label this panel does not know."""
    if key in FIGURE_TIPS:
        return FIGURE_TIPS[key]
    if key.endswith(figures.PHOTO_SHARE):
        return f"The share of the whole photo's pixels labelled {key.removesuffix(figures.PHOTO_SHARE)}."
    return ""


class FiguresWidget(QGroupBox):
    """Shows one `PhotoResult` with the same texts as the PDF report; the grade scale is chosen here."""

    grade_scale_changed = Signal(str)

    def __init__(
        self,
        state: ResultState,
        grade_scale: GradeScale | str = GradeScale.ASTM_D610,
        pending_text: Callable[[], str] = lambda: "Analysing…",
        model: Callable[[], object] = lambda: None,
        parent: QWidget | None = None,
    ) -> None:
        """`pending_text`: what to say while a photo has no result yet (e.g. that no model is loaded);
        `model`: the loaded model (its typical error is shown under the figures)."""
        super().__init__("Figures", parent)
        self._state = state
        self._edited_for: tuple[PhotoResult, np.ndarray, bool] | None = None  # (result, model's map, edited)
        self._pending_text = pending_text
        self._model = model
        self._result: PhotoResult | None = None
        self._message = ""
        self._failed = False  # the message says the photo's analysis failed
        self.scale_combo = QComboBox()
        self.scale_combo.setAccessibleName("Grade scale")  # its name was its value ("ASTM D610 …")
        for key, title in figures.SCALE_TITLES.items():
            self.scale_combo.addItem(title, key.value)
        self.scale_combo.setCurrentIndex(
            max(0, self.scale_combo.findData(GradeScale.parse(grade_scale).value))
        )
        self.scale_combo.currentIndexChanged.connect(self._on_scale)
        self.grade_label = QLabel()
        self.grade_label.setStyleSheet("font-size: 15pt; font-weight: bold;")
        self.grade_label.setWordWrap(True)
        self.grade_label.setToolTip(GRADE_TIP)
        self.review_label = QLabel()
        self.review_label.setWordWrap(True)
        self.review_label.setTextFormat(Qt.TextFormat.PlainText)  # a reviewer's name, as typed: no markup
        self.review_label.setToolTip(REVIEW_TIP)
        self.source_label = QLabel()  # model, edited or reviewed mask (from the state's review)
        self.source_label.setObjectName("figures_source")
        self.source_label.setWordWrap(True)
        self.source_label.setVisible(False)
        self.source_label.setToolTip(
            "Whose mask the figures come from: the model's, an edited one not yet signed, or one an "
            "inspector reviewed and signed (Edit ▸ Mark reviewed…)."
        )
        self.accuracy_label = QLabel()  # the model's typical error, from its own metadata
        self.accuracy_label.setObjectName("figures_accuracy")
        self.accuracy_label.setWordWrap(True)
        self.accuracy_label.setStyleSheet("color: #505050;")
        self.accuracy_label.setVisible(False)
        self._form = QFormLayout()
        self._form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        # A long label with a wrapping field beside it got less height than the field's wrapped text
        # needs (QFormLayout's height-for-width under-counts a narrow field column): such rows put the
        # field under its label, at the panel's full width.
        self._form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        scale_row = QHBoxLayout()
        scale_label = QLabel("Grade scale")
        scale_label.setBuddy(self.scale_combo)
        scale_row.addWidget(scale_label)
        scale_row.addWidget(self.scale_combo, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(scale_row)
        layout.addWidget(self.grade_label)
        layout.addWidget(self.review_label)
        layout.addWidget(self.source_label)
        layout.addLayout(self._form)
        layout.addWidget(self.accuracy_label)
        layout.addStretch(1)
        self.set_result(None)
        state.photo_changed.connect(self._on_photo)
        state.result_changed.connect(self._on_result)
        state.figures_changed.connect(self._on_figures)
        state.review_changed.connect(lambda _review: self._render())
        state.analysis_failed.connect(self._on_failed)

    def _on_photo(self, photo) -> None:
        self.set_result(None, NO_PHOTO_TEXT if photo is None else self._pending_text())

    def _on_result(self, result: PhotoResult | None) -> None:
        if result is None and self._state.photo is not None:
            self.set_result(None, self._pending_text())

    def _on_failed(self, reason: str) -> None:
        self.set_result(None, failed_text(reason), failed=True)

    def _on_figures(self, result: PhotoResult) -> None:
        if result is self._state.result:  # else superseded while the signal was on its way
            self.set_result(result)

    @property
    def grade_scale(self) -> GradeScale:
        return GradeScale(self.scale_combo.currentData())

    @property
    def result(self) -> PhotoResult | None:
        return self._result

    def values(self) -> dict[str, str]:
        """What the panel shows, label -> text (for tests and copy)."""
        return form_values(self._form)

    def set_result(self, result: PhotoResult | None, message: str = "", failed: bool = False) -> None:
        """The state's slot (connected in `__init__`); not to be called from elsewhere."""
        self._result, self._message, self._failed = result, message, failed
        self._render()

    def _render(self) -> None:
        result = self._result
        while self._form.rowCount():
            self._form.removeRow(0)
        if result is None:
            self.grade_label.setText("")
            self.review_label.setText(self._message or NO_PHOTO_TEXT)
            self.review_label.setStyleSheet(FAILED_STYLE if self._failed else "")
            self._set_source("")
            self.accuracy_label.setVisible(False)
            return
        self._show_accuracy()
        if is_signed(self._state.review):  # a person vouches: no model estimate; rows as the reports say
            self.accuracy_label.setVisible(False)
            result = as_signed(result)
        a = result.assessment
        self.grade_label.setText(figures.grade_text(a, self.grade_scale, result.measures.distribution))
        text, style = self._review_flag(result)
        self.review_label.setText(text)
        self.review_label.setStyleSheet(style)
        edited = self._is_edited(result)
        self._set_source(*review_text(self._state.review, self._state.unsaved, edited))
        for key, value in figures.figure_rows(result, self.grade_scale):
            if key in _SHOWN_ELSEWHERE:
                continue
            label, field = QLabel(key + ":"), QLabel(value)
            field.setObjectName(f"figure:{key}")
            field.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            if len(value) > 24:
                field.setWordWrap(True)
                field.setMinimumWidth(min(field.sizeHint().width(), FIELD_MIN_WIDTH))
            for widget in (label, field):
                widget.setToolTip(figure_tip(key))
            self._form.addRow(label, field)

    def _is_edited(self, result: PhotoResult) -> bool:
        """The mask shown differs from the model's (an undo back to the model's mask is not an edit)."""
        model = self._state.model_labels
        if model is None or result.labels is model or result.labels is None:
            return False
        own = self._state.model_result
        if own is not None and own.stats.pixels != result.stats.pixels:
            return True  # other class counts: edited, without comparing every pixel (50 MB at 50 MP)
        # a result is a snapshot the state hands out once per edit: its answer holds for each paint of it
        if self._edited_for is None or self._edited_for[0] is not result or self._edited_for[1] is not model:
            self._edited_for = (result, model, not maps_equal(result.labels, model))
        return self._edited_for[2]

    def _review_flag(self, result: PhotoResult) -> tuple[str, str]:
        """The review line: a signed mask says who and when; an edit keeps the model's reasons and says
        it is not reviewed; only the model's own mask may say "No review needed"."""
        review, scale = self._state.review, self.grade_scale
        if is_signed(review):
            return f"✔ Reviewed by {shown_signature(review)}.", "color: #205080; font-weight: bold;"
        warn = "color: #a04000; font-weight: bold;"
        if self._is_edited(result):
            model = self._state.model_result
            reasons = figures.review_reasons(result.assessment, scale)
            if model is not None:  # the model's own first; the edit keeps copies headed as the model's
                own = [r for r in reasons if not r.startswith(MODEL_REASON)]
                reasons = [*figures.review_reasons(model.assessment, scale), *own]
            # each reason once, the model's first; "edited, not marked reviewed yet" is the headline
            why = "; ".join(r for r in dict.fromkeys(reasons) if r != EDITED_REASON)
            tail = f" The model's mask was flagged: {why}." if why else ""
            return f"⚠ Needs review: edited, not reviewed (Edit ▸ Mark reviewed… signs it).{tail}", warn
        if figures.needs_review(result.assessment, scale):
            review_line = figures.review_text(result.assessment, scale)
            return "⚠ " + review_line.replace("Yes: ", "Needs review: "), warn
        return "No review needed.", "color: #206020;"

    def _show_accuracy(self) -> None:
        """One plain line of how far the model's figures typically are from an inspector's, from the
        model file (`accuracy_line()` of the figures core; hidden for a model API without it)."""
        line = getattr(self._model(), "accuracy_line", None)  # a property (or method) of the model
        text = line() if callable(line) else line
        self.accuracy_label.setVisible(bool(text))
        if not text:
            return
        self.accuracy_label.setText(text)
        accuracy = getattr(self._model(), "accuracy", None)
        how = (
            "The model file states no measured error."
            if accuracy is None
            else f"Measured by {accuracy.how_measured()}: the corroded share's "
            f"distance to an inspector's mask is at most ±{accuracy.median_error:.1f} points on half "
            f"of them (mean {accuracy.mean_error:.1f}, 90 % within ±{accuracy.p90_error:.1f})."
        )
        # plain: how it was measured is the model file's text, and Qt reads a tooltip that looks like
        # markup as rich text (headings, images)
        self.accuracy_label.setToolTip(
            plain_tooltip(
                f"{how}\nThese figures are a model's estimate: an inspector reviews them (Edit ▸ Mark "
                "reviewed…) before they are signed."
            )
        )

    def _set_source(self, html: str, style: str = "") -> None:
        """Where the figures come from (the model's, an edited or a reviewed mask); "" hides it."""
        self.source_label.setText(html)
        self.source_label.setStyleSheet(style)
        self.source_label.setVisible(bool(html))

    def _on_scale(self, _index: int) -> None:
        self._render()
        self.grade_scale_changed.emit(self.grade_scale)
