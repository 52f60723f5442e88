"""Text people typed or named (a reviewer's note and name, an asset tag, a file name in a message) shows
as written in the window's labels: never read as rich text, which would hide "<weld>" or draw "<b>"."""

from __future__ import annotations

from PySide6.QtGui import QTextDocument

from app.core.project import Asset
from app.core.reviewed import REVIEWED, ReviewState
from app.ui.banner_widget import BannerWidget
from app.ui.project_panel_widget import ProjectPanelWidget
from app.ui.project_texts import asset_text
from app.ui.review_dialog import review_text


def _shown(html: str) -> str:
    """What a label showing `html` as rich text displays."""
    doc = QTextDocument()
    doc.setHtml(html)
    return doc.toPlainText()


def test_a_reviewers_note_and_name_are_shown_as_written(qapp) -> None:
    note = "pitting at the <weld> < 2 mm"
    review = ReviewState(REVIEWED, "<b>Ann</b> & co", "2026-12-06T10:00:00+00:00", note)
    text, _style = review_text(review, unsaved=False, edited=True)
    shown = _shown(text)
    assert "<b>Ann</b> & co on 2026-12-06" in shown and "pitting at the <weld> < 2 mm" in shown


def test_labels_showing_typed_names_are_plain_text(qtbot) -> None:
    banner = BannerWidget()
    qtbot.addWidget(banner)
    banner.show_message("<h1>pipe</h1>.png: not an image", "error")
    panel = ProjectPanelWidget()
    qtbot.addWidget(panel)
    panel.figures.setText(asset_text(Asset(1, "<i>P-1</i>", location="<rack 3>")))
    for label in (banner._label, panel.figures, panel.title, panel.status):
        assert label.textFormat().name == "PlainText"
    assert banner._label.text() == "<h1>pipe</h1>.png: not an image"
    assert "Location: <rack 3>" in panel.figures.text()
