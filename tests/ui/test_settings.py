"""Settings live in the QSettings given (an INI file in a temporary folder here), typed and validated."""

from __future__ import annotations

import pytest

from app.core.grading import GradeScale
from app.ui.settings import MAX_RECENT, AppSettings


def test_defaults(settings):
    assert settings.device == "auto"
    assert settings.grade_scale is GradeScale.ASTM_D610
    assert settings.recent_files == []
    assert settings.opacity("corrosion", 0.5) == 0.5
    assert settings.window_geometry is None


def test_values_survive_a_new_instance(settings, tmp_path):
    settings.device = "cpu"
    settings.grade_scale = GradeScale.ISO_4628_3
    settings.last_folder = tmp_path
    settings.set_opacity("asset", 0.3)
    settings.sync()
    again = AppSettings.at(tmp_path / "settings.ini")
    assert again.device == "cpu"
    assert again.grade_scale is GradeScale.ISO_4628_3
    assert again.last_folder == str(tmp_path)
    assert again.opacity("asset", 0.5) == pytest.approx(0.3)


def test_recent_files_newest_first_without_duplicates(settings):
    for i in range(MAX_RECENT + 3):
        settings.add_recent_file(f"/photos/{i}.jpg")
    settings.add_recent_file("/photos/5.jpg")
    recent = settings.recent_files
    assert len(recent) == MAX_RECENT
    assert recent[0] == "/photos/5.jpg" and recent.count("/photos/5.jpg") == 1
    assert recent[1] == f"/photos/{MAX_RECENT + 2}.jpg"


def test_bad_values_are_refused_or_ignored(settings):
    with pytest.raises(ValueError):
        settings.device = "tpu"
    with pytest.raises(ValueError):
        settings.grade_scale = "din"
    settings.qsettings.setValue("inference/device", "quantum")
    settings.qsettings.setValue("files/recent", "{not json")
    settings.qsettings.setValue("overlay/opacity/asset", "lots")
    assert settings.device == "auto"
    assert settings.recent_files == []
    assert settings.opacity("asset", 0.4) == 0.4
    settings.set_opacity("asset", 7)
    assert settings.opacity("asset", 0.4) == 1.0
