"""The registry of per-photo export formats: one entry (kind, title, file suffix, write function) each.

The CLI batch, the GUI batch and the GUI's "Export" dialog all write through it, so a new format is one
`register(...)` call. The JSON record is written last by the pipeline: it marks a photo complete.
The PDF report (it needs QtGui, which core never imports) is registered by the composition roots
(`app.analyze_cli`, `app.ui`) calling `app.report.register_exporter()`; a Dask worker gets it with the
batch (`adopt`).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from app.core import export
from app.core.analysis import PhotoResult
from app.core.errors import ExportError
from app.core.files import (
    atomic_write_bytes,
    encode_jpeg,
    encode_png,
    mark_jpeg,
    mark_png,
    refuse_existing,
)
from app.core.model import SegmentationModel
from app.core.overlay_style import EVERY_CLASS, OverlayStyle
from app.core.record import PhotoRecord
from app.core.report_header import ReportHeader
from app.core.reviewed import ReviewState, encode_reviewed_png, labels_sha256
from app.core.sources import MODEL


@dataclass(frozen=True, eq=False)
class ExportInput:
    """What an exporter may use: the result, the photo, how the overlay is shown, the record so far."""

    result: PhotoResult
    photo_rgb: np.ndarray
    style: OverlayStyle = EVERY_CLASS  # the overlay as shown on screen (default: every class)
    grade_scale: str | None = None  # the scale the user reads (None: both)
    model: SegmentationModel | None = None  # for reports that describe the model
    record: Mapping[str, Any] | None = None  # a `PhotoRecord` (a plain mapping of its JSON is taken too)
    header: ReportHeader | None = None  # asset, location, client, inspector, date: atop each report page
    # The caller needs `photo_rgb` no more and every format it writes reads the photo only as
    # `overlay_bgr()` (`overlay_only`): the overlay is blended into the photo's own array (it becomes
    # the overlay): no new full-size array.
    blend_in_place: bool = False

    @functools.cached_property
    def overlay(self) -> np.ndarray:
        """The overlay as shown (classes hidden on screen stay hidden), blended once per photo."""
        return self.style.blend(self.photo_rgb, self.result.labels, self.result.classes)

    def overlay_bgr(self) -> np.ndarray:
        """The same overlay in OpenCV's channel order for the image writers; not kept, so the photo's
        full-size copies stay one at a time (the cached RGB one is blended only for a report). With
        `blend_in_place`, the photo's own array, blended once."""
        if self.blend_in_place:
            return self._overlay_in_photo
        if "overlay" in self.__dict__:  # already blended (a report asked first): swap, do not blend again
            return cv2.cvtColor(self.overlay, cv2.COLOR_RGB2BGR)
        return self.style.blend(self.photo_rgb, self.result.labels, self.result.classes, bgr=True)

    @functools.cached_property
    def _overlay_in_photo(self) -> np.ndarray:
        """The BGR overlay blended into `photo_rgb` (once: the photo is gone after it); into a new array
        where the photo's cannot take it (read-only, as a decoder may hand it, or not contiguous)."""
        rgb = self.photo_rgb
        out = rgb if rgb.flags.writeable and rgb.flags.c_contiguous else None
        return self.style.blend(rgb, self.result.labels, self.result.classes, bgr=True, out=out)


Writer = Callable[[Path, ExportInput, bool], Any]


@dataclass(frozen=True)
class Exporter:
    kind: str  # the name in `--export`, settings and the dialog
    title: str  # what the export dialog shows
    suffix: str  # the file is `<stem><suffix>`
    write: Writer  # write(path, input, overwrite); raises OutputExistsError / ExportError
    default: bool = True  # written by a batch unless the user picks otherwise
    variant_of: str | None = None  # the same content as that kind in another format (not listed apart)
    overlay_only: bool = False  # reads the photo only as `ExportInput.overlay_bgr()`, or not at all


_REGISTRY: dict[str, Exporter] = {}
JSON_KIND = "json"
OVERLAY_JPEG_KIND = "overlay_jpeg"
# Full-size JPEG at quality 90: about a tenth of the PNG's size and its encoding time at 12 MP
# (docs/performance.md), and the overlay is for viewing; the mask, the data, stays a lossless PNG.
OVERLAY_JPEG_QUALITY = 90
_IMAGE_SUFFIXES = (".png", ".jpg")


def register(exporter: Exporter) -> Exporter:
    """Add (or replace) a format; names and suffixes stay unique, so outputs never collide."""
    for other in _REGISTRY.values():
        if other.kind != exporter.kind and other.suffix == exporter.suffix:
            raise ValueError(f"suffix {exporter.suffix!r} is already used by {other.kind!r}")
    _REGISTRY[exporter.kind] = exporter
    return exporter


def unregister(kind: str) -> None:
    _REGISTRY.pop(kind, None)


def adopt(formats: Iterable[Exporter]) -> None:
    """Register those of `formats` this process lacks (a worker process handed a batch's exporters:
    unpickling them imports the modules that define them)."""
    for exporter in formats:
        if exporter.kind not in _REGISTRY:
            register(exporter)


def get(kind: str) -> Exporter:
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise ExportError(f"unknown export kind {kind!r} (known: {', '.join(known_kinds())})") from None


def available(variants: bool = False) -> tuple[Exporter, ...]:
    """The registered formats, in registration order; a format that is a variant of another (the
    overlay as JPEG) only with `variants`."""
    return tuple(e for e in _REGISTRY.values() if variants or e.variant_of is None)


def known_kinds() -> list[str]:
    return sorted(_REGISTRY)


def resolve(kinds: Iterable[str]) -> tuple[Exporter, ...]:
    """The exporters for `kinds`, in registration order, the JSON record last."""
    wanted = {get(k).kind for k in kinds}
    ordered = [e for e in _REGISTRY.values() if e.kind in wanted and e.kind != JSON_KIND]
    return (*ordered, *([_REGISTRY[JSON_KIND]] if JSON_KIND in wanted else []))


def overlay_only(kinds: Iterable[str]) -> bool:
    """Whether every format of `kinds` reads the photo only as `ExportInput.overlay_bgr()` (or not at
    all): then a caller that needs the photo no more may set `ExportInput.blend_in_place`."""
    return all(get(k).overlay_only for k in kinds)


def target(out_dir: Path, stem: str, kind: str) -> Path:
    return out_dir / f"{export.safe_stem(stem)}{get(kind).suffix}"


def targets(out_dir: Path, stem: str, kinds: Iterable[str]) -> dict[str, Path]:
    """Where each chosen format of one photo goes (the CLI and the GUI name files the same way)."""
    return {e.kind: target(out_dir, stem, e.kind) for e in resolve(kinds)}


def write_all(
    paths: Mapping[str, Path], data: ExportInput, overwrite: bool, outputs_in_record: bool = True
) -> list[Path]:
    """Write every chosen format; the JSON record (if chosen) last, naming the files written with it."""
    written: list[Path] = []
    for kind, path in paths.items():
        exporter = get(kind)
        if kind == JSON_KIND and outputs_in_record:
            names = {k: p.name for k, p in paths.items()}  # the record names itself too
            data = _with_outputs(data, names)
        try:
            exporter.write(path, data, overwrite)
        except ExportError:
            raise
        except Exception as exc:  # an exporter's own failure fails this photo, with its name
            raise ExportError(f"{path.name}: {type(exc).__name__}: {exc}") from exc
        written.append(path)
    return written


def _record(data: ExportInput) -> PhotoRecord:
    if isinstance(data.record, PhotoRecord):
        return data.record
    return PhotoRecord(data.record) if data.record is not None else PhotoRecord.from_result(data.result)


def _with_outputs(data: ExportInput, names: Mapping[str, str]) -> ExportInput:
    return dataclasses.replace(data, record=_record(data).with_outputs(names))


# Masks and overlays carry `files.OUTPUT_MARK`: ours even after their record is gone.
def _write_mask(path: Path, data: ExportInput, overwrite: bool) -> None:
    refuse_existing(path, overwrite=overwrite)  # before the encode
    result = data.result
    # The model's own mask says so, and which pixels it had: given back as a "correction" (`analyze
    # --reviewed-masks`, `adapt`) it is known for no inspector's work. A changed map has no record: read
    # back, it is an edit, never signed (its signed copy is the `.reviewed.png` beside it).
    review = None
    if result.labels_source == MODEL:
        digest = labels_sha256(result.labels)
        review = ReviewState(MODEL, model_sha256=result.model_sha256, labels_sha256=digest)
    png = encode_reviewed_png(result.labels, result.classes, review)
    atomic_write_bytes(path, mark_png(png), overwrite=overwrite)


def _write_overlay(path: Path, data: ExportInput, overwrite: bool) -> None:
    refuse_existing(path, overwrite=overwrite)
    atomic_write_bytes(path, mark_png(encode_png(data.overlay_bgr(), bgr=True)), overwrite=overwrite)


def _write_overlay_jpeg(path: Path, data: ExportInput, overwrite: bool) -> None:
    refuse_existing(path, overwrite=overwrite)
    jpeg = encode_jpeg(data.overlay_bgr(), OVERLAY_JPEG_QUALITY, bgr=True)
    atomic_write_bytes(path, mark_jpeg(jpeg), overwrite=overwrite)


def _write_json(path: Path, data: ExportInput, overwrite: bool) -> None:
    export.write_result_json(path, _record(data), overwrite=overwrite)


register(Exporter("mask", "Mask PNG (class colours)", "_mask.png", _write_mask, overlay_only=True))
register(Exporter("overlay", "Overlay PNG (as shown)", "_overlay.png", _write_overlay, overlay_only=True))
register(
    Exporter(
        OVERLAY_JPEG_KIND,
        "Overlay JPEG (as shown)",
        "_overlay.jpg",
        _write_overlay_jpeg,
        default=False,
        variant_of="overlay",
        overlay_only=True,
    )
)
register(Exporter(JSON_KIND, "Figures JSON", ".json", _write_json, overlay_only=True))
