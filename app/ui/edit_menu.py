"""The Edit menu and tool bar: tools, classes, brush size, undo/redo, review, reviewed masks on disk.

`EditUi` is built by the main window after its own wiring; it owns the `EditController` and the tools,
adds its entries to the File menu, and answers the window's "may I close?".
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QColor, QIcon, QKeySequence, QPixmap
from PySide6.QtWidgets import QDoubleSpinBox, QLabel, QProgressBar, QToolBar, QWidget

from app.core.analysis import PhotoResult, as_signed
from app.core.palette import DEFAULT_CLASSES, ClassInfo
from app.core.reviewed import ReviewState
from app.core.text import counted
from app.ui.actions import key_sequences
from app.ui.edit_controller import EditController
from app.ui.edit_keys import EDIT_ACTIONS, TOOLS, paint_keys, paint_text
from app.ui.edit_session import REVIEW_GONE, EditSession
from app.ui.edit_tools import (
    MAX_RADIUS,
    MIN_RADIUS,
    RADIUS_STEP,
    SMART_CLICK_OUTSIDE,
    SMART_NEEDS_BOX,
    BrushTool,
    FillTool,
    PolygonTool,
    SimilarTool,
    SmartSelectTool,
    Tool,
    ToolSettings,
)
from app.ui.host import WindowHost
from app.ui.review_actions import ReviewUi
from app.ui.saved_masks import is_signed

PROGRESS_AFTER_MS = 200
SWATCH_PX = 12  # a paint action's icon: a square of its class's mask colour


def _swatch(color: tuple[int, int, int]) -> QIcon:
    pixmap = QPixmap(SWATCH_PX, SWATCH_PX)
    pixmap.fill(QColor(*color))
    return QIcon(pixmap)


def _replace_actions(
    widget: QWidget, anchor: QAction, old: Sequence[QAction], new: Sequence[QAction]
) -> None:
    """Put `new` in place of `old` among `widget`'s actions (a menu or a tool bar): right after `anchor`."""
    for action in old:
        widget.removeAction(action)
    actions = widget.actions()
    after = actions.index(anchor) + 1
    before = actions[after] if after < len(actions) else None
    widget.insertActions(before, list(new))  # type: ignore[arg-type]  # None: at the end


TOOL_HINTS = (SMART_NEEDS_BOX, SMART_CLICK_OUTSIDE)  # what to do with a tool, shown until acted on


class EditUi(QObject):
    """The editing part of the main window."""

    def __init__(self, window: WindowHost) -> None:
        super().__init__(window)  # type: ignore[arg-type]  # the host is the QMainWindow
        self.window = window
        self.edits = EditController(window.controller, window.viewer)
        self.review = ReviewUi(window, self.edits, self._update)  # Mark reviewed, masks on disk
        self.tool_settings = ToolSettings()
        s, e = self.tool_settings, self.edits
        self.tools: dict[str, Tool | None] = {
            "pan": None,
            "brush": BrushTool(e, s),
            "eraser": BrushTool(e, s, eraser=True),
            "polygon": PolygonTool(e, s),
            "fill": FillTool(e, s),
            "smart": SmartSelectTool(e, s),
            "similar": SimilarTool(e, s),
        }
        self.actions: dict[str, QAction] = {}
        self.paint_classes: tuple[ClassInfo, ...] = ()  # the classes the paint actions offer
        self._class_actions: list[QAction] = []
        self._class_group = QActionGroup(self)
        self._paint_anchors: list[QAction] = []  # in the Edit menu, on the tool bar
        self._build_actions()
        self._build_toolbar()
        model = window.controller.model
        self.set_paint_classes(DEFAULT_CLASSES if model is None else model.classes)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(120)
        self.progress.setToolTip("A fill or selection is running: Esc cancels it")
        self.progress.setVisible(False)
        window.statusBar().addPermanentWidget(self.progress)
        self._progress_timer = QTimer(self, singleShot=True, interval=PROGRESS_AFTER_MS)
        self._progress_timer.timeout.connect(lambda: self.progress.setVisible(self.edits.busy))
        self._rows_timer = QTimer(self, singleShot=True, interval=300)  # the batch row follows, calmly
        self._rows_timer.timeout.connect(self._update_batch_row)
        self._connect()
        self._update()

    # building -----------------------------------------------------------------------------------
    def _action(self, name: str, text: str, keys, tip: str = "", checkable: bool = False) -> QAction:
        action = QAction(text, self.window)
        action.setObjectName(f"action_{name}")
        action.setShortcuts(keys)
        action.setCheckable(checkable)
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(f"{tip} ({keys[0].toString()})" if keys else tip)
        self.actions[name] = action
        self.window.addAction(action)  # its key works wherever the focus is in the window
        return action

    def _build_actions(self) -> None:
        menus = self.window.menus
        edit_menu = menus.get("&Edit") or self.window.menuBar().addMenu("&Edit")
        edit_menu.setObjectName("menu_edit")
        self.window.menuBar().insertMenu(menus["&View"].menuAction(), edit_menu)
        menus["&Edit"] = edit_menu
        quit_action = self.window.actions["quit"]
        file_menu = menus["&File"]
        file_menu.insertSeparator(quit_action)
        for spec in EDIT_ACTIONS:
            action = self._action(spec.name, spec.text, key_sequences(spec), spec.tip)
            slot = getattr(self.review if hasattr(self.review, spec.slot) else self, spec.slot)
            action.triggered.connect(lambda _c=False, slot=slot: slot())
            if spec.menu == "&File":
                file_menu.insertAction(quit_action, action)
            else:
                if spec.separator_before:
                    edit_menu.addSeparator()
                edit_menu.addAction(action)
            if spec.name == "redo":
                edit_menu.addSeparator()
                self._tool_group = QActionGroup(self)
                for name, text, key, tip in TOOLS:
                    tool = self._action(f"tool_{name}", text, [QKeySequence(key)], tip, checkable=True)
                    tool.toggled.connect(lambda on, n=name: on and self.set_tool(n))
                    self._tool_group.addAction(tool)
                    edit_menu.addAction(tool)
                self._paint_anchors.append(edit_menu.addSeparator())  # the paint actions follow it
        self.edit_menu = edit_menu
        self.actions["tool_pan"].setChecked(True)

    def _build_toolbar(self) -> None:
        bar = QToolBar("Edit tools", self.window)
        bar.setObjectName("toolbar_edit")
        for name, *_ in TOOLS:
            bar.addAction(self.actions[f"tool_{name}"])
        self._paint_anchors.append(bar.addSeparator())  # the paint actions follow it
        bar.addSeparator()
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)  # a class: swatch and name
        brush_label = QLabel("Brush")  # margins, not spaces: a screen reader reads the label's text
        brush_label.setContentsMargins(4, 0, 4, 0)
        bar.addWidget(brush_label)
        self.size_spin = QDoubleSpinBox()
        self.size_spin.setObjectName("brush_size")
        self.size_spin.setAccessibleName("Brush size")  # screen readers said nothing but the number
        brush_label.setBuddy(self.size_spin)
        self.size_spin.setRange(MIN_RADIUS, MAX_RADIUS)
        self.size_spin.setDecimals(0)
        self.size_spin.setSuffix(" px")
        self.size_spin.setToolTip("Brush radius in photo pixels ([ and ])")
        self.size_spin.setValue(self.tool_settings.radius)
        self.size_spin.valueChanged.connect(lambda v: self.tool_settings.set(radius=v))
        bar.addWidget(self.size_spin)
        similar_label = QLabel("Similar")
        similar_label.setContentsMargins(4, 0, 4, 0)
        bar.addWidget(similar_label)
        self.tolerance_spin = QDoubleSpinBox()
        self.tolerance_spin.setObjectName("similar_tolerance")
        self.tolerance_spin.setAccessibleName("Similar colour tolerance")
        similar_label.setBuddy(self.tolerance_spin)
        self.tolerance_spin.setRange(1, 60)
        self.tolerance_spin.setDecimals(0)
        self.tolerance_spin.setToolTip("Select similar: how far in colour (CIELAB) a pixel may be")
        self.tolerance_spin.setValue(self.tool_settings.tolerance)
        self.tolerance_spin.valueChanged.connect(lambda v: self.tool_settings.set(tolerance=v))
        bar.addWidget(self.tolerance_spin)
        self.window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.toolbar = bar

    def _connect(self) -> None:
        e, w = self.edits, self.window
        e.edited.connect(self._update)
        e.session_changed.connect(self._update)
        e.session_changed.connect(self._answer_review_warning)
        e.message.connect(self._say)
        e.edited.connect(self._drop_tool_hint)
        e.busy_changed.connect(self._on_busy)
        e.measured_left.connect(self._show_in_batch)
        w.controller.state.figures_changed.connect(self._on_figures)
        w.controller.state.photo_changed.connect(lambda _p: self._cancel_shapes())
        w.controller.photo_analyzed.connect(self.review.look_for_saved_mask)
        w.controller.batch_row_ready.connect(self._row_follows_edits)  # after the window appends it
        w.controller.model_loaded.connect(lambda model: self.set_paint_classes(model.classes))

    def _answer_review_warning(self, session: EditSession | None) -> None:
        """Signed again, undo/redo back to the signed mask, or the edits reverted (no session left): the
        warning of an edit after the review is answered."""
        answered = session is None or session.review.is_reviewed
        if answered and self.window.banner.text in REVIEW_GONE:
            self.window.banner.dismiss()

    # state --------------------------------------------------------------------------------------
    def _update(self, *_args) -> None:
        session, has_result = self.edits.session, self.window.controller.result is not None
        self.actions["undo"].setEnabled(session is not None and session.editor.can_undo)
        self.actions["redo"].setEnabled(session is not None and session.editor.can_redo)
        for name in ("mark_reviewed", "save_reviewed"):
            self.actions[name].setEnabled(has_result)
        self.actions["revert"].setEnabled(session is not None)
        self.actions["save_all_reviewed"].setEnabled(bool(self.edits.unsaved_sessions()))
        self.actions["export_training"].setEnabled(
            any(s.review.is_reviewed for s in self.edits.sessions.values())
        )
        self.actions["open_reviewed"].setEnabled(has_result)
        self._publish_review(session)
        self._follow_in_batch()

    def _follow_in_batch(self) -> None:
        """The batch row follows an edit, a signature or a revert of the photo on screen, calmly."""
        result = self.window.controller.result
        if result is None or self._rows_timer.isActive():
            return
        if self.edits.session is not None or self.window.batch_model.reviewed_in_window(result.path):
            self._rows_timer.start()

    def _publish_review(self, session: EditSession | None) -> None:
        """The session's sign-off goes into the state; the figures panel and others read it there."""
        if self.window.controller.result is None:
            return
        state = self.window.controller.state
        if session is None:
            state.set_review(ReviewState())
        else:
            state.set_review(session.review, session.unsaved)

    def confirm_close(self) -> bool:
        """True when nothing unsaved would be lost, or the user agrees (on quit)."""
        return self.review.confirm_close()

    def _on_figures(self, _result) -> None:
        self._follow_in_batch()
        self._publish_review(self.edits.session)

    def _update_batch_row(self) -> None:
        """The batch row of the photo on screen shows its figures as edited, signed or reverted."""
        result, session = self.window.controller.result, self.edits.session
        if result is None or self.window.controller.state.measures_pending:
            return  # a new share beside the old patches would disagree: the row waits for the measures
        self._show_in_batch(session, result)

    def _show_in_batch(self, session: EditSession | None, result: PhotoResult) -> None:
        """The batch row of `result`'s photo (and its session) shows these figures, signed or not."""
        review = None if session is None else session.review
        shown = result.figures()
        if review is not None and is_signed(review):
            shown = as_signed(shown)  # as the export and the figures panel count a signed mask
        if session is not None:
            session.figures = shown
        self.window.batch_model.update_figures(result.path, shown, review, result.labels)

    def _row_follows_edits(self, row) -> None:
        """A new batch row of a photo edited in this window shows the edit's figures, not the model's."""
        session = self.edits.sessions.get(row.path)
        if session is not None and session.figures is not None and not row.failed:
            labels = session.editor.labels
            self.window.batch_model.update_figures(row.path, session.figures, session.review, labels)

    def _on_busy(self, busy: bool) -> None:
        if busy:
            self._progress_timer.start()
            self.window.viewer.viewport().setCursor(Qt.CursorShape.BusyCursor)
        else:
            self._progress_timer.stop()
            self.progress.setVisible(False)
            tool = self.window.viewer.tool
            self.window.viewer.viewport().setCursor(tool.cursor if tool else Qt.CursorShape.ArrowCursor)

    def _cancel_shapes(self) -> None:
        for tool in self.tools.values():
            if tool is not None:
                tool.cancel()

    # tools --------------------------------------------------------------------------------------
    def _say(self, text: str, level: str) -> None:
        self._drop_tool_hint()
        if level == "info":
            self.window.show_status(text)
        else:
            self.window.show_message(text, level)

    def _drop_tool_hint(self) -> None:
        """A tool's hint ("first drag a box…") goes once it is acted on, another tool is taken or another
        message comes: it stayed up after the box was drawn and applied."""
        if self.window.banner.text in TOOL_HINTS:
            self.window.banner.dismiss()

    def set_tool(self, name: str) -> None:
        self._drop_tool_hint()
        self.window.viewer.set_tool(self.tools[name])
        self.actions[f"tool_{name}"].setChecked(True)

    def set_class(self, name: str) -> None:
        self.tool_settings.set(class_name=name)
        self.actions[f"class_{name}"].setChecked(True)

    def set_paint_classes(self, classes: Sequence[ClassInfo]) -> None:
        """One paint action a class of `classes` (the loaded model's: its names, colours, Alt+1 … Alt+N),
        in the Edit menu and on the tool bar, in place of the previous model's."""
        classes = tuple(classes)
        if classes == self.paint_classes:
            return
        old = self._class_actions
        for action in old:
            self.actions.pop(action.objectName().removeprefix("action_"), None)
        new = [self._paint_action(i, info) for i, info in enumerate(classes)]
        for widget, anchor in zip((self.edit_menu, self.toolbar), self._paint_anchors, strict=True):
            _replace_actions(widget, anchor, old, new)
        for action in old:
            self.window.removeAction(action)
            self._class_group.removeAction(action)
            action.deleteLater()
        self._class_actions, self.paint_classes = new, classes
        names = [c.name for c in classes]
        current = self.tool_settings.class_name
        self.set_class(current if current in names else "corrosion" if "corrosion" in names else names[0])

    def _paint_action(self, index: int, info: ClassInfo) -> QAction:
        keys = [QKeySequence(k) for k in paint_keys(index, info.name)]
        action = self._action(f"class_{info.name}", paint_text(info), keys, checkable=True)
        action.setIcon(_swatch(info.color))
        action.toggled.connect(lambda on, n=info.name: on and self.set_class(n))
        self._class_group.addAction(action)
        return action

    def bigger(self) -> None:
        self.size_spin.setValue(round(min(MAX_RADIUS, self.tool_settings.radius * RADIUS_STEP + 0.5)))

    def smaller(self) -> None:
        self.size_spin.setValue(round(max(MIN_RADIUS, self.tool_settings.radius / RADIUS_STEP)))

    def cancel_tool(self) -> None:
        """Esc: stop a fill or selection still running, else drop the shape being drawn."""
        if not self.edits.cancel_work():
            self._cancel_shapes()

    def undo(self) -> None:
        session = self.edits.session
        undone = self.edits.undo()
        editor = None if session is None else session.editor
        if editor is not None and undone is not None and not editor.can_undo and editor.dropped_steps:
            # the oldest step kept is undone and Undo greys out: say why the older ones cannot come back
            mb, n = max(1, editor.max_undo_bytes >> 20), editor.dropped_steps
            self._say(
                f"That was the oldest step kept: {counted(n, 'older edit step')} of this photo "
                f"{'was' if n == 1 else 'were'} let go to keep undo memory under {mb} MB (Edit ▸ Revert "
                "to the model's mask still brings back the model's).",
                "info",
            )

    def redo(self) -> None:
        self.edits.redo()
