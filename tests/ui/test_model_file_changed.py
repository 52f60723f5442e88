"""A model is known by its SHA-256, not its path: Use CPU only loaded whatever the loaded model's file held
by then, without a word, when it had been replaced on disk."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.ui.conftest import TIMEOUT_MS


def test_use_cpu_only_refuses_a_file_replaced_since_it_was_loaded(
    qtbot, window, tmp_path: Path, model_path: Path, other_model_path: Path
) -> None:
    mine = shutil.copyfile(model_path, tmp_path / "site.onnx")
    with qtbot.waitSignal(window.controller.model_loaded, timeout=TIMEOUT_MS):
        window.controller.load_model(mine, "auto")
    loaded = window.controller.model
    shutil.copyfile(other_model_path, mine)  # another model under the same name
    with qtbot.waitSignal(window.controller.model_refused, timeout=TIMEOUT_MS):
        window.actions["use_cpu"].trigger()
    assert window.controller.model is loaded, "the model in use stays"
    assert "site.onnx changed on disk since it was loaded" in window.banner.text
    assert f"sha256 {loaded.short_sha} then" in window.banner.text
