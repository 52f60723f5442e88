"""The project window's worker jobs: they open the project themselves (a connection per thread) and touch
no widget."""

from __future__ import annotations

from pathlib import Path

from app.core.errors import CorroscopeError
from app.core.inference import InferenceOptions
from app.core.model import SegmentationModel
from app.core.project import PhotoEntry, Project, analyse_record
from app.core.project.photos import describe_photo
from app.core.project.rows import PHOTO_GONE
from app.ui.project_questions import changed_text


def rerun_job(
    target: str, model: SegmentationModel, photo_id: int, options: InferenceOptions, by: str | None = None
) -> int:
    """Store a new result of the photo; returns how many results the project keeps of it now."""
    with Project.open(target) as project:
        photo = project.photo(photo_id)
        if photo is None:  # another window removed it since this one read the project
            raise CorroscopeError(PHOTO_GONE)
        lookup = project.find_photo(photo)
        if lookup.path is None:
            if lookup.changed:
                raise CorroscopeError(changed_text(lookup.changed[0]))
            raise CorroscopeError(
                "The photo is not where the project says (moved or renamed?); Find moved photos… finds it"
            )
        path = lookup.path
        described = describe_photo(path)
        if described.sha256 != photo.sha256:  # replaced since it was found: its figures are another photo's
            raise CorroscopeError(changed_text(path))
        entry = PhotoEntry(described, analyse_record(model, path, options), model.path.name)
        project.add_result(photo_id, entry, by=by)
        return len(project.results(photo_id))


def relocate_job(target: str, folder: Path) -> int:
    """Look for the project's missing photos in `folder`; returns how many were found."""
    with Project.open(target) as project:
        return len(project.relocate(folder))
