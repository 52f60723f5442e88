"""The project panel's tree, asset > inspection > photos, built from a `ProjectView` (no query): each
photo with its newest share and review mark, and a photo whose file was not found marked so."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem

from app.core.figures import percent_text
from app.core.project import Inspection
from app.core.project.trend import review_counts
from app.core.text import counted, safe_path
from app.ui.project_texts import REVIEWED_MARK, review_mark
from app.ui.project_view import ProjectView

ROLE = Qt.ItemDataRole.UserRole  # ("asset", tag) / ("inspection", id, tag) / ("photo", id, tag)
NOT_FOUND = " (not found)"


def key_of(item: QTreeWidgetItem) -> tuple:
    """What an item stands for (kind and id or tag), the same across rebuilds of the tree."""
    return tuple(item.data(0, ROLE)[:2])


def build_tree(tree: QTreeWidget, view: ProjectView) -> None:
    """Fill the (cleared) tree with the view's assets, their inspections in date order and their photos."""
    for asset in view.assets():
        a_item = QTreeWidgetItem([asset.tag, ""])
        a_item.setData(0, ROLE, ("asset", asset.tag))
        tree.addTopLevelItem(a_item)
        for inspection in view.inspections(asset.tag):
            _add_inspection_item(tree, a_item, view, inspection)


def _add_inspection_item(
    tree: QTreeWidget, parent: QTreeWidgetItem, view: ProjectView, inspection: Inspection
) -> None:
    who = f" · {inspection.inspector}" if inspection.inspector else ""
    photos = view.photos(inspection.id)
    results = [view.latest_result(photo.id) for photo in photos]
    signed, flagged = review_counts(results)
    lost = sum(photo.id in view.missing for photo in photos)
    count = f"{inspection.photo_count}" + (f" · {signed} {REVIEWED_MARK}" if signed else "")
    item = QTreeWidgetItem([f"{inspection.date.isoformat()}{who}", count])
    tip = f"{counted(inspection.photo_count, 'photo')}: {signed} reviewed, {flagged} to review"
    item.setToolTip(1, tip + (f", {lost} not found" if lost else ""))
    item.setData(0, ROLE, ("inspection", inspection.id, inspection.asset_tag))
    parent.addChild(item)
    faint = tree.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
    for photo, r in zip(photos, results, strict=True):
        mark, why = review_mark(r)
        share = percent_text(r.corroded_share) if r else ""
        name = Path(photo.path).name
        child = QTreeWidgetItem([name, share + mark])
        child.setToolTip(0, photo.path)
        if photo.id in view.missing:
            child.setText(0, name + NOT_FOUND)
            child.setForeground(0, faint)
            child.setToolTip(
                0,
                f"Not at {safe_path(photo.path)} when the project was read (moved or renamed?); "
                "Find moved photos… looks for it by its content",
            )
        child.setToolTip(1, why)
        child.setData(0, ROLE, ("photo", photo.id, inspection.asset_tag))
        item.addChild(child)


def missing_text(view: ProjectView) -> str:
    """The panel's line on photos not found, or ""."""
    n = len(view.missing)
    if not n:
        return ""
    them = "it" if n == 1 else "them"
    return f"{counted(n, 'photo')} not found where the project says; Find moved photos… looks for {them}."
