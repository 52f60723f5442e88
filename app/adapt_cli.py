"""`corroscope adapt PHOTO_OR_DIR... --reviewed-masks MASK_DIR --out site-model.onnx`: the model's final
classifier refitted to an inspector's reviewed masks (`app.core.adapt`), written as a new model file."""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from app import console
from app.cli_common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    no_model_message,
    path_arg,
    photo_arg,
)
from app.core.adapt import AdaptRefused, AdaptSettings, adapt_model, reviewed_pairs
from app.core.adapt_checks import check_output, named_few, signed_masks
from app.core.adapt_scores import comparison_text
from app.core.batch_inputs import photos_in
from app.core.errors import Cancelled, CorroscopeError, ModelContractError
from app.core.files import PASS_OVERWRITE, overwrite_hint
from app.core.mask_folder import models_own_file
from app.core.model import SegmentationModel, default_model_path
from app.core.reviewed import EDITED_SUFFIX, REVIEWED_SUFFIX
from app.core.text import counted, safe_message, safe_path, safe_text

# Names that say "a mask" in a mask folder (`<stem>.png` could be a photo as well: not listed)
_MASK_ENDINGS = (REVIEWED_SUFFIX, EDITED_SUFFIX, "_mask.png")


def register(sub: argparse._SubParsersAction) -> None:
    """Add `adapt` to the `corroscope` parser."""
    p = sub.add_parser(
        "adapt",
        help="refit the model's final classifier to reviewed masks; writes a new model file",
        description="Adapt the model to a site: its final classifier is refitted to the reviewed masks of "
        "the photos given (no TensorFlow needed). The new model is written to --out with its provenance "
        "and its leave-one-out error; the base model is never changed. Refused (exit 1) with fewer than "
        f"{AdaptSettings().min_photos} different reviewed photos, a class no mask paints, masks in other "
        "class colours (or most of them looking swapped against the model's own prediction), or when "
        "leave-one-out says the adapted model would be worse; refused at once (exit 2) when no model is "
        "bundled and none is passed (--model), a photo is not found, --out cannot be written, is one "
        "of the bundled models or in their folder, or is in the way without --overwrite.",
    )
    p.add_argument(
        "paths",
        nargs="+",
        type=photo_arg,
        metavar="PHOTO_OR_DIR",
        help="the reviewed photos and/or folders of them (each paired with its mask in --reviewed-masks)",
    )
    p.add_argument("--reviewed-masks", type=path_arg, required=True, metavar="MASK_DIR",
                   help="folder of masks named as `analyze --reviewed-masks` reads them "
                   "(the first found of <stem>_mask.reviewed.png, <stem>_mask.edited.png, "
                   "<stem>_mask.png, <stem>.png; GT_<id>.png for an ORI_<id> photo)")  # fmt: skip
    p.add_argument("--out", type=path_arg, required=True, metavar="FILE.onnx", help="the adapted model")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.add_argument("--recursive", action="store_true", help="look into sub-folders too")
    p.add_argument(
        "--model", type=path_arg, metavar="FILE", help="base ONNX model (default: the bundled one)"
    )
    defaults = AdaptSettings()
    p.add_argument(
        "--min-photos",
        type=_at_least_two,
        default=defaults.min_photos,
        metavar="N",
        help=f"fewest reviewed photos to adapt on (default {defaults.min_photos})",
    )
    p.add_argument(
        "--l2",
        type=_pull,
        default=defaults.l2,
        metavar="X",
        help=f"pull towards the base model's weights, relative to the scale of its features (default "
        f"{defaults.l2:g}; larger: closer to the base model, less harm on photos unlike the site, less "
        "gain on it)",
    )
    p.set_defaults(run=run)


def _at_least_two(text: str) -> int:
    """--min-photos: refused by the parser, before the model loads (leave-one-out needs two)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {safe_text(text)}") from None
    if value < 2:
        raise argparse.ArgumentTypeError("must be at least 2 (leave-one-out fits on the others)")
    return value


def _pull(text: str) -> float:
    """--l2: a finite number, 0 or more (nan and inf would reach the fit as warnings and garbage)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {safe_text(text)}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number, 0 or more, not {safe_text(text)}")
    return value


def _interrupted(signum: int) -> None:
    raise KeyboardInterrupt  # SIGTERM and SIGHUP as Ctrl+C: the temp file is removed, nothing written


def run(args: argparse.Namespace) -> int:
    """`corroscope adapt`: Ctrl+C, SIGTERM (docker stop, systemd) and SIGHUP (a closed terminal) stop it
    at once, leaving nothing written (the model is written only at the very end)."""
    with console.guarded_streams(), console.Interrupts(_interrupted):
        try:
            return _run(args)
        except (Cancelled, KeyboardInterrupt):
            print("Interrupted; nothing was written.", file=sys.stderr)
            return EXIT_INTERRUPTED


def _run(args: argparse.Namespace) -> int:
    missing = [p for p in args.paths if not os.path.lexists(p)]  # a typo is no photo, before any work
    if missing:
        print(f"error: not found: {named_few((safe_path(p) for p in missing), 5)}", file=sys.stderr)
        return EXIT_USAGE
    if not args.reviewed_masks.is_dir():
        print(f"error: --reviewed-masks {safe_path(args.reviewed_masks)} is not a folder", file=sys.stderr)
        return EXIT_USAGE
    base = args.model or default_model_path("cpu")
    if base is None:
        print(no_model_message("adapt"), file=sys.stderr)
        return EXIT_USAGE  # as `analyze`: no usable model is bad usage (README, Exit status)
    try:  # before the slow work: a missing folder or a file in the way is the user's to change
        check_output(Path(base), args.out, args.overwrite, how=PASS_OVERWRITE)
    except AdaptRefused as exc:
        print(f"error: --out: {safe_message(exc)}", file=sys.stderr)
        return EXIT_USAGE
    try:  # a model that cannot be used is refused before any photo or mask is read
        loaded = SegmentationModel.load(base, device="cpu")
    except ModelContractError as exc:
        print(f"error: {safe_message(exc)}", file=sys.stderr)
        return EXIT_USAGE
    photos = photos_in(args.paths, recursive=args.recursive)
    pairs = reviewed_pairs(photos, args.reviewed_masks)
    photos = _not_masks(photos, pairs, args.reviewed_masks)
    signed = signed_masks([mask for _photo, mask in pairs])
    print(_masks_line(len(pairs), len(photos), signed, safe_path(args.reviewed_masks)))
    for line in _unpaired(photos, pairs, args.reviewed_masks):
        print(line)

    def progress(done: int, total: int, what: str) -> None:
        print(f"[{done + 1}/{total}] {safe_text(what)}", file=sys.stderr, flush=True)

    settings = AdaptSettings(min_photos=args.min_photos, l2=args.l2)
    try:
        with overwrite_hint(PASS_OVERWRITE):  # an --out another run wrote meanwhile names the option
            result = adapt_model(
                base, pairs, args.out, settings, overwrite=args.overwrite, progress=progress, loaded=loaded
            )
    except AdaptRefused as exc:
        print(f"Adaptation refused: {safe_message(exc)}", file=sys.stderr)
        return EXIT_FAILED
    except Cancelled:
        raise
    except CorroscopeError as exc:
        print(f"error: {safe_message(exc)}", file=sys.stderr)
        return EXIT_FAILED
    b, a = result.base, result.adapted
    for note in result.notes:
        print(f"Note: {safe_message(note)}")
    print(f"Base model:    {safe_path(base)}")
    print(f"Leave-one-out over {result.loo_over}; corroded-share error, ASTM D610 agreement:")
    print(f"  base     {b.share_error:6.2f} points  {100 * b.d610_agreement:5.1f} %")
    print(f"  adapted  {a.share_error:6.2f} points  {100 * a.d610_agreement:5.1f} %")
    print(f"  ({comparison_text(b, a)})")
    print(f"Wrote {safe_path(result.path)}")
    return EXIT_OK


def _key(path: Path) -> str:
    return os.path.normcase(os.path.realpath(path))


def _not_masks(photos: Sequence[Path], pairs: Sequence[tuple[Path, Path]], folder: Path) -> list[Path]:
    """The photos less the masks among them: another photo's mask (`<stem>_mask.png`, `GT_<id>.png`
    beside the photos), or one named as a mask in the mask folder: a mask is never a photo of its own."""
    masks = {_key(mask) for _photo, mask in pairs}
    where = _key(folder)
    return [
        p
        for p in photos
        if _key(p) not in masks and not (_looks_like_a_mask(p.name) and _key(p.parent) == where)
    ]


def _unpaired(photos: Sequence[Path], pairs: Sequence[tuple[Path, Path]], folder: Path) -> list[str]:
    """Lines naming (a few) photos without a mask and masks in `folder` without one of the photos."""
    lines = []
    paired = {_key(photo) for photo, _mask in pairs}
    alone = [safe_path(p.name) for p in photos if _key(p) not in paired]
    if alone:
        lines.append(f"Without a mask: {named_few(alone)}")
    used = {_key(mask) for _photo, mask in pairs}
    try:
        names = sorted(p for p in folder.iterdir() if _looks_like_a_mask(p.name) and p.is_file())
    except OSError:
        names = []
    own: list[str] = []
    orphans: list[str] = []
    for p in names:
        if _key(p) not in used and _key(p) not in paired:
            (own if models_own_file(p) else orphans).append(safe_path(p.name))
    if own:
        lines.append(f"The model's own masks, exported unchanged (not corrections): {named_few(own)}")
    if orphans:
        lines.append(f"Masks of no photo given: {named_few(orphans)}")
    return lines


def _looks_like_a_mask(name: str) -> bool:
    folded = name.casefold()
    return folded.endswith(_MASK_ENDINGS) or (name.startswith("GT_") and folded.endswith(".png"))


def _masks_line(found: int, photos: int, signed: int, where: str) -> str:
    """ "5 of 5 photos have a reviewed mask in DIR" when every mask is signed, else "9 of 9 photos have
    a mask in DIR: 9 corrected masks, 0 of them signed": unsigned masks are used (`--reviewed-masks`
    reads them), but never called reviewed."""
    verb = "has" if found == 1 else "have"
    head = f"{found} of {counted(photos, 'photo')} {verb}"
    if signed >= found:
        return f"{head} a reviewed mask in {where}"
    return f"{head} a mask in {where}: {counted(found, 'corrected mask')}, {signed} of them signed"
