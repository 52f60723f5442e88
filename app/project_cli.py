"""`corroscope project ...`: inspection projects from the command line (create, add, list, trend, export,
relocate), over `app.core.project`. PROJECT is a `*.corroscope` file or a `postgresql://` URL."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from app import project_inspection_cli as inspection_cli
from app.analyze_args import tile_scale_arg
from app.cli_common import (
    load_model,
    path_arg,
    photo_arg,
    project_arg,
    provider_line,
    say_no_photos,
)
from app.core.batch_inputs import not_photos_line, select_inputs
from app.core.errors import CorroscopeError, OutputExistsError, ProjectError, ProjectUnavailable
from app.core.export import write_csv
from app.core.inference import InferenceMode, InferenceOptions
from app.core.left_out import left_out_line
from app.core.model import DEVICES
from app.core.text import REASON_LIMIT, counted, safe_message, safe_path, safe_text

if TYPE_CHECKING:  # app.core.project (SQLAlchemy, 0.17 s) loads only when a project command runs
    from app.core.project import AddSummary, Project

log = logging.getLogger(__name__)
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_NOT_STORED = 3  # `add`: nothing stored, the project could not be written (read-only, server gone)
ASSET_FIELDS = {"name": "name", "location": "location", "material": "material or coating"}
MISSING_SHOWN = 20  # photos still not found named by relocate; a whole lost drive would fill the screen
PROJECT_HELP = "a project file (*.corroscope) or a PostgreSQL URL (postgresql://user@host/db)"


def register(sub: argparse._SubParsersAction) -> None:
    """Add `project` and its commands to the `corroscope` parser."""
    top = sub.add_parser("project", help="inspection projects: assets, inspections over time, trends")
    names = "{create,add,list,inspection,trend,export,relocate}"
    cmds = top.add_subparsers(dest="project_command", metavar=names)
    cmds.required = True
    top.set_defaults(run=run)

    cmds.add_parser("create", help="make a new, empty project").add_argument(
        "project", type=project_arg, help=PROJECT_HELP
    )

    add = cmds.add_parser("add", help="analyse photos and store them as an inspection of an asset")
    add.add_argument("project", type=project_arg, help=PROJECT_HELP)
    add.add_argument(
        "paths", nargs="+", type=photo_arg, metavar="PHOTO_OR_DIR", help="photos and/or folders of photos"
    )
    add.add_argument("--asset", required=True, metavar="TAG", help="the asset's tag, e.g. P-101-A")
    date = inspection_cli.inspection_date  # no later than tomorrow
    add.add_argument("--date", required=True, type=date, metavar="YYYY-MM-DD", help="inspection date")
    add.add_argument("--inspector", default="", metavar="NAME", help="who inspected (default: none)")
    add.add_argument("--notes", default="", metavar="TEXT", help="notes of a new inspection")
    for field, what in ASSET_FIELDS.items():
        add.add_argument(f"--asset-{field}", default=None, metavar="TEXT", help=f"set the asset's {what}")
    add.add_argument("--recursive", action="store_true", help="look into sub-folders too")
    add.add_argument("--model", type=path_arg, metavar="FILE", help="ONNX model (default: the bundled one)")
    add.add_argument(
        "--device", choices=DEVICES, default="auto", help="auto (default): CUDA if it works, else CPU"
    )
    add.add_argument(
        "--mode",
        choices=[m.value for m in InferenceMode],
        default=InferenceMode.RESIZE.value,
        help="resize (default): the whole photo at the model's input size (fast); tiles: fine detail, "
        "about 3x the time (as `analyze --mode`)",
    )
    scale = InferenceOptions().tile_scale  # as `analyze` and the window's Fine detail
    add.add_argument(
        "--tile-scale",
        type=tile_scale_arg,
        default=scale,
        metavar="F",
        help=f"tiles mode: how much finer the second look is than the whole photo, from 1 to 4 "
        f"(default {scale:g})",
    )

    cmds.add_parser("list", help="assets, inspections and photo counts").add_argument(
        "project", type=project_arg, help=PROJECT_HELP
    )

    inspection_cli.register(cmds, PROJECT_HELP)

    trend = cmds.add_parser("trend", help="one row per inspection of an asset, in date order")
    trend.add_argument("project", type=project_arg, help=PROJECT_HELP)
    trend.add_argument("--asset", required=True, metavar="TAG", help="the asset's tag, e.g. P-101-A")
    trend.add_argument("--csv", type=path_arg, metavar="FILE", help="also write the rows as CSV")
    trend.add_argument("--overwrite", action="store_true", help="replace an existing CSV")

    export = cmds.add_parser("export", help="the whole project as CSV, and a PDF per asset with its trend")
    export.add_argument("project", type=project_arg, help=PROJECT_HELP)
    export.add_argument("--out", required=True, type=path_arg, metavar="DIR", help="output folder (created)")
    export.add_argument("--overwrite", action="store_true", help="replace existing files")

    reloc = cmds.add_parser(
        "relocate",
        help="find photos that were moved, by content, in a folder (exit 1 while some are still not found)",
    )
    reloc.add_argument("project", type=project_arg, help=PROJECT_HELP)
    reloc.add_argument(
        "folder",
        type=path_arg,
        metavar="DIR",
        help="the folder the photos were moved to (searched with its sub-folders)",
    )


def run(args: argparse.Namespace) -> int:
    """Exit 0 done, 1 some photos failed or a write failed, 2 bad usage, no project, or a file in the way,
    3 (`add`) nothing stored: the project could not be written."""
    from app.core.project import Project

    commands = {"add": _add, "list": _list, "trend": _trend, "export": _export, "relocate": _relocate}
    commands["inspection"] = inspection_cli.run
    try:
        if args.project_command == "create":
            return _create(args)
        project = Project.open(args.project)
    except CorroscopeError as exc:
        print(f"error: {safe_message(exc)}", file=sys.stderr)  # names from a shared project
        return EXIT_USAGE
    try:
        return commands[args.project_command](project, args)
    except CorroscopeError as exc:
        print(f"error: {safe_message(exc)}", file=sys.stderr)  # names from a shared project
        usage = isinstance(exc, (OutputExistsError, ProjectError)) and not isinstance(exc, ProjectUnavailable)
        return EXIT_USAGE if usage else EXIT_FAILED
    finally:
        project.close()


def _create(args: argparse.Namespace) -> int:
    from app.core.project import Project

    with Project.create(args.project) as project:
        print(f"Created project {project.location.display} (schema {project.schema_version}).")
    return EXIT_OK


def _add(project: Project, args: argparse.Namespace) -> int:
    """Exit 0 stored, 1 some photos failed (the rest stored), 3 nothing stored: the project could not
    be written (checked before the model loads; or it went away while the photos were analysed)."""
    try:
        return _add_photos(project, args)
    except ProjectUnavailable as exc:
        print(f"error: {safe_message(exc)}; nothing was stored", file=sys.stderr)
        return EXIT_NOT_STORED


def _add_photos(project: Project, args: argparse.Namespace) -> int:
    inputs = select_inputs(args.paths, None, args.recursive)
    paths = list(inputs.photos)
    if not paths:
        say_no_photos(args.paths, args.recursive)
        return EXIT_USAGE
    from app.core.project import add_inspection_photos
    from app.core.project.records import check_asset_facts, check_name, check_tag, check_typed
    from app.core.project.reviews import with_saved_reviews
    from app.core.saved_corrections import CorrectionSearch

    fields = {f: getattr(args, f"asset_{f}") for f in ASSET_FIELDS if getattr(args, f"asset_{f}") is not None}
    # what was typed is checked before the model loads and any photo is analysed, and said as stored
    args.asset = check_tag(args.asset)
    check_asset_facts(fields)
    args.inspector = check_name(args.inspector or "", "The inspector's name")
    check_typed(args.notes or "", "The inspection's notes", lines=True)
    project.check_writable()  # before the model loads and any photo is analysed
    options = InferenceOptions(mode=args.mode, tile_scale=args.tile_scale)
    model = load_model(args.model, args.device, "project add")
    if model is None:
        return EXIT_USAGE
    print(provider_line(model, args.device), file=sys.stderr)  # with why CUDA is not used under auto
    if (skipped := left_out_line(args.paths, recursive=args.recursive)) is not None:
        print(skipped, file=sys.stderr)
    if (not_photos := not_photos_line(inputs)) is not None:
        print(not_photos, file=sys.stderr)

    def progress(index: int, total: int, path: Path, state: str) -> None:
        print(f"[{index}/{total}] {safe_path(path)}: {state}", file=sys.stderr, flush=True)

    summary = add_inspection_photos(
        project,
        model,
        args.asset,
        args.date,
        paths,
        args.inspector,
        options,
        progress=progress,
        notes=args.notes,
    )
    if fields and summary.outcome is not None:
        project.ensure_asset(args.asset, **fields)
    summary = with_saved_reviews(project, model, summary, CorrectionSearch(), options)
    _print_added(summary, args)
    return EXIT_FAILED if summary.failures or summary.outcome is None else EXIT_OK


def _print_added(summary: AddSummary, args: argparse.Namespace) -> None:
    if summary.outcome is not None:
        print(f"{summary.headline(args.asset, args.date, args.inspector or '')}.")
        if args.notes and not summary.outcome.created:  # the notes of an existing inspection stay
            print(
                "  --notes not stored: the inspection already exists and keeps its notes "
                "(`corroscope project inspection ... --set-notes` changes them)",
                file=sys.stderr,
            )
    for failure in summary.failures:
        print(
            f"  failed: {safe_path(failure.path)}: {safe_text(failure.reason, REASON_LIMIT)}", file=sys.stderr
        )
    for problem in summary.review_failures:
        print(f"  {safe_path(problem.path)}: {safe_text(problem.reason, REASON_LIMIT)}", file=sys.stderr)


def _list(project: Project, _args: argparse.Namespace) -> int:
    from app.core.project.trend import review_counts

    inspections = project.inspections()
    results = project.latest_results(i.id for i in inspections)
    print(f"Project {safe_path(project.location.display)}")
    for asset in project.assets():  # every text here may come from another user of a shared project
        facts = ", ".join(safe_text(v) for v in (asset.name, asset.location, asset.material) if v)
        print(safe_text(asset.tag) + (f"  ({facts})" if facts else ""))
        for i in (i for i in inspections if i.asset_id == asset.id):
            who = f"  {safe_text(i.inspector)}" if i.inspector else ""
            signed, _flagged = review_counts(results[i.id])
            reviewed = f" ({signed} reviewed)" if signed else ""
            print(f"  {i.date.isoformat()}{who}  {counted(i.photo_count, 'photo')}{reviewed}")
    if not inspections:
        print("(no inspections yet: add one with `corroscope project add PROJECT --asset TAG --date ...`)")
    return EXIT_OK


def _trend(project: Project, args: argparse.Namespace) -> int:
    from app.core.project.tables import RATE_COLUMN, trend_table
    from app.core.project.trend import TREND_COLUMNS, falling_text, rate_text, reviewed_text

    trend = project.trend(args.asset)
    if args.csv is not None and args.csv.exists() and not args.overwrite:
        raise OutputExistsError(f"{args.csv} already exists (pass --overwrite to replace it)")
    shown = trend_table(trend, digits=2)  # on screen: the precision the figures have
    _print_table([*TREND_COLUMNS, RATE_COLUMN], shown)
    print(rate_text(trend))
    if caution := falling_text(trend):
        print(caution)
    if reviewed := reviewed_text(trend):
        print(reviewed)
    if args.csv is not None:
        table = trend_table(trend)
        write_csv(args.csv, table, [*TREND_COLUMNS, RATE_COLUMN], overwrite=args.overwrite)
        print(f"CSV: {args.csv}")
    return EXIT_OK


def _print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    rows = [[safe_text(c) for c in row] for row in rows]  # inspectors' names: untrusted
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    for line in (header, *rows):
        print("  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=False)).rstrip())


def _export(project: Project, args: argparse.Namespace) -> int:
    try:
        from app.report.project_export import export_project
    except ImportError as exc:
        print(f"error: the PDF report cannot load here: {exc}", file=sys.stderr)
        return EXIT_USAGE
    written = export_project(project, args.out, overwrite=args.overwrite)
    names = ", ".join(safe_path(p.name) for p in written.files)
    print(f"Exported {counted(written.assets, 'asset')} to {safe_path(args.out)}: {names}")
    return EXIT_OK


def _relocate(project: Project, args: argparse.Namespace) -> int:
    """Exit 0 when every stored photo is found now, 1 when some are still not (named)."""
    from app.core.project.photos import missing_photos

    if not args.folder.is_dir():
        print(f"error: {safe_path(args.folder)} is not a folder", file=sys.stderr)
        return EXIT_USAGE
    found = project.relocate(args.folder)
    for photo in found:
        print(f"found again: {safe_path(photo.path)}")
    print(f"{counted(len(found), 'moved photo')} found in {safe_path(args.folder)}.")
    inspections = project.photos_of(i.id for i in project.inspections())
    held = (p for photos in inspections.values() for p in photos)
    missing = missing_photos(held, project.location.folder, verify=True)  # by content, as relocate looks
    if not missing:
        return EXIT_OK
    names = [safe_path(PurePath(p.path).name) for p in missing[:MISSING_SHOWN]]
    more = f" and {len(missing) - MISSING_SHOWN} more" if len(missing) > MISSING_SHOWN else ""
    print(f"Still not found ({len(missing)}): {', '.join(names)}{more}")
    return EXIT_FAILED
