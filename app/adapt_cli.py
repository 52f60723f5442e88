"""`corroscope adapt PHOTO_OR_DIR... --reviewed-masks MASK_DIR --out site-model.onnx`: the model's final
classifier refitted to an inspector's reviewed masks (`app.core.adapt`), written as a new model file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.cli_common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, no_model_message
from app.core.adapt import AdaptRefused, AdaptSettings, adapt_model, reviewed_pairs
from app.core.adapt_checks import check_output, masks_phrase, signed_masks
from app.core.batch_inputs import photos_in
from app.core.errors import Cancelled, CorroscopeError, ModelContractError
from app.core.model import SegmentationModel, default_model_path
from app.core.text import counted, safe_message, safe_path


def register(sub: argparse._SubParsersAction) -> None:
    """Add `adapt` to the `corroscope` parser."""
    p = sub.add_parser(
        "adapt",
        help="refit the model's final classifier to reviewed masks; writes a new model file",
        description="Adapt the model to a site: its final classifier is refitted to the reviewed masks of "
        "the photos given (no TensorFlow needed). The new model is written to --out with its provenance "
        "and its leave-one-out error; the base model is never changed. Refused (exit 1) with fewer than "
        f"{AdaptSettings().min_photos} reviewed photos, a class no mask paints, masks in other class "
        "colours, or when leave-one-out says the adapted model would be worse; refused at once (exit 2) "
        "when --out cannot be written or is in the way without --overwrite.",
    )
    p.add_argument("paths", nargs="+", type=Path, metavar="PHOTO_OR_DIR")
    p.add_argument("--reviewed-masks", type=Path, required=True, metavar="MASK_DIR",
                   help="folder of masks named as `analyze --reviewed-masks` reads them "
                   "(the first found of <stem>_mask.reviewed.png, <stem>_mask.edited.png, "
                   "<stem>_mask.png, <stem>.png; GT_<id>.png for an ORI_<id> photo)")  # fmt: skip
    p.add_argument("--out", type=Path, required=True, metavar="FILE.onnx", help="the adapted model")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.add_argument("--recursive", action="store_true", help="look into sub-folders too")
    p.add_argument("--model", type=Path, metavar="FILE", help="base ONNX model (default: the bundled one)")
    defaults = AdaptSettings()
    p.add_argument(
        "--min-photos",
        type=int,
        default=defaults.min_photos,
        metavar="N",
        help=f"fewest reviewed photos to adapt on (default {defaults.min_photos})",
    )
    p.add_argument(
        "--l2",
        type=float,
        default=defaults.l2,
        metavar="X",
        help=f"pull towards the base model's weights, relative to the scale of its features (default "
        f"{defaults.l2:g}; larger: closer to the base model, less harm on photos unlike the site, less "
        "gain on it)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if not args.reviewed_masks.is_dir():
        print(f"error: --reviewed-masks {safe_path(args.reviewed_masks)} is not a folder", file=sys.stderr)
        return EXIT_USAGE
    base = args.model or default_model_path("cpu")
    if base is None:
        print(no_model_message("adapt"), file=sys.stderr)
        return EXIT_FAILED
    try:  # before the slow work: a missing folder or a file in the way is the user's to change
        check_output(Path(base), args.out, args.overwrite, how="pass --overwrite to replace it")
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
    signed = signed_masks([mask for _photo, mask in pairs])
    print(_masks_line(len(pairs), len(photos), signed, safe_path(args.reviewed_masks)))

    def progress(done: int, total: int, what: str) -> None:
        print(f"[{done + 1}/{total}] {what}", file=sys.stderr, flush=True)

    if args.min_photos < 2 or args.l2 < 0:
        print("error: --min-photos must be at least 2 and --l2 not negative", file=sys.stderr)
        return EXIT_USAGE
    settings = AdaptSettings(min_photos=args.min_photos, l2=args.l2)
    try:
        result = adapt_model(
            base, pairs, args.out, settings, overwrite=args.overwrite, progress=progress, loaded=loaded
        )
    except AdaptRefused as exc:
        print(f"Adaptation refused: {safe_message(exc)}", file=sys.stderr)
        return EXIT_FAILED
    except (Cancelled, KeyboardInterrupt):
        print("Interrupted; nothing was written.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except CorroscopeError as exc:
        print(f"error: {safe_message(exc)}", file=sys.stderr)
        return EXIT_FAILED
    b, a = result.base, result.adapted
    print(f"Base model:    {safe_path(base)}")
    over = masks_phrase(result.photos, signed)
    print(f"Leave-one-out over {over}; corroded-share error, ASTM D610 agreement:")
    print(f"  base     {b.share_error:6.2f} points  {100 * b.d610_agreement:5.1f} %")
    print(f"  adapted  {a.share_error:6.2f} points  {100 * a.d610_agreement:5.1f} %")
    print(f"Wrote {safe_path(result.path)}")
    return EXIT_OK


def _masks_line(found: int, photos: int, signed: int, where: str) -> str:
    """ "5 of 5 photos have a reviewed mask in DIR" when every mask is signed, else "9 of 9 photos have
    a mask in DIR: 9 corrected masks, 0 of them signed": unsigned masks are used (`--reviewed-masks`
    reads them), but never called reviewed."""
    verb = "has" if found == 1 else "have"
    head = f"{found} of {counted(photos, 'photo')} {verb}"
    if signed >= found:
        return f"{head} a reviewed mask in {where}"
    return f"{head} a mask in {where}: {counted(found, 'corrected mask')}, {signed} of them signed"
