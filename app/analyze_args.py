"""The options of `corroscope analyze` and their checks (a number of mm per pixel, a margin, a
probability), apart from the command that runs them (`app.analyze_cli`)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from app.cli_common import path_arg, photo_arg
from app.core import exporters
from app.core.dates import typed_date_problem
from app.core.engines import ENGINES
from app.core.errors import CorroscopeError
from app.core.grading import ReviewPolicy
from app.core.inference import InferenceMode, InferenceOptions
from app.core.physical import SCALE_RANGE_TEXT, check_scale
from app.core.pipeline import DEFAULT_EXPORTS
from app.core.report_header import HEADER_LIMIT, field_problem

_INFERENCE, _POLICY = InferenceOptions(), ReviewPolicy()
# The overlay as a JPEG (the pipeline's default kinds keep the PNG, which the GUI's exports use).
CLI_EXPORTS = tuple(exporters.OVERLAY_JPEG_KIND if k == "overlay" else k for k in DEFAULT_EXPORTS)


def add_analyze_args(an: argparse.ArgumentParser) -> None:
    """The options of `analyze`; defaults come from the dataclasses they fill.
    One declaration per option; long because it is the option table."""
    an.add_argument(
        "paths", nargs="+", type=photo_arg, metavar="PATH", help="photos and/or folders of photos"
    )
    an.add_argument("--out", type=path_arg, required=True, metavar="DIR", help="output folder (created)")
    an.add_argument(
        "--mode",
        choices=[m.value for m in InferenceMode],
        default=_INFERENCE.mode.value,
        help="resize: the whole photo at the model's input size (fast); tiles: fine detail, that view plus "
        "a finer look near class edges (about 3x the segmentation time; docs/performance.md, Fine mode) "
        f"(default {_INFERENCE.mode.value})",
    )
    an.add_argument(
        "--tile-scale",
        type=tile_scale_arg,
        default=_INFERENCE.tile_scale,
        metavar="F",
        help=f"tiles mode: how much finer the second look is than the whole-photo view, from 1 to 4 "
        f"(default {_INFERENCE.tile_scale:g}; the time grows with its square)",
    )
    an.add_argument(
        "--tile-overlap",
        type=tile_overlap_arg,
        default=_INFERENCE.tile_overlap,
        metavar="F",
        help=f"tiles mode: overlap fraction of neighbouring tiles, in [0, 0.9) (default "
        f"{_INFERENCE.tile_overlap:g}); a high one costs much time: with --tile-scale 4, 0.89 took a "
        "256x256 photo 57.5 s against 5 s at the default",
    )
    an.add_argument(
        "--review-margin",
        type=_margin,
        default=_POLICY.margin,
        metavar="F",
        help=f"needs review within this relative margin of a grade cut-off (default {_POLICY.margin})",
    )
    an.add_argument(
        "--min-confidence",
        type=_probability,
        default=_POLICY.min_confidence,
        metavar="P",
        help=f"needs review below this mean model confidence (default {_POLICY.min_confidence})",
    )
    an.add_argument(
        "--mm-per-px",
        type=_scale,
        default=None,
        metavar="F",
        help=f"the photos' scale in mm per pixel, {SCALE_RANGE_TEXT}: corrosion and class areas also in mm² "
        "(square-on photos; default: no scale, areas in percent only)",
    )
    an.add_argument("--overwrite", action="store_true", help="redo every photo and replace its outputs")
    an.add_argument(
        "--no-resume",
        action="store_true",
        help="do not skip photos whose outputs exist; those outputs are replaced only with --overwrite "
        "(without it each such photo fails, its files kept)",
    )
    an.add_argument(
        "--recursive", action="store_true", help="look into sub-folders too, linked ones included"
    )
    an.add_argument("--pdf", action="store_true", help="also write a PDF report per photo")
    an.add_argument(
        "--overlay-png",
        action="store_true",
        help="write the overlay as a full-size lossless PNG (default: a full-size JPEG, quality "
        f"{exporters.OVERLAY_JPEG_QUALITY}, about 10x faster to write; the mask is always a lossless PNG)",
    )
    head = an.add_argument_group(
        f"the PDF report's header (printed on every page; at most {HEADER_LIMIT} characters a field)"
    )
    for flag, what in (
        ("--asset-id", "the asset's ID or tag"),
        ("--location", "where the asset is"),
        ("--client", "who the inspection is for"),
        ("--inspector", "who inspected"),
    ):
        head.add_argument(
            flag, type=_header_field(flag[2:].replace("-", "_")), default="", metavar="TEXT", help=what
        )
    head.add_argument(
        "--inspection-date",
        type=_inspection_date,
        default="",
        metavar="YYYY-MM-DD",
        help="the date of the inspection (a real date, no later than tomorrow)",
    )
    run = an.add_argument_group("how photos are run")
    run.add_argument(
        "--engine",
        choices=ENGINES,
        default=None,
        help="serial: one photo at a time; pipelined (default): a few photos at once in this process, "
        "one's decoding overlapping another's inference and writing; dask: see --workers/--scheduler",
    )
    run.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="run on a Dask cluster of N worker processes started on this machine (needs the "
        "'cluster' extra: pip install .[cluster])",
    )
    run.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="run on the existing Dask cluster at this scheduler address; photos, model and --out must "
        "be at the same paths on every worker (docs/cluster.md)",
    )
    an.add_argument(
        "--reviewed-masks",
        type=path_arg,
        metavar="MASK_DIR",
        help="a folder of corrected masks, the first found of <stem>_mask.reviewed.png, "
        "<stem>_mask.edited.png, <stem>_mask.png, <stem>.png (GT_<id>.png for an ORI_<id> photo), in the "
        "class colours, of the "
        "photo's size: a photo's figures come from its mask instead of the model",
    )


def tile_scale_arg(text: str) -> float:
    """--tile-scale, refused by argparse naming the option (exit 2, before the model loads); the range
    is `InferenceOptions`'s, whose own error names its field."""
    what = "a number from 1 to 4 (times the whole-photo view)"
    return _tile_option(text, what, lambda value: InferenceOptions(tile_scale=value))


def tile_overlap_arg(text: str) -> float:
    """--tile-overlap, refused as `tile_scale_arg` refuses --tile-scale."""
    what = "a number in [0, 0.9) (the fraction of a tile shared with its neighbour)"
    return _tile_option(text, what, lambda value: InferenceOptions(tile_overlap=value))


def _tile_option(text: str, what: str, check: Callable[[float], object]) -> float:
    try:
        value = float(text)
        check(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}{_comma_hint(text)}") from None
    return value


def _scale(text: str) -> float:
    try:
        return check_scale(float(text))
    except (ValueError, CorroscopeError):
        raise argparse.ArgumentTypeError(
            f"must be a number of mm per pixel {SCALE_RANGE_TEXT}, got {text!r}{_comma_hint(text)}"
        ) from None


def _comma_hint(text: str) -> str:
    """ "; write a decimal point: 0.5" for a number typed with a decimal comma ("0,5"), "; write no
    thousands separator: 1000000" for "1,000,000" ("1,000" may be either); else nothing."""
    stripped = text.strip()
    if "," not in stripped:
        return ""
    whole, _, rest = stripped.partition(",")
    groups = stripped.split(",")
    if len(groups) > 2 and all(len(g) == 3 and g.isdigit() for g in groups[1:]) and whole.isdigit():
        return f"; write no thousands separator: {''.join(groups)}"
    if len(rest) == 3 and rest.isdigit() and whole.isdigit():  # 1,000: a thousand, or 1 with a comma
        return f"; write a decimal point ({whole}.{rest}) or no thousands separator ({whole}{rest})"
    if "," in rest:
        return ""
    fixed = f"{whole}.{rest}"
    try:
        float(fixed)
    except ValueError:
        return ""
    return f"; write a decimal point: {fixed}"


def _header_field(name: str) -> Callable[[str], str]:
    """The check of the header's field `name` as typed (`report_header.field_problem`: no control or
    bidi character, at most `HEADER_LIMIT` characters), refused by argparse naming it (exit 2)."""

    def check(text: str) -> str:
        if (problem := field_problem(name, text)) is not None:
            raise argparse.ArgumentTypeError(problem)
        return text

    return check


def _inspection_date(text: str) -> str:
    """The report header's date as typed, refused unless a real YYYY-MM-DD date no later than tomorrow
    (a project's inspections take the same check) and free of control characters."""
    if (problem := typed_date_problem(text) or field_problem("inspection_date", text)) is not None:
        raise argparse.ArgumentTypeError(problem)
    return text.strip()


def _margin(text: str) -> float:
    """A relative margin: a finite number, 0 or more (NaN would switch the rule off unseen)."""
    return _number(text, 0.0, math.inf, "a number of 0 or more")


def _probability(text: str) -> float:
    """A confidence: a number from 0 to 1 (NaN or a negative one would switch the rule off unseen)."""
    return _number(text, 0.0, 1.0, "a number from 0 to 1")


def _number(text: str, low: float, high: float, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and low <= value <= high):
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}{_comma_hint(text)}")
    return value
