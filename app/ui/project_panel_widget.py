"""The project panel beside the viewer: a tree asset > inspection > photos, and the stored figures of the
photo picked in it (no model run). The project is read on a worker (`ProjectView`); the panel says so
while it loads and keeps showing what it had."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHeaderView,
    QMenu,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.project import Project
from app.ui.forms import plain_label
from app.ui.project_menu import item_menu
from app.ui.project_texts import asset_text, inspection_text, stored_figures_text
from app.ui.project_tree import ROLE, build_tree, key_of, missing_text
from app.ui.project_view import ProjectReads, ProjectView, load_view
from app.ui.tree_menu import TreeMenu
from app.ui.workers import Worker

LOADING = "Loading the project…"
NO_ANSWER = "No answer from"
SLOW_AFTER_MS = 10_000  # a read this long: say the server has not answered, and offer to stop waiting


class ProjectPanelWidget(QWidget):
    """Shows one project; tells the window what the user picked (signals), never runs a model."""

    photo_activated = Signal(int)  # a stored photo's id
    add_inspection_requested = Signal()
    trend_requested = Signal(str)  # asset tag
    compare_requested = Signal(str)  # asset tag
    rerun_requested = Signal(int)  # a stored photo's id
    history_requested = Signal(int)  # a stored photo's id
    change_log_requested = Signal(str)  # an asset's tag
    correct_inspection_requested = Signal(int)  # an inspection's id
    remove_inspection_requested = Signal(int)  # an inspection's id
    asset_details_requested = Signal(str)  # an asset's tag
    remove_photo_requested = Signal(int)  # a stored photo's id
    relocate_requested = Signal()
    loaded = Signal()  # the tree shows a fresh `view`
    failed = Signal(str)  # the project could not be read: the reason
    stop_waiting_requested = Signal(int)  # the user gave up on a read that took this many seconds
    enabled_changed = Signal()  # the buttons' states changed: the Project menu follows them

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.project: Project | None = None
        self.view: ProjectView | None = None  # what the tree shows, as last read
        self.reads = ProjectReads(self)  # the project is read here, off the UI thread
        self._reading: Worker | None = None  # the read of the project under way (one at a time)
        self._then: list[Callable[[ProjectView], None]] = []  # run with the view it brings
        self._again: list[Callable[[ProjectView], None]] | None = None  # asked for meanwhile: read again
        self.title = plain_label("No project open (File ▸ New project… / Open project…)")
        self.title.setWordWrap(True)
        self.status = plain_label()  # "Loading the project…", or why it could not be read
        self.status.setWordWrap(True)
        self.stop_button, self.slow_timer = self._stop_waiting_parts()
        self.missing = plain_label()  # photos whose files were not found when the project was read
        self.missing.setWordWrap(True)
        self.missing.hide()
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Asset / inspection / photo", "Photos · share %"])
        header = self.tree.header()  # the names take the room left; the counts are never clipped
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setMinimumSectionSize(60)
        # the dock opens with room for a photo's name beside its figures; a narrower one elides the names
        self._name_room = header.fontMetrics().horizontalAdvance("2024-05-01 · inspector ORI_000.png") + 140
        self.figures = plain_label()
        self.figures.setWordWrap(True)
        self.figures.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.add_button = QPushButton("Add inspection…")
        self.trend_button = QPushButton("Trend…")
        self.compare_button = QPushButton("Compare…")
        self.rerun_button = QPushButton("Re-run model")
        self.rerun_button.setToolTip("Analyse the photo again with the loaded model; both results are kept")
        self.relocate_button = QPushButton("Find moved photos…")
        self.relocate_button.setToolTip("Point to the folder photos were moved to; they are found by content")
        self.reload_button = QPushButton("Reload")
        self.reload_button.setToolTip(
            "Read the project again: what others added on a shared server since it was last read (F5)"
        )
        self.correct_button = QPushButton("Correct inspection…")
        self.correct_button.setToolTip("Change the picked inspection's date, inspector or notes")
        self.remove_button = QPushButton("Remove inspection…")
        self.remove_button.setToolTip(
            "Take the picked inspection, or the picked photo, out of the project (the photo files stay)"
        )
        buttons = QGridLayout()  # two columns keep the dock narrow
        all_buttons = (self.add_button, self.trend_button, self.compare_button, self.rerun_button)
        inspection_buttons = (self.correct_button, self.remove_button)
        for n, b in enumerate((*all_buttons, *inspection_buttons, self.relocate_button, self.reload_button)):
            buttons.addWidget(b, n // 2, n % 2)
            # Enter and Return press a button reached with Tab, as in a dialog (a push button outside
            # one ignores them unless it is an auto-default button); Space does too (app/ui/compare_key.py)
            b.setAutoDefault(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.status)
        layout.addWidget(self.stop_button)
        layout.addLayout(buttons)
        layout.addWidget(self.missing)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.figures)
        self.add_button.clicked.connect(self.add_inspection_requested)
        self.reload_button.clicked.connect(lambda: self.refresh())
        self.trend_button.clicked.connect(lambda: self._emit_asset(self.trend_requested))
        self.compare_button.clicked.connect(lambda: self._emit_asset(self.compare_requested))
        self.rerun_button.clicked.connect(self._emit_rerun)
        self.relocate_button.clicked.connect(self.relocate_requested)
        self.correct_button.clicked.connect(self._edit_picked)
        self.remove_button.clicked.connect(self._remove_picked)
        self.tree_menu = TreeMenu(self.tree, self.menu_for)  # right-click, Menu key, Shift+F10
        self.tree.currentItemChanged.connect(self._on_current)
        self.reads.busy_changed.connect(self._on_busy)
        self._update_enabled()

    def sizeHint(self) -> QSize:
        """A preferred width only: a minimum made the window wider than a small screen."""
        return super().sizeHint().expandedTo(QSize(self._name_room, 0))

    def _stop_waiting_parts(self) -> tuple[QPushButton, QTimer]:
        """A server can keep its connection open and never answer (no error ever comes): after a while
        the panel says so, and the user may stop waiting instead of watching "Loading" for ever."""
        button = QPushButton("Stop waiting")
        button.setToolTip("Close the project and end its connections; open it again later")
        button.hide()
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(SLOW_AFTER_MS)
        timer.timeout.connect(self._on_slow)
        button.clicked.connect(lambda: self.stop_waiting_requested.emit(timer.interval() // 1000))
        return button, timer

    def set_project(self, project: Project | None) -> None:
        self.project, self.view = project, None
        self.reads.drop_all()  # the last project's reads are of no use now
        self._reading, self._then, self._again = None, [], None
        self.tree.clear()  # another project's items say nothing of this one's
        self.figures.clear()
        self.title.setText(
            f"Project {project.location.display}" if project else "No project open (File ▸ New project…)"
        )
        self.refresh()

    @property
    def loading(self) -> bool:
        return self.reads.busy

    def refresh(self, then: Callable[[ProjectView], None] | None = None) -> Worker | None:
        """Read the project again on a worker; when it arrives the tree is rebuilt, keeping what was
        expanded and the item selected, and `then(view)` runs; a failure is reported through `failed`.
        Asked while a read is under way, the project is read again after it (one read at a time: a
        stalled server holds one thread, and a picked photo still opens), and `then` waits for that."""
        if self.project is None:
            self._update_enabled()
            return None
        if self._reading is not None:
            self._again = (self._again or []) + ([then] if then is not None else [])
            return self._reading
        self._then = [then] if then is not None else []
        self._reading = self.reads.run(
            "view", load_view, self.project, done=self._read_done, failed=self._read_failed
        )
        return self._reading

    def _read_done(self, view: ProjectView) -> None:
        self._reading = None
        self.show_view(view)
        self._read_again()

    def _read_failed(self, message: str) -> None:
        self._reading, self._then = None, []  # what waited for the view (a trend, a compare) is not shown
        self.status.setText(f"Could not read the project: {message}")
        self.failed.emit(message)
        self._read_again()

    def _read_again(self) -> None:
        if self._again is not None:
            waiting, self._again = self._again, None
            self.refresh()
            self._then = waiting

    def show_view(self, view: ProjectView) -> None:
        """Rebuild the tree from `view` (no query), keeping what was expanded and selected."""
        self.view = view
        expanded = {key_of(i) for i in self._items() if i.isExpanded()}
        current = self.tree.currentItem()
        selected = key_of(current) if current is not None else None
        first = not self.tree.topLevelItemCount()
        self.tree.blockSignals(True)  # a rebuild is no choice of the user's: no photo opens
        self.tree.clear()
        self.figures.clear()
        build_tree(self.tree, view)
        self.missing.setText(missing_text(view))
        self.missing.setVisible(bool(view.missing))
        for item in self._items():
            key = key_of(item)
            item.setExpanded(key in expanded or (first and key[0] == "asset"))
            if key == selected:
                self.tree.setCurrentItem(item)
        self.tree.blockSignals(False)
        self._show_picked(view)
        self._update_enabled()
        waiting, self._then = self._then, []
        for then in waiting:
            then(view)
        self.loaded.emit()

    def _on_busy(self, busy: bool) -> None:
        if busy:
            self.status.setText(LOADING)
            self.slow_timer.start()
            return
        self.slow_timer.stop()
        self.stop_button.hide()
        if self.status.text() == LOADING or self.status.text().startswith(NO_ANSWER):
            self.status.clear()

    def _on_slow(self) -> None:
        if self.reads.busy and self.project is not None:
            seconds = self.slow_timer.interval() // 1000
            location = self.project.location
            where = f"the server {location.server}" if location.server else location.display
            self.status.setText(f"{NO_ANSWER} {where} for {seconds} s; still waiting.")
            self.stop_button.show()

    def current_asset(self) -> str | None:
        """The tag of the asset picked (or of the picked inspection's or photo's); with nothing picked, the
        project's only asset (Trend and Compare then act on no other), else None."""
        item = self.tree.currentItem()
        if item is None:
            return self.tree.topLevelItem(0).data(0, ROLE)[1] if self.tree.topLevelItemCount() == 1 else None
        return item.data(0, ROLE)[-1] if item.data(0, ROLE)[0] != "asset" else item.data(0, ROLE)[1]

    def select_photo(self, photo_id: int) -> bool:
        """Make the photo the current item (which opens it); False if it is not in the tree."""
        item = self._photo_item(photo_id)
        if item is not None:
            self.tree.setCurrentItem(item)
        return item is not None

    def _photo_item(self, photo_id: int) -> QTreeWidgetItem | None:
        return next((i for i in self._items() if key_of(i) == ("photo", photo_id)), None)

    def follow_photo(self, path: Path | None) -> None:
        """The tree follows the photo on screen (A / D, the batch, Open photo, Add inspection): its stored
        photo is picked (nothing opens again), else no photo is picked, so the tree, the stored figures
        under it and Remove photo never name another photo than the one shown (None: none is shown)."""
        kind, key = self._picked()
        view = self.view
        if view is None or path is None:
            return
        held = view.photos_at(path)
        picked = view.photo(key) if kind == "photo" else None  # type: ignore[arg-type]
        if picked is not None and any(p.id == picked.id for p in held):
            return
        same = None if picked is None else picked.inspection_id
        held.sort(key=lambda p: p.inspection_id != same)  # the picked photo's inspection first
        target = self._photo_item(held[0].id) if held else None
        if target is None and picked is None:
            return  # nothing to follow, and an asset or inspection picked names no photo
        self.tree.blockSignals(True)  # following is no choice of the user's: nothing opens
        try:
            self.tree.setCurrentItem(target)
            if target is None:
                self.tree.clearSelection()
        finally:
            self.tree.blockSignals(False)
        self._update_enabled()
        self._show_picked(view)

    def _items(self):
        stack = [self.tree.topLevelItem(n) for n in range(self.tree.topLevelItemCount())]
        while stack:
            item = stack.pop(0)
            yield item
            stack += [item.child(n) for n in range(item.childCount())]

    def _on_current(self, item: QTreeWidgetItem | None, _previous=None) -> None:
        self._update_enabled()
        if self.view is not None:
            self._show_picked(self.view)
        kind, key = self._picked()
        if kind == "photo" and self.view is not None:
            self.photo_activated.emit(key)

    def _show_picked(self, view: ProjectView) -> None:
        """Under the tree: the picked asset's details, inspection's summary or photo's stored figures
        (no query)."""
        kind, key = self._picked()
        asset = view.asset(key) if kind == "asset" else None  # type: ignore[arg-type]
        inspection = (
            next((i for i in view.inspections() if i.id == key), None) if kind == "inspection" else None
        )
        if asset is not None:
            self.figures.setText(asset_text(asset, view.trend(asset.tag)))
        elif inspection is not None:
            self.figures.setText(
                inspection_text(inspection, view.latest_results([inspection.id])[inspection.id])
            )
        elif kind == "photo":
            self.figures.setText(stored_figures_text(view.latest_result(key)))  # type: ignore[arg-type]
        else:
            self.figures.clear()

    def _emit_asset(self, signal) -> None:
        tag = self.current_asset()
        if tag is not None:
            signal.emit(tag)

    def _picked(self) -> tuple[str | None, object]:
        """(kind, id or tag) of the item picked in the tree; (None, None) when none is."""
        item = self.tree.currentItem()
        return (None, None) if item is None else key_of(item)  # type: ignore[return-value]

    def current_inspection(self) -> int | None:
        """The id of the inspection picked in the tree, or None."""
        kind, key = self._picked()
        return key if kind == "inspection" else None  # type: ignore[return-value]

    def current_photo(self) -> int | None:
        """The id of the stored photo picked in the tree, or None."""
        kind, key = self._picked()
        return key if kind == "photo" else None  # type: ignore[return-value]

    def _emit_for_picked(self, signals: dict) -> None:
        kind, key = self._picked()
        if kind in signals:
            signals[kind].emit(key)

    def _edit_picked(self) -> None:
        """The edit button: the picked asset's details, or the picked inspection's correction."""
        self._emit_for_picked(
            {"asset": self.asset_details_requested, "inspection": self.correct_inspection_requested}
        )

    def _remove_picked(self) -> None:
        """The remove button: the picked inspection, or the picked photo from its inspection."""
        self._emit_for_picked(
            {"inspection": self.remove_inspection_requested, "photo": self.remove_photo_requested}
        )

    def menu_for(self, item: QTreeWidgetItem) -> QMenu:
        """The context menu of a tree item (made current first): its own actions, then the project's
        that apply to it (app/ui/project_menu.py)."""
        return item_menu(self, item)

    def _emit_rerun(self) -> None:
        item = self.tree.currentItem()
        if item is not None and item.data(0, ROLE)[0] == "photo":
            self.rerun_requested.emit(item.data(0, ROLE)[1])

    def _update_enabled(self) -> None:
        open_ = self.project is not None
        has_asset = self.tree.topLevelItemCount() > 0
        item = self.tree.currentItem()
        self.add_button.setEnabled(open_)
        self.reload_button.setEnabled(open_)
        self.relocate_button.setEnabled(has_asset)
        asset = self.current_asset()  # none picked among several: which one would be a guess
        for button in (self.trend_button, self.compare_button):
            button.setEnabled(asset is not None)
            button.setToolTip("" if asset is None else f"Of the asset {asset}")
        self.rerun_button.setEnabled(item is not None and item.data(0, ROLE)[0] == "photo")
        kind = item.data(0, ROLE)[0] if item is not None else None
        self.correct_button.setText("Asset details…" if kind == "asset" else "Correct inspection…")
        self.correct_button.setEnabled(kind in ("asset", "inspection"))
        self.remove_button.setText("Remove photo…" if kind == "photo" else "Remove inspection…")
        self.remove_button.setEnabled(kind in ("inspection", "photo"))
        self.enabled_changed.emit()
