"""The main window's menu actions as one table (labelme habit), and the keys that are not actions."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtGui import QKeySequence

from app.core.palette import DEFAULT_CLASSES, ClassInfo
from app.ui.actions import ActionSpec, shortcut_rows
from app.ui.overlay_panel_widget import COMPARE_KEY_TEXT

SK = QKeySequence.StandardKey
ACTIONS = (
    ActionSpec(
        "open_photo", "&File", "&Open photo…", "open_photo_dialog", SK.Open, "Open a photo and analyse it"
    ),
    ActionSpec(
        "open_folder",
        "&File",
        "Open &folder…",
        "open_folder_dialog",
        "Ctrl+Shift+O",
        "Analyse every photo in a folder",
    ),
    ActionSpec(
        "recursive",
        "&File",
        "Include su&bfolders",
        "set_recursive",
        None,
        "Open folder also analyses the photos in its subfolders (kept in the settings)",
        checkable=True,
    ),
    ActionSpec("new_project", "&File", "&New project…", "new_project_dialog", None, separator_before=True),
    ActionSpec("open_project", "&File", "Open pro&ject…", "open_project_dialog", "Ctrl+Shift+P"),
    ActionSpec("open_project_server", "&File", "Open project on a ser&ver…", "open_project_server_dialog"),
    ActionSpec(
        "close_project",
        "&File",
        "C&lose project",
        "close_project",
        None,
        "Close the open project (its file or server is left as it is; reviews being stored finish)",
    ),
    ActionSpec(
        "export_project",
        "&File",
        "E&xport project…",
        "export_project_dialog",
        None,
        "The project's tables (project.csv, trends.csv) and each asset's trend PDF, into a folder",
    ),
    ActionSpec(
        "export",
        "&File",
        "&Export results…",
        "export_dialog",
        "Ctrl+E",
        "Mask, overlay, JSON and PDF of this photo",
        separator_before=True,
    ),
    ActionSpec(
        "export_csv", "&File", "Export batch &CSV…", "export_batch_csv", None, "The batch table as CSV"
    ),
    ActionSpec(
        "export_batch_pdf",
        "&File",
        "Export batch &PDF report…",
        "export_batch_pdf",
        None,
        "One PDF for the whole batch",
    ),
    # Ctrl+Q too: the platform's Quit key is empty on Windows and on some Linux desktops
    ActionSpec("quit", "&File", "&Quit", "close", SK.Quit, separator_before=True, more_shortcuts=("Ctrl+Q",)),
    # The Project panel's buttons as menu items with keys: a push button in a dock is reached with Tab
    # only, one by one; enabled as the buttons are (ProjectUi.sync_actions)
    ActionSpec(
        "add_inspection",
        "&Project",
        "&Add inspection…",
        "add_inspection_dialog",
        "Ctrl+Shift+A",
        "Analyse photos and store them as an inspection of an asset",
    ),
    ActionSpec(
        "trend",
        "&Project",
        "&Trend…",
        "trend_of_picked",
        "Ctrl+T",
        "The picked asset's corroded share and grade against the inspection date",
    ),
    ActionSpec(
        "compare",
        "&Project",
        "&Compare…",
        "compare_of_picked",
        "Ctrl+Shift+C",
        "A photo of one inspection of the picked asset beside a photo of another",
    ),
    ActionSpec(
        "rerun",
        "&Project",
        "&Re-run model",
        "rerun_picked",
        None,
        "Analyse the picked photo again with the loaded model; both results are kept",
        separator_before=True,
    ),
    ActionSpec(
        "relocate",
        "&Project",
        "Find &moved photos…",
        "relocate_dialog",
        None,
        "Point to the folder photos were moved to; they are found by content",
    ),
    ActionSpec(
        "reload_project",
        "&Project",
        "Re&load",
        "reload",
        "F5",
        "Read the project again: what others added on a shared server since it was last read",
        separator_before=True,
    ),
    ActionSpec("zoom_fit", "&View", "Zoom to &fit", "zoom_fit", "Ctrl+0"),
    ActionSpec("zoom_actual", "&View", "&Actual size (1:1)", "zoom_actual", "Ctrl+1"),
    ActionSpec("zoom_in", "&View", "Zoom &in", "zoom_in", SK.ZoomIn, more_shortcuts=("Ctrl+=",)),
    ActionSpec("zoom_out", "&View", "Zoom o&ut", "zoom_out", SK.ZoomOut),
    ActionSpec(
        "previous_photo",
        "&View",
        "&Previous photo",
        "previous_photo",
        "PgUp",
        "The previous photo of the batch, or of the photo's folder",
        separator_before=True,
        more_shortcuts=("A",),
    ),
    ActionSpec(
        "next_photo",
        "&View",
        "&Next photo",
        "next_photo",
        "PgDown",
        "The next photo of the batch, or of the photo's folder",
        more_shortcuts=("D",),
    ),
    ActionSpec(
        "load_model", "&Model", "&Load model…", "load_model_dialog", "Ctrl+M", "Load another ONNX model"
    ),
    ActionSpec(
        "default_model",
        "&Model",
        "Return to the &shipped model",
        "use_default_model",
        None,
        "Forget the model loaded by hand (or adapted) and load the bundled one",
    ),
    ActionSpec(
        "adapt_model",
        "&Model",
        "&Adapt to these reviewed photos…",
        "adapt_model_dialog",
        None,
        "Refit the model's final classifier to the reviewed masks of these photos; writes a new model file",
    ),
    ActionSpec("model_info", "&Model", "Model &information…", "show_model_info", "Ctrl+I"),
    ActionSpec(
        "use_cpu",
        "&Model",
        "Use &CPU only",
        "set_cpu_only",
        None,
        "Do not try CUDA (kept in the settings)",
        checkable=True,
        separator_before=True,
    ),
    ActionSpec(
        "use_tiles",
        "&Model",
        "Fine &detail (tiles, slower)",
        "set_tiles",
        None,
        "Look twice: the whole photo resized, then, near the edges between classes, tiles of the photo "
        "at 1.75x the model's input size",
        checkable=True,
    ),
    ActionSpec("user_guide", "&Help", "&User guide", "show_user_guide", SK.HelpContents),
    ActionSpec("shortcuts", "&Help", "&Keyboard shortcuts…", "show_shortcuts", "Ctrl+/"),
    ActionSpec("about", "&Help", "&About Corroscope", "show_about", separator_before=True),
)

# Keys that work without a menu action (the overlay panel's shortcuts, the viewer, the batch table).
OTHER_KEYS = (
    ("Overlay", "Show or hide class 1, 2, 3 …", "1, 2, 3 … 9"),
    ("Overlay", "Compare with the plain photo (hold)", COMPARE_KEY_TEXT),
    ("Overlay", "Show or hide the patch outlines layer", "O"),  # app/ui/layers.py KEYS
    ("Overlay", "Show or hide the uncertainty layer", "U"),
    ("Viewer", "Zoom about the cursor", "Mouse wheel"),
    ("Viewer", "Pan", "Drag with the mouse"),
    ("Batch", "Previous or next row (shows that photo)", "Up, Down"),
    ("Project", "The picked asset's, inspection's or photo's menu", "Menu key, Shift+F10"),  # tree_menu.py
    ("Compare", "Zoom both photos to fit, in, out", "Ctrl+0, Ctrl++, Ctrl+-"),  # app/ui/compare_dialog.py
)


def all_shortcuts(classes: Sequence[ClassInfo] = DEFAULT_CLASSES) -> list[tuple[str, str, str]]:
    """(where, what, keys) for every key the window knows, actions first; the paint keys are those of
    `classes` (the loaded model's)."""
    from app.ui.edit_keys import EDIT_ACTIONS, edit_shortcuts  # the Edit menu builds itself

    edit = edit_shortcuts(classes)
    return shortcut_rows(ACTIONS) + shortcut_rows(EDIT_ACTIONS) + edit + list(OTHER_KEYS)
