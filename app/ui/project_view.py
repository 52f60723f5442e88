"""What the window shows of its project, read in one go on a worker thread (`load_view`), and the runner
that does such reads off the UI thread (`ProjectReads`).

A query to a server can hang as long as the server stalls; the UI thread therefore never queries: the
panel's tree, a picked photo's stored figures, the trend and compare all read a `ProjectView`, which a
worker loads (each query checks a connection out of the project's engine on that worker's thread, so
no connection is shared between threads).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.core.errors import ProjectError
from app.core.project import Asset, Inspection, Project, StoredPhoto, StoredResult, Trend
from app.core.project.photos import PhotoLookup, missing_photos, photo_places
from app.core.project.trend import build_trend
from app.core.text import safe_path, safe_repr
from app.ui.workers import Worker, WorkerPool


@dataclass(frozen=True)
class ProjectView:
    """A project's assets, inspections, photos and each photo's newest result, as read at one time;
    its methods answer as the `Project`'s of the same names do, from memory."""

    project: Project
    asset_list: tuple[Asset, ...]
    inspection_list: tuple[Inspection, ...]
    photos_of: Mapping[int, tuple[StoredPhoto, ...]]  # inspection id -> its photos in order
    latest: Mapping[int, StoredResult]  # photo id -> its newest result
    missing: frozenset[int] = frozenset()  # ids of the photos not found at the read (by size: none is read)

    def assets(self) -> list[Asset]:
        return list(self.asset_list)

    def asset(self, tag: str) -> Asset | None:
        return next((a for a in self.asset_list if a.tag == tag), None)

    def inspections(self, asset_tag: str | None = None) -> list[Inspection]:
        return [i for i in self.inspection_list if asset_tag is None or i.asset_tag == asset_tag]

    def photos(self, inspection_id: int) -> list[StoredPhoto]:
        return list(self.photos_of.get(inspection_id, ()))

    def photo(self, photo_id: int) -> StoredPhoto | None:
        return next((p for ps in self.photos_of.values() for p in ps if p.id == photo_id), None)

    def latest_result(self, photo_id: int) -> StoredResult | None:
        return self.latest.get(photo_id)

    def latest_results(self, inspection_ids: Iterable[int]) -> dict[int, list[StoredResult]]:
        return {i: [self.latest[p.id] for p in self.photos(i) if p.id in self.latest] for i in inspection_ids}

    def photo_file(self, photo: StoredPhoto, verify: bool = True) -> Path | None:
        """Where the photo is now (the file system, not the database); another file there is not it."""
        return self.project.photo_file(photo, verify)

    def find_photo(self, photo: StoredPhoto, verify: bool = True) -> PhotoLookup:
        """`photo_file` with the places that hold another file now (the photo changed)."""
        return self.project.find_photo(photo, verify)

    def photos_at(self, path: Path) -> list[StoredPhoto]:
        """The stored photos that may be the file at `path` (by the paths stored; no file system access);
        one not found at the read (another file of another size is there) is not."""
        return [p for p in self._by_place.get(path, ()) if p.id not in self.missing]

    @cached_property
    def _by_place(self) -> dict[Path, list[StoredPhoto]]:
        """Each place a stored photo may be -> those photos (made once a view: every photo shown asks)."""
        out: dict[Path, list[StoredPhoto]] = {}
        for photos in self.photos_of.values():
            for photo in photos:
                for place in dict.fromkeys(photo_places(photo, self.project.location.folder)):
                    out.setdefault(place, []).append(photo)
        return out

    def trend(self, asset_tag: str) -> Trend:
        if self.asset(asset_tag) is None:
            raise ProjectError(
                f"No asset {safe_repr(asset_tag)} in {safe_path(self.project.location.display)}"
            )
        inspections = self.inspections(asset_tag)
        return build_trend(asset_tag, inspections, self.latest_results(i.id for i in inspections))


def load_view(project: Project) -> ProjectView:
    """Worker job: read what the window shows, and which photos' files are not where the project says.
    Assets are read last, so every inspection's is there."""
    inspections = project.inspections()
    results = project.latest_results(i.id for i in inspections)
    photos = {i: tuple(found) for i, found in project.photos_of(i.id for i in inspections).items()}
    assets = project.assets()
    latest = {r.photo_id: r for found in results.values() for r in found}
    held = (p for found in photos.values() for p in found)
    missing = frozenset(p.id for p in missing_photos(held, project.location.folder))
    return ProjectView(project, tuple(assets), tuple(inspections), photos, latest, missing)


class ProjectReads(QObject):
    """Runs reads of a project on its own worker threads (a hung query never holds up a photo's
    analysis); of the reads under one key, only the newest one's result or failure is delivered."""

    busy_changed = Signal(bool)  # whether any read is still wanted

    def __init__(self, parent: QObject | None = None, max_threads: int = 3) -> None:
        super().__init__(parent)
        self.pool = WorkerPool(self, max_threads)  # deleted with its owner: late results are dropped
        self._newest: dict[str, Worker] = {}

    @property
    def busy(self) -> bool:
        return bool(self._newest)

    def run(
        self,
        key: str,
        fn: Callable[..., Any],
        *args: Any,
        done: Callable[[Any], None],
        failed: Callable[[str], None],
    ) -> Worker:
        """Start `fn(*args)` on a worker; `done(value)` or `failed(message)` follow on the UI thread,
        unless another read under `key` was started meanwhile or `drop_all` was called."""
        worker = Worker(fn, *args)
        self._newest[key] = worker
        worker.signals.returned.connect(lambda value: self._newest.get(key) is worker and done(value))
        worker.signals.failed.connect(lambda msg: self._newest.get(key) is worker and failed(msg))
        worker.signals.finished.connect(lambda: self._finished(key, worker))
        self.pool.start(worker)
        self.busy_changed.emit(True)
        return worker

    def _finished(self, key: str, worker: Worker) -> None:
        if self._newest.get(key) is worker:
            del self._newest[key]
            if not self._newest:
                self.busy_changed.emit(False)

    def drop_all(self) -> None:
        """Deliver nothing of the reads running now (the project they read was closed)."""
        was_busy = self.busy
        self._newest.clear()
        if was_busy:
            self.busy_changed.emit(False)
