"""A stored photo is known by its content, not only its path: another file copied over it, or another
site's photo at its relative path, is not that photo (not opened with its figures, not re-run, relocated)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from app.core.errors import CorroscopeError
from app.core.inference import InferenceOptions
from app.core.project import Project, add_inspection_photos
from app.core.project.photos import missing_photos
from tests.helpers.pipe_photos import photo_folder

DATE = dt.date(2024, 3, 1)


def _same_size_other_content(path: Path) -> None:
    """Change one byte in the middle: the size stays, the SHA-256 does not (only a hash can tell)."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_file_copied_over_a_stored_photo_is_not_that_photo(target: str, tmp_path: Path, tiny_model) -> None:
    folder = photo_folder(tmp_path / "photos", 3, 0.1, size=(24, 32))
    with Project.create(target) as project:
        summary = add_inspection_photos(project, tiny_model, "P-1", DATE, sorted(folder.iterdir()))
        assert summary.outcome is not None
        first, second, third = project.photos(summary.outcome.inspection_id)
        shutil.copyfile(second.path, first.path)  # another photo of another size over the first
        _same_size_other_content(Path(third.path))  # the same size, another content
        assert project.photo_file(first) is None and project.photo_file(third) is None
        assert project.find_photo(first).changed == (Path(first.path),)
        assert project.photo_file(second) == Path(second.path)
        # the tree's look (sizes only, nothing read) sees the first; a verified look both
        assert [p.id for p in missing_photos([first, second, third], None)] == [first.id]
        assert [p.id for p in missing_photos([first, second, third], None, verify=True)] == [
            first.id,
            third.id,
        ]


def test_another_sites_photo_at_the_relative_path_is_passed_over_and_relocate_finds_the_right_one(
    tmp_path: Path, tiny_model
) -> None:
    folder = photo_folder(tmp_path / "site" / "photos", 1, 0.1)
    with Project.create(tmp_path / "site" / "p.corroscope") as project:
        add_inspection_photos(project, tiny_model, "P-1", DATE, sorted(folder.iterdir()))
    other = tmp_path / "other"
    photo_folder(other / "photos", 1, 0.3, seed=9, size=(30, 40))  # another photo at the relative path
    shutil.copyfile(tmp_path / "site" / "p.corroscope", other / "p.corroscope")
    with Project.open(other / "p.corroscope") as project:
        (photo,) = project.photos(project.inspections()[0].id)
        assert project.photo_file(photo) == folder / "photo_000.png"  # the stored absolute path
        kept = tmp_path / "kept"
        shutil.move(str(folder), str(kept))
        assert project.photo_file(photo) is None
        found = project.relocate(kept)
        assert [Path(p.path) for p in found] == [kept / "photo_000.png"]
        assert project.photo_file(found[0]).resolve() == (kept / "photo_000.png").resolve()


def test_a_rerun_of_a_photo_whose_file_changed_is_refused_naming_the_file(
    target: str, tmp_path: Path, tiny_model
) -> None:
    pytest.importorskip("PySide6")
    from app.ui.project_worker_jobs import rerun_job

    folder = photo_folder(tmp_path / "photos", 2, 0.1)
    with Project.create(target) as project:
        summary = add_inspection_photos(project, tiny_model, "P-1", DATE, sorted(folder.iterdir()))
        assert summary.outcome is not None
        photo = project.photos(summary.outcome.inspection_id)[0]
    _same_size_other_content(Path(photo.path))
    with pytest.raises(CorroscopeError, match=r"photo_000\.png is not the photo the project stored"):
        rerun_job(target, tiny_model, photo.id, InferenceOptions())
    with Project.open(target) as project:
        assert len(project.results(photo.id)) == 1
