"""The per-photo record (`<stem>.json`): the product's on-disk format, and the only place that knows its keys.

It is what marks a batch photo complete, feeds resume, the CSV, the PDF and file ownership. A
`PhotoRecord` is frozen and reads as a mapping of its JSON, so code that only reads it needs nothing
else. It is built from a result (`from_result`), given its review (`with_review`), in a batch its
photo's identity and the proofs of the files written with it (`for_batch`), then sealed (`seal`: the
SHA-256 of the record without the seal, which shows a record edited by hand). `from_json` checks the
schema version and the type of every field a reader relies on, and says clearly what is wrong.
The value types it holds are in `app.core.record_types`, its flat field tables (the CSV's cells and
units, a project's stored columns) in `app.core.record_columns`; both are re-exported here.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import stat
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.analysis import PhotoFigures, relative_path
from app.core.grading import GradeScale
from app.core.record_columns import (
    CSV_FIELDS,
    OUTPUT_KINDS,
    column_unit,
    csv_cells,
    csv_values,
    grade_json,
    measure_fields,
    model_facts,
    review_reasons,
    rounded,
    store_fields,
)
from app.core.record_types import KeyFigures, ModelFigures, PhotoIdentity, RecordError, Review
from app.core.report_header import ReportHeader
from app.core.sources import EDITED
from app.core.text import display_path

# The record's names, wherever they live, are imported from here.
__all__ = [
    "CSV_FIELDS",
    "MAX_RECORD_BYTES",
    "MODEL",
    "NETWORK_INPUT",
    "OUTPUT_KINDS",
    "READABLE_SCHEMAS",
    "RECORD_SCHEMA",
    "SEAL",
    "KeyFigures",
    "ModelFigures",
    "PhotoIdentity",
    "PhotoRecord",
    "RecordError",
    "Review",
    "column_unit",
    "csv_cells",
    "measure_fields",
    "review_reasons",
]

# 2: measures, timestamp, model file, relative path, per-scale reasons; 3: batch records name their
# photo (`source`), prove their files and are sealed; 4: batch records hold the photo file's identity
# (`photo`: bytes, mtime, SHA-256), so a photo re-shot under the same name is redone.
RECORD_SCHEMA = 4
# How the network's input is made from a photo (`app.core.photo_decode`: a large JPEG through a DCT-scaled
# view at least twice the input). A resumed batch redoes a photo whose record says otherwise (or nothing,
# as records before the reduced decode do), so one results table never mixes the two.
NETWORK_INPUT = "jpeg-view-2x"
READABLE_SCHEMAS = (3, 4)  # a schema-3 record has no `photo`: whether its photo changed cannot be told
SEAL = "record_sha256"
# A record the window's export wrote (no photo identity, files or seal): a batch never counts it as its own
EXPORTED_RECORD = "is a record exported from the window (File ▸ Export), not one a batch wrote"
MAX_RECORD_BYTES = 16 << 20  # a record is a few kB; a bigger "record" is not ours, and not read
MODEL = "model"  # the figures are the model's (`app.core.reviewed` names the other sources)
_NUMBER = (int, float, type(None))
# field -> the types every record of ours has there (the CSV, the PDF and the GUI read these)
_FIELDS: Mapping[str, tuple[type, ...]] = {
    "file": (str,),
    "width": (int,),
    "height": (int,),
    "model_sha256": (str,),
    "provider": (str,),
    "mode": (str,),
    "classes": (list,),
    "pixels": (dict,),
    "percent": (dict,),
    "corroded_share": _NUMBER,
    "astm_d610": (dict, type(None)),
    "iso_4628_3": (dict, type(None)),
    "needs_review": (bool,),
    "review_reasons": (list,),
    "mean_confidence": _NUMBER,
    "seconds": (int, float),
}
# ... and what a batch record adds: the photo it describes and the proofs of its files.
_BATCH_FIELDS: Mapping[str, tuple[type, ...]] = {"source": (str,), "files": (dict,)}
_PHOTO_FIELDS: Mapping[str, tuple[type, ...]] = {"bytes": (int,), "mtime_ns": (int,), "sha256": (str,)}


def _digest(record: Mapping[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != SEAL}
    text = json.dumps(body, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


@dataclass(frozen=True, eq=False)
class PhotoRecord(Mapping[str, Any]):
    """One photo's record; read-only (a mapping of its JSON, compared as one), each `with_*` gives a new
    one. Make it with `from_result` or `from_json`; `PhotoRecord(data)` trusts `data` unchecked."""

    data: Mapping[str, Any] = field(repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", copy.deepcopy(dict(self.data)))  # nobody else holds it

    # the mapping of its JSON --------------------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return f"PhotoRecord({self.data.get('file')!r}, sealed={self.sealed})"

    # building ----------------------------------------------------------------------------------
    @classmethod
    def from_result(
        cls,
        result: PhotoFigures,
        outputs: Mapping[str, str] | None = None,
        input_folders: Iterable[Path] = (),
    ) -> PhotoRecord:
        """The record of one result (no arrays); `outputs` names the files written with it, by kind;
        `input_folders` (the folders the user gave) give `relative_path`."""
        from app import __version__

        a = result.assessment
        rel = relative_path(result.path, input_folders)
        reasons = review_reasons(result)
        return cls(
            {
                "schema": RECORD_SCHEMA,
                "file": display_path(result.path),
                "input_folder": None if rel is None else display_path(rel[0]),
                "relative_path": None if rel is None else display_path(rel[1]),
                "width": result.width,
                "height": result.height,
                "analysed_at": result.analysed_at,
                "model_sha256": result.model_sha256,
                "model_file": result.model_file,
                "provider": result.provider,
                "mode": result.mode.value,
                "labels_source": result.labels_source,  # model, edited (unsigned) or reviewed (signed)
                "model_accuracy": result.model_accuracy,
                "classes": [c.to_json() for c in result.classes],
                "pixels": dict(result.stats.pixels),
                "percent": {k: rounded(v, 6) for k, v in result.stats.percent.items()},
                "total_pixels": result.stats.total,
                "corroded_share": rounded(result.stats.corroded_share, 6),
                "astm_d610": grade_json(a.astm),
                "iso_4628_3": grade_json(a.iso),
                "needs_review": bool(reasons),
                "review_reasons": reasons,
                "review_reasons_by_scale": {s.value: list(a.reasons_for(s)) for s in GradeScale},
                "mean_confidence": rounded(result.mean_confidence, 6),
                "seconds": round(result.seconds, 4),
                **measure_fields(result.measures, a.astm),
                "outputs": None if outputs is None else dict(outputs),
                "corroscope_version": __version__,
                "network_input": NETWORK_INPUT,
                "report_header": ReportHeader().record_json(),  # none given: `with_header` sets it
            }
        )

    def _with(self, **fields: Any) -> PhotoRecord:
        body = {k: v for k, v in self.data.items() if k != SEAL}  # any change breaks the seal
        return PhotoRecord({**body, **fields})

    def with_review(
        self,
        state: Review,
        mask: Path | None = None,
        model_figures: ModelFigures | None = None,
        mask_sha256: str | None = None,
    ) -> PhotoRecord:
        """Where the figures come from: `figures_source` (the CSV's `source` column; the record's own
        `source` is the photo's identity), who reviewed them and when, the mask file they came from,
        and the model's own figures beside reviewed ones."""
        # An edit nobody signed keeps the window's default state (`model`) while its figures are the
        # edited mask's: named `edited` here, so no export calls hand-painted figures the model's.
        edited = state.source == MODEL and self.data.get("labels_source") == EDITED
        fields: dict[str, Any] = {
            "figures_source": EDITED if edited else state.source,
            "reviewed_by": state.reviewed_by,
            "reviewed_at": state.reviewed_at,
            "review_note": state.note,
            "reviewed_mask": None if mask is None else str(mask),
            "reviewed_mask_sha256": None if mask is None else mask_sha256,
        }
        if model_figures is not None:
            fields["model_figures"] = model_figures.to_json()
        return self._with(**fields)

    def with_figure_options(self, options: Mapping[str, Any]) -> PhotoRecord:
        """The options the figures were made with besides the model and mode (see `BatchOptions`)."""
        return self._with(figure_options=dict(options))

    def with_header(self, header: ReportHeader | None) -> PhotoRecord:
        """The asset, location, client, inspector and date the photo was reported under (None: none)."""
        return self._with(report_header=(header or ReportHeader()).record_json())

    def with_outputs(self, names: Mapping[str, str]) -> PhotoRecord:
        return self._with(outputs=dict(names))

    def for_batch(
        self, source: str, files: Mapping[str, Mapping[str, Any]], photo: PhotoIdentity | None
    ) -> PhotoRecord:
        """A batch record: the photo it describes (`source`, its resolved path, and `photo`, its
        file's identity) and the proof of each file written with it (`files`)."""
        extra = {} if photo is None else {"photo": photo.to_json()}
        return self._with(source=source, files={k: dict(v) for k, v in files.items()}, **extra)

    def seal(self) -> PhotoRecord:
        """The record with its seal added (last): it marks a batch photo complete."""
        body = {k: v for k, v in self.data.items() if k != SEAL}
        return PhotoRecord({**body, SEAL: _digest(body)})

    @property
    def sealed(self) -> bool:
        return self.data.get(SEAL) == _digest(self.data)

    # writing and reading -----------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """The record as JSON data (a copy)."""
        return copy.deepcopy(self.data)

    def to_bytes(self) -> bytes:
        """The file's bytes: UTF-8 JSON (JSON's own escapes for text that is not Unicode)."""
        try:
            return (json.dumps(self.data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        except UnicodeEncodeError:  # a name's raw bytes (surrogate escapes)
            return (json.dumps(self.data, indent=2, ensure_ascii=True) + "\n").encode("ascii")

    @classmethod
    def from_json(cls, data: Any, *, batch: bool = False) -> PhotoRecord:
        """A record from JSON data, checked: schema version, the type of each field readers use and, for
        a `batch` record, its photo, its files and its seal. `RecordError` says what is wrong."""
        if not isinstance(data, dict) or "model_sha256" not in data:
            raise RecordError("is not a Corroscope record (it lacks our fields)")
        if data.get("schema") not in READABLE_SCHEMAS:
            schema = data.get("schema")
            raise RecordError(
                f"was written by another version (record schema {schema!r}, not {RECORD_SCHEMA})"
            )
        _check_types(data, _FIELDS)
        if batch and not any(k in data for k in (*_BATCH_FIELDS, SEAL)):
            raise RecordError(EXPORTED_RECORD)  # ours, not a batch's: it is the user's file
        if batch:
            _check_types(data, _BATCH_FIELDS)
        photo = data.get("photo")
        if photo is not None and not isinstance(photo, dict):
            raise RecordError("is not a Corroscope record of this version (field 'photo' is wrong)")
        if photo is not None:
            _check_types(photo, _PHOTO_FIELDS, "photo.")
        if batch and data.get(SEAL) != _digest(data):
            raise RecordError("was changed after Corroscope wrote it (edited by hand?)")
        return cls(data)

    @classmethod
    def read(cls, path: Path) -> PhotoRecord | None:
        """The sealed batch record at `path`; None when there is no file; `RecordError` for a file there
        that is not a record of ours (unreadable, too large, edited by hand, another schema or program)."""
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise RecordError(f"cannot be read ({exc.strerror or exc})") from exc
        if not stat.S_ISREG(st.st_mode):
            raise RecordError("is not a regular file")
        if st.st_size > MAX_RECORD_BYTES:
            raise RecordError("is too large to be a Corroscope record")
        try:
            data = json.loads(path.read_bytes().decode("utf-8"))
        except (OSError, ValueError, RecursionError) as exc:  # nested past the parser: not ours either
            raise RecordError(f"is not a Corroscope record (not valid JSON: {type(exc).__name__})") from exc
        return cls.from_json(data, batch=True)

    # what readers ask of it --------------------------------------------------------------------
    @property
    def source(self) -> str | None:
        """The photo a batch record describes: its resolved path (None for a record of the window's)."""
        return self.data.get("source")

    @property
    def files(self) -> Mapping[str, Any]:
        """File name -> the proof that it is the file written with this record (batch records)."""
        return self.data.get("files") or {}

    @property
    def photo(self) -> PhotoIdentity | None:
        p = self.data.get("photo")
        return None if p is None else PhotoIdentity(p["bytes"], p["mtime_ns"], p["sha256"])

    @property
    def run(self) -> tuple[str, str | None]:
        """(model SHA-256, mode): the records of one model and mode agree on them."""
        return self.data["model_sha256"], self.data.get("mode")

    def store_fields(self) -> dict[str, Any]:
        """The columns a project stores beside the whole record (`app.core.project`'s results table)."""
        return store_fields(self.data)

    def key_figures(self) -> KeyFigures:
        return KeyFigures.of_record(self.data, self.figures_source)

    def model_facts(self) -> dict[str, Any]:
        """The `model` object of a run record (`results.json`): file, SHA-256, provider, mode."""
        return model_facts(self.data)

    @property
    def figures_source(self) -> str:
        """Where the figures come from: `model`, `edited` (unsigned) or `reviewed` (signed)."""
        return self.data.get("figures_source") or self.data.get("labels_source") or MODEL

    @property
    def report_header(self) -> ReportHeader:
        """The header it was made under; empty when none was given (or the record predates headers)."""
        return ReportHeader.from_dict(self.data.get("report_header"))

    @property
    def reviewed_mask(self) -> str | None:
        return self.data.get("reviewed_mask")

    @property
    def model_figures(self) -> ModelFigures | None:
        m = self.data.get("model_figures")
        if not isinstance(m, Mapping):
            return None
        return ModelFigures(m.get("corroded_share"), m.get("astm_d610"), m.get("iso_4628_3"))

    def review(self) -> dict[str, Any]:
        """Who reviewed the figures and when, and the note (empty text where none)."""
        return {
            "source": self.figures_source,
            "reviewed_by": self.data.get("reviewed_by") or "",
            "reviewed_at": self.data.get("reviewed_at") or "",
            "note": self.data.get("review_note") or "",
        }

    def same_figures(
        self,
        mask: Path | None,
        mask_sha256: str | None = None,
        figure_options: Mapping[str, Any] | None = None,
    ) -> bool:
        """Whether the figures came from `mask` (None: the model's) with the content `mask_sha256`, through
        today's network input and with `figure_options` (None: not compared), so the photo need not be
        redone."""
        if self.data.get("network_input") != NETWORK_INPUT:
            return False
        if self.reviewed_mask != (None if mask is None else str(mask)):
            return False
        if mask is not None and (mask_sha256 is None or self.data.get("reviewed_mask_sha256") != mask_sha256):
            return False  # changed in place (or an older record that did not say): redo it
        if mask is not None and "model_figures" not in self.data:
            return False  # an earlier version kept only the mask's figures: redo it for the model's too
        return figure_options is None or self.data.get("figure_options") == dict(figure_options)

    def csv_values(self, class_names: Sequence[str] | None = None) -> dict[str, Any]:
        """The record's cells of `results.csv`, by column name (`file` is the path inside its input
        folder when known); the header and the escaping are `app.core.export`'s."""
        return csv_values(self.data, self.figures_source, class_names)


def _check_types(data: Mapping[str, Any], fields: Mapping[str, tuple[type, ...]], prefix: str = "") -> None:
    for name, kinds in fields.items():
        value = data.get(name)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise RecordError(
                f"is not a Corroscope record of this version (field '{prefix}{name}' is missing or wrong)"
            )
