"""`corroscope project inspection`: show one inspection, correct its asset, date, inspector or notes, or
remove it from the project (its photos' records and results; never the photo files)."""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
from pathlib import PurePath
from typing import TYPE_CHECKING

from app.core.dates import parse_iso_date
from app.core.errors import ProjectError
from app.core.text import counted, safe_path, safe_text

if TYPE_CHECKING:  # app.core.project (SQLAlchemy) loads only when a project command runs, as in project_cli
    from app.core.project import Inspection, Project
    from app.core.project.photos import PhotoLookup

EXIT_OK, EXIT_USAGE = 0, 2


def any_date(text: str) -> _dt.date:
    """An argparse type: a YYYY-MM-DD date, of any year (one stored before 1900 must be found to be
    corrected; a new or corrected date is checked by `inspection_date`)."""
    try:
        return parse_iso_date(text, earliest=_dt.MINYEAR)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def inspection_date(text: str) -> _dt.date:
    """An argparse type: a YYYY-MM-DD date from 1900 to tomorrow."""
    from app.core.project.records import check_date

    try:
        return check_date(any_date(text))
    except ProjectError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(cmds: argparse._SubParsersAction, project_help: str) -> None:
    p = cmds.add_parser(
        "inspection", help="show an inspection, correct its asset, date, inspector or notes, or remove it"
    )
    p.add_argument("project", help=project_help)
    p.add_argument("--asset", required=True, metavar="TAG", help="the inspection's asset")
    # any date: an inspection stored before dates were checked must still be found to be corrected
    p.add_argument("--date", required=True, type=any_date, metavar="YYYY-MM-DD", help="its date")
    p.add_argument("--inspector", default="", metavar="NAME", help="the inspection's inspector, if any")
    p.add_argument("--set-asset", metavar="TAG", help="move it to this asset (made if new)")
    p.add_argument("--set-date", type=inspection_date, metavar="YYYY-MM-DD", help="correct the date")
    p.add_argument("--set-inspector", metavar="NAME", help="correct the inspector ('' for none)")
    p.add_argument("--set-notes", metavar="TEXT", help="replace the inspection's notes")
    p.add_argument(
        "--remove",
        action="store_true",
        help="remove the inspection, its photos' records and results from the project (not the files)",
    )
    p.add_argument(
        "--remove-photo",
        metavar="NAME",
        help="remove one photo (its file name or path) and its results from the inspection (not the file)",
    )
    p.add_argument("--yes", action="store_true", help="confirm --remove or --remove-photo")
    p.add_argument(
        "--by",
        metavar="NAME",
        default=None,
        help="who makes the correction or removal, for the project's change log (default: your account name)",
    )


def describe(inspection: Inspection) -> str:
    who = f" by {safe_text(inspection.inspector)}" if inspection.inspector else ""
    lines = (" ".join(line.split()) for line in inspection.notes.splitlines())  # tabs and runs: one space
    one_line = " / ".join(line for line in lines if line)
    notes = f"; notes: {safe_text(one_line)}" if one_line else ""  # a line break read as " / ", not \x0a
    photos = counted(inspection.photo_count, "photo")
    return f"{safe_text(inspection.asset_tag)} {inspection.date}{who}: {photos}{notes}"


def photo_lines(project: Project, inspection: Inspection) -> list[str]:
    """One line per photo: where it is, its newest figures and whether they are reviewed or flagged."""
    from app.core.figures import percent_text

    newest = {r.photo_id: r for r in project.latest_results([inspection.id])[inspection.id]}
    lines = []
    for photo in project.photos(inspection.id):
        where = safe_text(photo.path, 400) + _not_found(project.find_photo(photo))
        result = newest.get(photo.id)
        if result is None:
            lines.append(f"{where}: no result")
            continue
        share = percent_text(result.corroded_share, unit=True)
        grade = result.record.get("astm_d610_with_distribution") or result.astm_d610  # "2-S" as elsewhere
        d610 = "no grade" if result.astm_d610 is None else f"ASTM D610 {safe_text(grade)}"
        if result.is_reviewed:
            state = f"reviewed by {safe_text(result.reviewed_by or 'someone')}"
        else:
            state = "needs review" if result.needs_review else "no review needed"
        lines.append(f"{where}: {share}, {d610}, {state}")
    return lines


def _not_found(lookup: PhotoLookup) -> str:
    if lookup.path is not None:
        return ""
    if lookup.changed:
        return f" (changed: {safe_path(lookup.changed[0])} holds another file now; relocate)"
    return " (missing: relocate)"


def find_inspection(project: Project, tag: str, date: _dt.date, inspector: str) -> Inspection:
    """The asset's inspection on `date` by `inspector`; ProjectError naming the ones it has otherwise."""
    from app.core.project.records import as_typed

    held = project.inspections(tag)
    for inspection in held:
        if inspection.date == date and inspection.inspector == as_typed(inspector):
            return inspection
    if not held:
        raise ProjectError(f"No asset {safe_text(tag)!r} in {project.location.display}")
    listed = "; ".join(describe(i) for i in held)
    who = f"by {safe_text(inspector)}" if inspector.strip() else "without an inspector's name (--inspector)"
    raise ProjectError(f"{safe_text(tag)} has no inspection on {date} {who}. It has: {listed}")


def run(project: Project, args: argparse.Namespace) -> int:
    from app.core.project.changes import CHANGED_BY
    from app.core.project.records import check_name

    if args.by is not None:  # before anything is looked up: it goes into the change log as typed
        args.by = check_name(args.by, CHANGED_BY)
    inspection = find_inspection(project, args.asset, args.date, args.inspector)
    changes = (args.set_asset, args.set_date, args.set_inspector, args.set_notes)
    if args.remove_photo is not None:
        if args.remove or any(c is not None for c in changes):
            print("error: --remove-photo goes alone (with --yes)", file=sys.stderr)
            return EXIT_USAGE
        return _remove_photo(project, inspection, args.remove_photo, args.yes, args.by)
    if args.remove:
        if any(c is not None for c in changes):
            print("error: --remove does not go with the --set-... options", file=sys.stderr)
            return EXIT_USAGE
        if not args.yes:
            raise ProjectError(
                f"This removes the inspection {describe(inspection)} from the project, with the photos' "
                "records, results and reviews (the photo files stay where they are). Pass --yes to remove it."
            )
        removed = project.remove_inspection(inspection.id, args.by)
        print(
            f"Removed the inspection {safe_text(inspection.asset_tag)} {inspection.date} "
            f"({counted(removed, 'photo')}; the files are untouched)."
        )
        return EXIT_OK
    if all(c is None for c in changes):
        print(describe(inspection))
        for line in photo_lines(project, inspection):
            print(f"  {line}")
        return EXIT_OK
    tag = (args.set_asset or inspection.asset_tag).strip()
    date = args.set_date or inspection.date
    inspector = inspection.inspector if args.set_inspector is None else args.set_inspector.strip()
    notes = inspection.notes if args.set_notes is None else args.set_notes
    project.correct_inspection(inspection.id, tag, date, inspector, notes, args.by)
    print(f"Corrected: {describe(find_inspection(project, tag, date, inspector))}")
    return EXIT_OK


def _remove_photo(
    project: Project, inspection: Inspection, name: str, confirmed: bool, by: str | None = None
) -> int:
    photos = project.photos(inspection.id)
    found = [p for p in photos if name in (p.path, PurePath(p.path).name)]
    if len(found) != 1:  # the paths of the photos that share the name, else every photo's name
        held = ", ".join(safe_text(p.path, 400) for p in found) or ", ".join(
            safe_text(PurePath(p.path).name) for p in photos
        )
        why = "no photo" if not found else f"{len(found)} photos"
        named = safe_text(name)
        raise ProjectError(f"{describe(inspection)} holds {why} named {named!r} (give the path): {held}")
    path = safe_text(found[0].path)
    if not confirmed:
        raise ProjectError(
            f"This removes {path} and its results from {describe(inspection)} (the file stays where it is). "
            "Pass --yes to remove it."
        )
    project.remove_photo(found[0].id, by)
    where = f"{safe_text(inspection.asset_tag)} {inspection.date}"
    print(f"Removed {path} from the inspection {where}; the file stays.")
    return EXIT_OK
