"""`project add --mode tiles` analyses at the tile scale `analyze` and the window use, the stored result
records it, and a re-run at another scale is not taken for the same run."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from app import project_cli
from app.core.inference import InferenceOptions
from app.core.project import Project, add_inspection_photos
from tests.helpers.pipe_photos import photo_folder


def test_add_defaults_to_the_tile_scale_of_analyze() -> None:
    parser = argparse.ArgumentParser()
    project_cli.register(parser.add_subparsers())
    args = parser.parse_args(
        ["project", "add", "p.corroscope", "x.png", "--asset", "P", "--date", "2024-01-01"]
    )
    assert args.tile_scale == InferenceOptions().tile_scale == 1.75


def test_a_tiles_result_records_its_scale_and_another_scale_is_another_run(
    target: str, tmp_path: Path, tiny_model
) -> None:
    pytest.importorskip("PySide6")
    from app.ui.project_questions import same_run

    photos = sorted(photo_folder(tmp_path / "p", 1, 0.1).iterdir())
    tiles = InferenceOptions(mode="tiles")
    with Project.create(target) as project:
        summary = add_inspection_photos(
            project, tiny_model, "P-1", dt.date(2024, 1, 1), photos, options=tiles
        )
        assert summary.outcome is not None
        (photo,) = project.photos(summary.outcome.inspection_id)
        latest = project.latest_result(photo.id)
    assert latest is not None and latest.tile_scale == 1.75
    assert same_run(latest, tiny_model, tiles)
    assert not same_run(latest, tiny_model, dataclasses.replace(tiles, tile_scale=2.5))
    unknown = dataclasses.replace(
        latest, record={k: v for k, v in latest.record.items() if k != "tile_scale"}
    )
    assert unknown.tile_scale is None and not same_run(
        unknown, tiny_model, tiles
    )  # stored before: may differ
