"""Help: the local user guide (opened by the desktop) and the keyboard-shortcut list."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QImage, QTextDocument
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.core.paths import app_root
from app.ui.screen_fit import resize_on_screen


def user_guide_path() -> Path:
    """docs/user-guide.md of the source tree or of the installed program."""
    return app_root() / "docs" / "user-guide.md"


def open_user_guide(parent: QWidget | None = None) -> str | None:
    """Ask the desktop to open the local guide, else show it in the app (`UserGuideDialog`); None when
    the guide is on screen, else why not (for the user)."""
    path = user_guide_path()
    if not path.is_file():
        return f"The user guide is not installed here ({path} is missing)."
    if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
        dialog = UserGuideDialog(path, parent)  # no program opens .md here: Qt renders Markdown itself
        dialog.show()
    return None


GUIDE_IMAGE_WIDTH = 700  # screenshots fit the dialog (820 px) even indented in a list: no sideways scroll
GUIDE_IMAGE_MARGIN = 120  # a list's indent, the page margins and the scroll bar beside an image


class GuideBrowser(QTextBrowser):
    """A QTextBrowser whose images are no wider than `image_width` (the screenshots are 1280 px)."""

    image_width = GUIDE_IMAGE_WIDTH

    def loadResource(self, kind: int, url: QUrl):
        data = super().loadResource(kind, url)
        if kind == QTextDocument.ResourceType.ImageResource.value:
            image = data if isinstance(data, QImage) else QImage.fromData(data) if data else QImage()
            if image.width() > self.image_width:
                return image.scaledToWidth(self.image_width, Qt.TransformationMode.SmoothTransformation)
        return data


class UserGuideDialog(QDialog):
    """The Markdown guide rendered by a QTextBrowser (its images and links resolved beside it)."""

    def __init__(self, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("user_guide_dialog")
        self.setWindowTitle("Corroscope user guide")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.browser = GuideBrowser()
        self.browser.setOpenExternalLinks(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        resize_on_screen(self, 820, 760)
        # the images drawn to the width the screen left the dialog (before they load)
        self.browser.image_width = min(GUIDE_IMAGE_WIDTH, self.width() - GUIDE_IMAGE_MARGIN)
        self.browser.setSource(QUrl.fromLocalFile(str(path)), QTextDocument.ResourceType.MarkdownResource)


class KeyboardShortcutsDialog(QDialog):
    """A read-only table of (where, what, keys), built from the window's action table."""

    def __init__(self, rows: Sequence[tuple[str, str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.setObjectName("shortcuts_dialog")
        self.table = QTableWidget(len(rows), 3)
        self.table.setHorizontalHeaderLabels(["Where", "What", "Keys"])
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        resize_on_screen(self, 560, 520)

    def rows(self) -> list[tuple[str, str, str]]:
        return [
            tuple(self.table.item(r, c).text() for c in range(3))  # type: ignore[misc]
            for r in range(self.table.rowCount())
        ]
