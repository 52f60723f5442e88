"""The real main window, driven offscreen: open, overlay, figures, errors, models, keys, settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from app.core import contract
from app.core.analysis import analyze_photo
from app.core.grading import GradeScale
from app.core.model import SegmentationModel
from app.core.overlay import blend_overlay
from app.core.synthetic import synthetic_pipe
from app.ui.main_window import MainWindow
from app.ui.model_info_dialog import model_info_html
from app.ui.model_menu import NO_MODEL_TEXT
from app.ui.qimage import qimage_to_rgb
from tests.helpers.tiny_models import channel_model
from tests.ui.conftest import TIMEOUT_MS, open_and_wait, photo


def test_open_photo_shows_overlay_and_core_figures(qtbot, window, tmp_path):
    path, rgb = photo(tmp_path, 5)
    open_and_wait(qtbot, window, path)
    shown = qimage_to_rgb(window.viewer.rendered_image())
    assert shown.shape == rgb.shape
    assert not np.array_equal(shown, rgb), "the overlay is drawn over the photo"
    state, labels = window.overlay_state, window.controller.result.labels
    want = blend_overlay(rgb, labels, window.controller.model.classes, state.visible_ids, state.opacities)
    assert np.abs(shown.astype(int) - want).max() <= 2  # composed in the worker, equal to core's blend
    core = analyze_photo(SegmentationModel.load(window.controller.model.path, "cpu"), path)
    result = window.controller.result
    assert np.array_equal(result.labels, core.labels)
    assert result.stats == core.stats
    assert result.assessment == core.assessment
    values = window.figures.values()
    assert values["corrosion, % of the photo"] == f"{core.stats.percent['corrosion']:.2f} %"
    assert values["Corroded share of the asset"] == f"{core.stats.corroded_share:.2f} %"
    assert values["Provider"] == "CPU"
    d610 = core.assessment.astm.label + (
        "" if core.measures.distribution is None else f"-{core.measures.distribution.type}"
    )
    assert window.figures.grade_label.text() == f"ASTM D610: {d610}"
    window.figures.scale_combo.setCurrentIndex(
        window.figures.scale_combo.findData(GradeScale.ISO_4628_3.value)
    )
    assert window.figures.grade_label.text() == f"ISO 4628-3: {core.assessment.iso.display}"
    assert window.settings.grade_scale is GradeScale.ISO_4628_3


def test_class_checkbox_and_shortcut_toggle_that_class_only(qtbot, window, tmp_path):
    path, _rgb = photo(tmp_path, 6)
    open_and_wait(qtbot, window, path)
    labels = window.controller.result.labels
    before = qimage_to_rgb(window.viewer.rendered_image())
    window.overlay_panel.check_box(1).click()  # hide asset
    after = qimage_to_rgb(window.viewer.rendered_image())
    changed = np.any(before != after, axis=2)
    assert changed.any() and not changed[labels != 1].any()
    qtbot.keyClick(window, Qt.Key.Key_2)  # the asset's shortcut shows it again
    assert window.overlay_state.is_visible(1)
    assert window.overlay_panel.check_box(1).isChecked()
    assert np.array_equal(qimage_to_rgb(window.viewer.rendered_image()), before)


def test_opacity_slider_blends_and_is_kept_in_settings(qtbot, window, tmp_path):
    path, _ = photo(tmp_path, 8)
    open_and_wait(qtbot, window, path)
    window.overlay_panel.slider(0).setValue(90)
    assert window.overlay_state.opacity(0) == 0.9
    assert window.settings.opacity("corrosion", 0.5) == 0.9


def test_hold_space_to_compare(qtbot, window, tmp_path):
    path, rgb = photo(tmp_path, 9)
    open_and_wait(qtbot, window, path)
    window.overlay_panel.check_box(0).setFocus()
    qtbot.keyPress(window.overlay_panel.check_box(0), Qt.Key.Key_Space)
    assert window.overlay_state.comparing
    assert np.array_equal(qimage_to_rgb(window.viewer.rendered_image()), rgb)
    qtbot.keyRelease(window.overlay_panel.check_box(0), Qt.Key.Key_Space)
    assert not window.overlay_state.comparing
    assert window.overlay_panel.check_box(0).isChecked(), "Space must not toggle the focused check box"


def test_corrupt_file_shows_an_error_and_the_app_keeps_working(qtbot, window, tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not a JPEG")
    with qtbot.waitSignal(window.controller.photo_failed, timeout=TIMEOUT_MS):
        window.open_photo(bad)
    assert window.banner.level == "error"
    assert "broken.jpg" in window.banner.text
    good, _ = photo(tmp_path, 4)
    open_and_wait(qtbot, window, good)
    assert window.controller.result.path == good
    assert window.banner.text == ""


def test_bad_model_is_refused_and_the_previous_one_kept(qtbot, window, bad_model_path, tmp_path):
    previous = window.controller.model
    with qtbot.waitSignal(window.controller.model_refused, timeout=TIMEOUT_MS):
        window.controller.load_model(bad_model_path, "cpu")
    assert window.controller.model is previous
    assert "refused" in window.banner.text and "no-classes.onnx" in window.banner.text
    not_onnx = tmp_path / "junk.onnx"
    not_onnx.write_bytes(b"definitely not protobuf")
    with qtbot.waitSignal(window.controller.model_refused, timeout=TIMEOUT_MS):
        window.open_paths([not_onnx])  # the drop path: an .onnx file loads as a model
    assert window.controller.model is previous
    open_and_wait(qtbot, window, photo(tmp_path, 2)[0])  # still works


def test_another_model_replaces_the_current_and_reanalyses(qtbot, window, other_model_path, tmp_path):
    open_and_wait(qtbot, window, photo(tmp_path, 2)[0])
    first_conf = window.controller.result.mean_confidence
    with qtbot.waitSignal(window.controller.photo_analyzed, timeout=TIMEOUT_MS):
        window.controller.load_model(other_model_path, "cpu")
    assert window.controller.model.path == other_model_path
    assert window.controller.result.model_sha256 == window.controller.model.sha256
    assert window.controller.result.mean_confidence != first_conf
    assert "tiny-b.onnx" in window.provider_label.toolTip()


def test_status_bar_says_provider_and_why_not_cuda(window):
    text = window.provider_label.text()
    model = window.controller.model
    assert text.startswith(f"Running on {model.device}")
    assert model.cuda_note and model.cuda_note in text  # CPU was chosen in the fixture


def test_model_info_dialog_lists_classes_sha_and_metrics(window):
    html = model_info_html(window.controller.model)
    model = window.controller.model
    assert model.sha256 in html
    for c in model.classes:
        assert c.name in html
    assert "miou" in html
    assert "CPUExecutionProvider" in html


def test_model_info_names_a_bundled_model_by_its_place_in_the_program_and_others_by_path(tmp_path):
    from app.core.paths import models_dir
    from app.ui.model_info_dialog import model_file_text

    bundled = models_dir() / "corrosion-deeplabv3plus-mobilenetv2.int8.onnx"
    assert model_file_text(bundled) == (
        "corrosion-deeplabv3plus-mobilenetv2.int8.onnx (bundled with Corroscope, in its models folder)"
    )
    assert str(models_dir()) not in model_file_text(bundled), "no machine's install path in the dialog"
    own = tmp_path / "site-model.onnx"
    assert model_file_text(own) == str(own)


def test_model_info_dialog_names_the_members_of_an_ensemble(tmp_path):
    members = [{"file": "a.onnx", "sha256": "ab" * 32}, {"file": "b.onnx", "sha256": "cd" * 32}]
    path = channel_model(tmp_path / "ens.onnx", metadata={contract.KEY_ENSEMBLE: json.dumps(members)})
    html = model_info_html(SegmentationModel.load(path, device="cpu"))
    assert "mean of 2 models: a.onnx (SHA-256 abababababab), b.onnx (SHA-256 cdcdcdcdcdcd)" in html
    broken = channel_model(tmp_path / "broken.onnx", metadata={contract.KEY_ENSEMBLE: "[{"})
    assert "listed, but not readable" in model_info_html(SegmentationModel.load(broken, device="cpu"))


def test_no_bundled_model_says_how_to_load_one(qtbot, settings, monkeypatch):
    import app.ui.main as main_module

    monkeypatch.setattr(main_module, "default_model_path", lambda *_args, **_kwargs: None)
    args = main_module.parse_args([])
    win = main_module.create_window(args, settings)
    qtbot.addWidget(win)
    assert win.banner.text == NO_MODEL_TEXT
    assert "Load model" in win.banner.text
    assert win.provider_label.text() == "No model loaded"


def test_command_line_model_and_photo(qtbot, settings, model_path, tmp_path):
    import app.ui.main as main_module

    path, _ = photo(tmp_path, 12)
    args = main_module.parse_args([str(path), "--model", str(model_path), "--device", "cpu"])
    win = main_module.create_window(args, settings)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.controller.result is not None, timeout=TIMEOUT_MS)
    assert win.controller.result.path == path
    assert settings.device == "cpu"
    win.controller.shutdown()


def test_a_photo_named_relative_to_the_start_folder_opens_by_its_whole_path(
    qtbot, settings, model_path, tmp_path, monkeypatch
):
    import app.ui.main as main_module

    monkeypatch.chdir(tmp_path)
    photo(tmp_path, 14, name="pipe.png")
    args = main_module.parse_args(["pipe.png", "--model", str(model_path), "--device", "cpu"])
    win = main_module.create_window(args, settings)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.controller.result is not None, timeout=TIMEOUT_MS)
    assert win.controller.result.path == tmp_path / "pipe.png"  # exports and reports name it whole
    win.controller.shutdown()


def test_drop_a_photo_opens_it(qtbot, window, tmp_path):
    path, _ = photo(tmp_path, 13)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(
        QPointF(50, 50),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(window.controller.photo_analyzed, timeout=TIMEOUT_MS):
        window.dropEvent(event)
    assert window.controller.result.path == path


def test_a_dropped_or_named_project_file_opens_as_a_project(qtbot, window, tmp_path):
    from app.core.project import Project

    target = tmp_path / "site.corroscope"
    Project.create(target).close()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(target))])
    no_button, no_key = Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier
    event = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, no_button, no_key)
    with qtbot.waitSignal(window.projects.project_changed, timeout=TIMEOUT_MS):  # opened on a worker
        window.dropEvent(event)
    assert window.projects.project is not None and window.projects.project.location.file == target
    assert "not an image" not in window.banner.text


def test_recent_files_and_last_folder_are_remembered(qtbot, window, tmp_path):
    a, _ = photo(tmp_path, 14)
    b, _ = photo(tmp_path, 15)
    open_and_wait(qtbot, window, a)
    open_and_wait(qtbot, window, b)
    assert window.settings.recent_files[:2] == [str(b), str(a)]
    assert window.settings.last_folder == str(tmp_path)
    entries = [act for act in window._recent_menu.actions()]
    assert [act.text().split(" — ")[0] for act in entries[:2]] == [b.name, a.name]
    assert [act.toolTip() for act in entries[:2]] == [str(b), str(a)]
    with qtbot.waitSignal(window.controller.photo_analyzed, timeout=TIMEOUT_MS):
        entries[1].trigger()
    assert window.controller.result.path == a


def test_device_setting_and_geometry_persist(qtbot, settings, model_path):
    win = MainWindow(settings)
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.controller.model_loaded, timeout=TIMEOUT_MS):
        win.controller.load_model(model_path, settings.device)
    with qtbot.waitSignal(win.controller.model_loaded, timeout=TIMEOUT_MS):
        win.actions["use_cpu"].setChecked(True)  # reloads the model on the CPU
    assert settings.device == "cpu"
    assert win.controller.model.cuda_note == "CUDA not used: CPU was chosen"
    win.show()
    win.resize(700, 500)
    qtbot.waitUntil(lambda: win.width() == 700)
    win.close()
    again = MainWindow(type(settings)(settings.qsettings))
    qtbot.addWidget(again)
    again.show()
    assert again.actions["use_cpu"].isChecked()
    assert again.size().width() == 700 and again.size().height() == 500


def test_ctrl_o_is_the_open_action(window):
    from PySide6.QtGui import QKeySequence

    assert window.actions["open_photo"].shortcut() == QKeySequence(QKeySequence.StandardKey.Open)
    assert window.actions["open_photo"].shortcut().toString() == "Ctrl+O"
    assert Path(window.settings.qsettings.fileName()).name == "settings.ini"


def test_refused_first_model_says_none_is_loaded(qtbot, settings, bad_model_path):
    win = MainWindow(settings)
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.controller.model_refused, timeout=TIMEOUT_MS):
        win.controller.load_model(bad_model_path, "cpu")
    assert win.controller.model is None
    assert "no model is loaded" in win.banner.text and "Load model" in win.banner.text
    assert not win.actions["model_info"].isEnabled()


def test_fine_detail_runs_tiles_and_is_remembered(qtbot, window, tmp_path):
    from app.core.inference import InferenceMode

    open_and_wait(qtbot, window, photo(tmp_path, 16, size=(120, 160))[0])
    assert window.controller.result.mode is InferenceMode.RESIZE
    with qtbot.waitSignal(window.controller.photo_analyzed, timeout=TIMEOUT_MS):
        window.actions["use_tiles"].setChecked(True)
    assert window.controller.result.mode is InferenceMode.TILES
    assert window.settings.tiles


def test_main_starts_the_window_and_returns_when_it_closes(tmp_path, model_path):
    """`main(argv)` in its own process (its event loop must not end the test session's)."""
    script = f"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from app.ui.main import main
from app.ui.main_window import MainWindow
qapp = QApplication(sys.argv[:1])
seen = {{}}
def close_when_loaded():
    wins = [w for w in qapp.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
    if wins and wins[0].controller.model is not None:
        seen["status"] = wins[0].provider_label.text()
        wins[0].close()
        qapp.quit()
    else:
        QTimer.singleShot(50, close_when_loaded)
QTimer.singleShot(0, close_when_loaded)
rc = main(["--model", {str(model_path)!r}, "--device", "cpu", "--settings", {str(tmp_path / "s.ini")!r}])
print("STATUS", seen.get("status"))
sys.exit(rc)
"""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    proc = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Running on CPU" in proc.stdout
    assert (tmp_path / "s.ini").exists(), "geometry and settings were saved on close"


def test_a_large_jpeg_shows_in_full_with_the_figures_of_every_other_path(qtbot, window, tmp_path):
    """The window's network sees the reduced decode, as `analyze_photo` and the batch do; the photo shown
    is the full decode."""
    from PIL import Image

    from app.core.photo_decode import start_decode
    from app.core.photos import read_image
    from app.core.pipeline import BatchOptions, run_batch

    rgb, _labels = synthetic_pipe(8, (480, 640))
    path = tmp_path / "large.jpg"
    Image.fromarray(rgb).save(path, "JPEG", quality=92)
    model = SegmentationModel.load(window.controller.model.path, "cpu")
    with start_decode(path, input_size=model.input_size) as decode:
        assert decode.scale > 1
    open_and_wait(qtbot, window, path)
    assert np.array_equal(window.controller.current.rgb, read_image(path))
    core = analyze_photo(model, path)
    batch = run_batch(model, [path], tmp_path / "out", BatchOptions(), keep_results=True).outcomes[0].result
    result = window.controller.result
    for other in (core, batch):
        assert np.array_equal(result.labels, other.labels)
        assert (result.stats, result.assessment, result.measures) == (
            other.stats,
            other.assessment,
            other.measures,
        )


def test_a_multi_page_tiff_says_in_the_window_that_only_its_first_page_is_analysed(qtbot, window, tmp_path):
    """The window analysed the first page of a three-page TIFF without a word (the log said it)."""
    from PIL import Image

    pages = [Image.fromarray(synthetic_pipe(seed, (96, 128))[0]) for seed in (1, 2, 3)]
    path = tmp_path / "scan.tif"
    pages[0].save(path, save_all=True, append_images=pages[1:])
    open_and_wait(qtbot, window, path)
    assert "scan.tif holds more than one page" in window.banner.text, window.banner.text
    assert "only the first is shown and analysed" in window.banner.text
    single = tmp_path / "one.tif"
    pages[0].save(single)
    open_and_wait(qtbot, window, single)
    assert "more than one page" not in window.banner.text


def test_space_ticks_a_box_reached_with_tab(qtbot, window, tmp_path):
    """Space always compared, so "Needs review only", which no key toggles, could not be ticked without a
    mouse: a box reached with Tab takes Space, as a button does."""
    path, _rgb = photo(tmp_path, 9)
    open_and_wait(qtbot, window, path)
    box = window.batch.review_only
    window.batch.start(0)  # the box shows once there is a batch
    window.activateWindow()
    box.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(box.hasFocus, timeout=TIMEOUT_MS)
    qtbot.keyClick(box, Qt.Key.Key_Space)
    assert box.isChecked() and not window.overlay_state.comparing
