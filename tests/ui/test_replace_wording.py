"""The replace question and refusals say what fits: one file is "Replace file?", and the trend window's
Save PDF… refuses a file that appeared after its question by saying to save again (not "ask to
overwrite")."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.errors import OutputExistsError
from app.core.project import Project
from app.ui.export_dialog import _overwrite_box


def test_one_file_is_replace_file_several_are_replace_files(qtbot, tmp_path: Path) -> None:
    one = _overwrite_box(None, [tmp_path / "P-7_trend.pdf"])
    two = _overwrite_box(None, [tmp_path / "a.pdf", tmp_path / "b.pdf"])
    qtbot.addWidget(one)
    qtbot.addWidget(two)
    assert (one.windowTitle(), two.windowTitle()) == ("Replace file?", "Replace files?")


def test_save_pdf_refuses_a_file_that_appeared_meanwhile_saying_to_save_again(
    qtbot, tmp_path: Path, monkeypatch
) -> None:
    from app.report import project_pdf
    from app.ui.project_export_job import _trend_pdf_job

    target = tmp_path / "site.corroscope"
    with Project.create(target) as project:
        asset = project.ensure_asset("P-7")
        trend = project.trend("P-7")
    path = tmp_path / "P-7_trend.pdf"
    real = project_pdf.render_asset_pdf

    def another_program_writes_first(*args, **kwargs):
        path.write_bytes(b"someone else's")
        return real(*args, **kwargs)

    monkeypatch.setattr(project_pdf, "render_asset_pdf", another_program_writes_first)
    with pytest.raises(OutputExistsError) as refused:
        _trend_pdf_job(str(target), path, asset, trend, False)
    assert str(refused.value).endswith("(save again to be asked whether to replace it)")
    assert path.read_bytes() == b"someone else's"
