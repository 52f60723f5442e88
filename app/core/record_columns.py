"""The record's flat field tables: the measure fields, the cells and units of `results.csv`, the
columns a project stores and the model facts of a run record, each read from a record's JSON mapping
(`app.core.record.PhotoRecord` calls these; the header and the escaping are `app.core.export`'s)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from app.core.analysis import PhotoFigures
from app.core.grading import Grade, GradeScale, d610_label
from app.core.measures import PhotoMeasures
from app.core.physical import OBLIQUE_NOTE, area_cell, rounded_area
from app.core.report_header import ReportHeader

# The flat measure fields, in the order `results.csv` gives them after the first release's columns.
CSV_FIELDS = (
    "corroded_share_low",
    "corroded_share_high",
    "d610_distribution",
    "patch_count",
    "largest_patch_share",
    "mm_per_px",
    "corrosion_area_mm2",
)
# The report header the photo was analysed under (`--asset-id` ...): the last columns of `results.csv`.
HEADER_COLUMNS = tuple(name for name, _label in ReportHeader.LABELS)
# The output files a CSV row names, by export kind (`app.core.exporters`): `<kind>_file` columns.
OUTPUT_KINDS = ("mask", "overlay", "pdf", "json")


def rounded(v: float | None, digits: int) -> float | None:
    """`v` rounded to `digits` as a float; None stays None."""
    return None if v is None else round(float(v), digits)


def grade_json(g: Grade | None) -> dict[str, Any] | None:
    """A grade as the record holds it: value, label and, on ISO 4628-3, the reference picture."""
    if g is None:
        return None
    out: dict[str, Any] = {"value": g.value, "label": g.label}
    if g.reference is not None:
        out["reference"] = g.reference
    return out


def review_reasons(result: PhotoFigures) -> list[str]:
    """The reasons of both scales (each names its scale), a reason common to both once."""
    a = result.assessment
    return list(dict.fromkeys(r for s in GradeScale for r in a.reasons_for(s)))


def measure_fields(m: PhotoMeasures, astm: Grade | None = None) -> dict[str, Any]:
    """The record's measure fields (the `CSV_FIELDS` flat, plus `patches`, evidence, areas, notes)."""
    r, p, d = m.share_range, m.patches, m.distribution
    areas = None if m.class_areas_mm2 is None else {k: rounded_area(v) for k, v in m.class_areas_mm2.items()}
    return {
        "corroded_share_low": None if r is None else round(r.low, 6),
        "corroded_share_high": None if r is None else round(r.high, 6),
        "range_label": None if r is None else r.label,
        "range_note": m.range_note,
        "d610_distribution": None if d is None else d.type,
        "d610_distribution_evidence": None if d is None else d.evidence,
        "astm_d610_with_distribution": d610_label(astm, d),
        "patch_count": None if p is None else p.count,
        "largest_patch_share": None if p is None else round(p.largest_share, 6),
        "mm_per_px": m.mm_per_px,
        "corrosion_area_mm2": None if m.corrosion_area_mm2 is None else rounded_area(m.corrosion_area_mm2),
        "class_areas_mm2": areas,
        "area_note": None if m.mm_per_px is None else OBLIQUE_NOTE,
        "patches": None if p is None else p.to_json(m.mm_per_px),
    }


def csv_cells(fields: Mapping[str, Any]) -> list[str]:
    """The `CSV_FIELDS` of a record (or of `measure_fields`) as CSV cells; None is an empty cell."""

    def cell(name: str) -> str:
        v = fields.get(name)
        if v is None:
            return ""
        if name == "mm_per_px":
            return f"{v:.6g}"
        if name == "corrosion_area_mm2":
            return area_cell(v)
        return f"{v:.4f}" if isinstance(v, float) else str(v)

    return [cell(name) for name in CSV_FIELDS]


def _num(v: float | None, digits: int) -> str:
    return "" if v is None else f"{v:.{digits}f}"


def csv_values(
    d: Mapping[str, Any], figures_source: str, class_names: Sequence[str] | None
) -> dict[str, Any]:
    """A record's cells of `results.csv`, by column name (`file` is the path inside its input folder
    when known); `figures_source` is the record's (`PhotoRecord.figures_source`)."""
    names = list(class_names) if class_names is not None else [c["name"] for c in d["classes"]]
    astm, iso = d.get("astm_d610"), d.get("iso_4628_3")
    outputs = d.get("outputs") or {}
    return {
        "file": d.get("relative_path") or d["file"],
        "width": d["width"],
        "height": d["height"],
        "provider": d["provider"],
        **{f"{n}_percent": _num(d["percent"].get(n), 4) for n in names},
        "corroded_share": _num(d["corroded_share"], 4),
        "astm_d610": "" if astm is None else astm["value"],
        "iso_4628_3": "" if iso is None else iso["label"],
        "needs_review": "yes" if d["needs_review"] else "no",
        "review_reasons": "; ".join(d["review_reasons"]),
        "mean_confidence": _num(d["mean_confidence"], 4),
        "seconds": _num(d["seconds"], 3),
        "status": "ok",
        "error": "",
        **dict(zip(CSV_FIELDS, csv_cells(d), strict=True)),
        "analysed_at": d.get("analysed_at"),
        "mode": d.get("mode"),
        "model_file": d.get("model_file"),
        # the overlay as JPEG is the overlay's file too
        **{f"{k}_file": outputs.get(k) or outputs.get(f"{k}_jpeg") for k in OUTPUT_KINDS},
        "source": figures_source,
        "reviewed_by": d.get("reviewed_by") or "",
        "reviewed_at": d.get("reviewed_at") or "",
        "model_accuracy": d.get("model_accuracy") or "",
        "reviewed_mask_file": d.get("reviewed_mask") or "",
        "input_folder": d.get("input_folder") or "",
        **ReportHeader.from_dict(d.get("report_header")).to_dict(),
    }


def store_fields(d: Mapping[str, Any]) -> dict[str, Any]:
    """The columns a project stores beside the whole record (`app.core.project`'s results table)."""
    astm, iso = d.get("astm_d610"), d.get("iso_4628_3")
    return {
        "model_sha256": d["model_sha256"],
        "provider": d["provider"],
        "mode": d["mode"],
        "corroded_share": d.get("corroded_share"),
        "astm_d610": None if astm is None else astm["value"],
        "iso_4628_3": None if iso is None else iso["value"],
        "needs_review": bool(d.get("needs_review")),
        "mean_confidence": d.get("mean_confidence"),
    }


def model_facts(d: Mapping[str, Any]) -> dict[str, Any]:
    """The `model` object of a run record (`results.json`): file, SHA-256, provider, mode."""
    return {
        "file": d.get("model_file"),
        "sha256": d["model_sha256"],
        "provider": d["provider"],
        "mode": d["mode"],
    }


# The CSV keeps its column names (a renamed column breaks every reader of earlier files): what a number
# is a share of, and in what unit, is said here and in results.json's `column_units`.
_SHARE_OF_ASSET = "% of the asset's pixels (corrosion + asset)"
_RANGE_END = "{end} end of the share's calibrated range (its coverage: model.share_range.label, e.g. 80 %)"
_UNITS = {
    "width": "px",
    "height": "px",
    "corroded_share": _SHARE_OF_ASSET,
    # the bounds of the calibrated range, whose coverage the model file states (80 % for the shipped one)
    "corroded_share_low": f"{_SHARE_OF_ASSET}; {_RANGE_END.format(end='low')}",
    "corroded_share_high": f"{_SHARE_OF_ASSET}; {_RANGE_END.format(end='high')}",
    "largest_patch_share": _SHARE_OF_ASSET,
    "mean_confidence": "probability, 0-1",
    "seconds": "s",
    "mm_per_px": "mm per pixel",
    "corrosion_area_mm2": "mm²",
}


def column_unit(column: str) -> str:
    """The unit of a `results.csv` column ('' for text); `<class>_percent` is % of the photo's pixels."""
    if column.endswith("_percent"):
        return "% of the photo's pixels"
    return _UNITS.get(column, "")
