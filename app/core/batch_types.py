"""The records of a batch: options (picklable), each planned photo, the plan, each outcome, the summary."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from app.core import exporters, ownership
from app.core.analysis import PhotoFailure, PhotoResult
from app.core.grading import ReviewPolicy
from app.core.inference import InferenceOptions
from app.core.outlock import OutputLock
from app.core.overlay_style import EVERY_CLASS, OverlayStyle
from app.core.photos import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS
from app.core.physical import ScaleError, check_scale
from app.core.record import PhotoRecord
from app.core.report_header import ReportHeader
from app.core.saved_corrections import CorrectionSearch

DONE, SKIPPED, FAILED = "done", "skipped", "failed"
# Photos in a row that fail for want of space before a batch stops: the rest would fail alike, each after
# its (slow) analysis. More than one, since a single large photo may not fit where smaller ones still do.
DISK_FULL_STOP = 3
DEFAULT_EXPORTS = ("mask", "overlay", "json")


@dataclass(frozen=True)
class BatchOptions:
    """Everything a batch needs besides the photos; picklable, so it travels to worker processes.

    `exports` are kinds of `app.core.exporters` (empty: figures only, nothing written);
    `model_path`/`device` let a process that was not handed a model load its own (once).
    """

    inference: InferenceOptions = field(default_factory=InferenceOptions)
    policy: ReviewPolicy = field(default_factory=ReviewPolicy)
    exports: tuple[str, ...] = DEFAULT_EXPORTS
    overlay: OverlayStyle = EVERY_CLASS  # how the overlay files and reports show the classes
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_bytes: int = DEFAULT_MAX_BYTES  # bytes read from one photo file
    overwrite: bool = False
    resume: bool = True
    model_path: Path | None = None
    device: str = "auto"
    grade_scale: str | None = None  # the scale shown in reports (None: both)
    mm_per_px: float | None = None  # the photos' scale: areas in mm² (None: pixels and shares only)
    input_folders: tuple[Path, ...] = ()  # the folders given: the CSV's `file` is relative to them
    reviewed_masks: Path | None = None  # a folder of reviewed masks: their figures replace the model's
    # the window's batch: each photo's own saved correction (beside it, in its results folder) gives its
    # figures, as the photo opened alone does; `reviewed_masks`, when given, comes first
    corrections: CorrectionSearch | None = None
    report_header: ReportHeader | None = None  # asset, location, client, inspector, date of the PDFs

    def __post_init__(self) -> None:
        if self.mm_per_px is not None:
            try:
                check_scale(self.mm_per_px)  # the same range as the window's scale and the CLI's option
            except ScaleError as exc:
                raise ValueError(f"mm_per_px: {exc}") from None
        object.__setattr__(self, "input_folders", tuple(Path(f) for f in self.input_folders))
        kinds = tuple(dict.fromkeys(self.exports))
        if kinds and exporters.JSON_KIND not in kinds:  # the record is what marks a photo complete
            kinds = (*kinds, exporters.JSON_KIND)
        object.__setattr__(self, "exports", kinds)

    @property
    def mask_source(self) -> Path | CorrectionSearch | None:
        """Where a photo's figures-giving mask is looked for (see `review_source.find_mask`)."""
        return self.reviewed_masks if self.reviewed_masks is not None else self.corrections

    def figure_options(self) -> dict[str, Any]:
        """The options a photo's figures depend on besides the model, the mode and the mask: a photo made
        with others is redone on resume, not skipped (its record says which it was made with)."""
        i, p = self.inference, self.policy
        tiles = (
            {"tile_scale": i.tile_scale, "tile_overlap": i.tile_overlap} if i.mode.value == "tiles" else {}
        )
        return {
            **tiles,
            "review_margin": p.margin,
            "min_confidence": p.min_confidence,
            "mm_per_px": self.mm_per_px,
        }

    def to_json(self) -> dict[str, Any]:
        """The options as the run record (`results.json`) gives them."""
        i, p = self.inference, self.policy
        return {
            "mode": i.mode.value,
            "tile_scale": i.tile_scale,
            "tile_overlap": i.tile_overlap,
            "review_margin": p.margin,
            "min_confidence": p.min_confidence,
            "mm_per_px": self.mm_per_px,
            "exports": list(self.exports),
            "max_pixels": self.max_pixels,
            "overwrite": self.overwrite,
            "resume": self.resume,
            "model_path": None if self.model_path is None else str(Path(self.model_path).absolute()),
            "device": self.device,
            "grade_scale": self.grade_scale,
        }


@dataclass(frozen=True)
class PlannedPhoto:
    """One input of a batch: where its outputs go and what is already there."""

    index: int  # position in the input order (0-based)
    path: Path
    stem: str
    targets: tuple[tuple[str, Path], ...]  # (export kind, path); empty when nothing is written
    done_record: PhotoRecord | None = None  # outputs complete (same model, mode and photo file): skip
    blocked: str | None = None  # why files in the way stop it (not ours, changed, another model or mode)
    blocked_ours: bool = False  # those files are intact results of ours (another model or mode): they hold
    replace: bool = False  # outputs left by an unfinished run of ours may be replaced
    source: str = ""  # the photo's identity in records (its resolved path)
    temp_tag: str = ""  # the token of the run holding the folder's lock: tags its temp files
    photo_changed: bool = False  # its record describes another file of that name: redone, and said so
    header_changed: bool = False  # its record was made under another report header: redone, and said so


@dataclass(frozen=True)
class Plan:
    out_dir: Path | None
    photos: tuple[PlannedPhoto, ...]
    model_sha256: str
    mode: str
    class_names: tuple[str, ...]
    overwrite: bool = False
    lock: OutputLock | None = field(default=None, compare=False, repr=False)
    input_folders: tuple[Path, ...] = ()  # the CSV's `file` cells are relative to them
    model_file: str = ""  # the model's file name and execution provider, for the run record
    provider: str = ""
    model_figures: Mapping[str, Any] = field(default_factory=dict, compare=False)  # its own accuracy

    def model_facts(self) -> dict[str, Any]:
        """The `model` object of the run record (`results.json`)."""
        return {
            "file": self.model_file,
            "sha256": self.model_sha256,
            "provider": self.provider,
            "mode": self.mode,
            **self.model_figures,
        }


@dataclass(frozen=True, eq=False)
class PhotoOutcome:
    """What `process_photo` returns. `result` (with the label map) only when asked to keep it."""

    index: int
    path: Path
    state: str  # DONE, SKIPPED or FAILED
    record: PhotoRecord | None = None  # the JSON record (DONE and SKIPPED)
    failure: PhotoFailure | None = None  # FAILED only
    result: PhotoResult | None = None
    photo: np.ndarray | None = None  # the decoded photo, with `result` only
    photo_changed: bool = False  # redone: the photo file is not the one its earlier record described
    header_changed: bool = False  # redone: its earlier record was made under another report header
    # FAILED before writing: its files in the folder were in the way, kept as they were
    outputs_kept: bool = False
    removed: tuple[Path, ...] = ()  # DONE: earlier outputs of ours not written again, removed
    disk_full: bool = False  # FAILED: writing found no space left on the device


@dataclass(frozen=True)
class BatchSummary:
    total: int
    outcomes: tuple[PhotoOutcome, ...]
    cancelled: bool
    csv_path: Path | None
    seconds: float
    csv_error: str | None = None
    disk_full: bool = False  # stopped early: photo after photo failed for want of space (`DISK_FULL_STOP`)
    engine_lost: str | None = None  # stopped early: the engine went away (a Dask scheduler lost); why

    def _paths(self, state: str) -> tuple[Path, ...]:
        return tuple(o.path for o in self.outcomes if o.state == state)

    @property
    def done(self) -> tuple[Path, ...]:
        return self._paths(DONE)

    @property
    def skipped(self) -> tuple[Path, ...]:
        return self._paths(SKIPPED)

    @property
    def removed(self) -> tuple[Path, ...]:
        """Earlier outputs of the photos redone that this run did not write again (removed)."""
        return tuple(p for o in self.outcomes for p in o.removed)

    @property
    def changed(self) -> tuple[Path, ...]:
        """Photos redone because their file changed since their record (re-shot under the same name)."""
        return tuple(o.path for o in self.outcomes if o.photo_changed)

    @property
    def header_changed(self) -> tuple[Path, ...]:
        """Photos redone because their record was made under another report header (asset, inspector...)."""
        return tuple(o.path for o in self.outcomes if o.header_changed)

    @property
    def failures(self) -> tuple[PhotoFailure, ...]:
        return tuple(o.failure for o in self.outcomes if o.failure is not None)

    @property
    def ok(self) -> bool:
        return not self.failures and not self.cancelled


def load_record(path: Path) -> PhotoRecord | None:
    """A JSON record this program wrote for a batch, or None (missing, unreadable, or not ours)."""
    return ownership.load_record(path)
