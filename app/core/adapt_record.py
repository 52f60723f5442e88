"""What an adapted model records of how it was made (`corroscope.adaptation`): its base, its photos and
masks, the settings, leave-one-out before and after, and the chain of every adaptation behind it, so
photos an earlier step used are known again by their picture key, or by their file's SHA-256 in a
record written before picture keys (the base model's record is untrusted text: only well-formed steps
are kept)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from app.core import contract
from app.core.meta_json import strict_json
from app.core.picture_key import PictureKey
from app.core.text import safe_text

KEY_ADAPTATION = "corroscope.adaptation"
# How an int8 file was made from its float model (`training.quantize`); never true of an adapted copy.
KEY_QUANTIZATION = "corroscope.quantization"
_RAW_LIMIT = 20_000_000  # characters of a base model's record parsed at all
_MAX_STEPS = 1_000
_SHA256 = re.compile(r"[0-9a-f]{64}")


def read_record(meta: dict[str, str]) -> dict[str, Any] | None:
    """A model's `corroscope.adaptation` object; None when it has none or it is unreadable."""
    return check_record(meta)[0]


def check_record(meta: dict[str, str]) -> tuple[dict[str, Any] | None, str | None]:
    """(the `corroscope.adaptation` object, None); (None, None) where the model has none; (None, why)
    where it is unreadable (not JSON, nested too deeply, too long, not an object)."""
    raw = meta.get(KEY_ADAPTATION)
    if raw is None:
        return None, None
    if not isinstance(raw, str) or len(raw) > _RAW_LIMIT:
        return None, f"it is over {_RAW_LIMIT:,} characters long"
    try:
        data = strict_json(raw)
    except ValueError as exc:
        return None, safe_text(exc)
    return (data, None) if isinstance(data, dict) else (None, "it is not a JSON object")


def earlier_steps(meta: dict[str, str]) -> tuple[list[dict[str, Any]], bool]:
    """The adaptations behind a model, oldest first, each {"base_model": {"file", "sha256"}, "photos": n,
    "photo_sha256": [...]} and, where recorded, "photo_pictures": [`PictureKey.to_json`, ...]; and whether
    that chain is whole (False: it says it was adapted, but (part of) its record cannot be read). A
    record written before chains were kept is one step."""
    if KEY_ADAPTATION not in meta:
        return [], True
    data = read_record(meta)
    if data is None:
        return [], False
    raw = data.get("chain")
    if raw is None:  # the first format: this model's own step only
        photos = data.get("photos")
        photos = photos if isinstance(photos, list) else []
        own = {
            "base_model": data.get("base_model"),
            "photos": len(photos),
            "photo_sha256": [p.get("sha256") for p in photos if isinstance(p, dict)],
        }
        raw = [own]
    if not isinstance(raw, list):
        return [], False
    steps = [s for s in (_step(item) for item in raw[:_MAX_STEPS]) if s is not None]
    return steps, len(steps) == len(raw)


def _step(item: Any) -> dict[str, Any] | None:
    if not isinstance(item, dict):
        return None
    base = item.get("base_model")
    shas = item.get("photo_sha256")
    photos = item.get("photos")
    if not isinstance(base, dict) or not isinstance(shas, list) or not isinstance(photos, int):
        return None
    name, sha = base.get("file"), base.get("sha256")
    if not isinstance(name, str) or not isinstance(sha, str):
        return None
    kept = [s for s in shas if isinstance(s, str) and _SHA256.fullmatch(s)]
    if len(kept) != len(shas) or isinstance(photos, bool) or photos != len(kept):
        return None
    step = {"base_model": {"file": name[:1000], "sha256": sha[:64]}, "photos": photos, "photo_sha256": kept}
    if "photo_pictures" in item:  # absent from records written before picture keys: bytes only then
        raw = item["photo_pictures"]
        keys = [PictureKey.from_json(k) for k in raw] if isinstance(raw, list) else []
        if len(keys) != photos or any(k is None for k in keys):
            return None
        step["photo_pictures"] = [k.to_json() for k in keys if k is not None]
    return step


def used_before(steps: Sequence[dict[str, Any]]) -> tuple[set[str], list[PictureKey]]:
    """The file SHA-256 and the picture key (where recorded) of every photo an earlier adaptation used."""
    shas = {sha for step in steps for sha in step["photo_sha256"]}
    keys = [PictureKey.from_json(k) for step in steps for k in step.get("photo_pictures", [])]
    return shas, [k for k in keys if k is not None]


def trained_on(base_text: str, adapted_to: str, again: int, photos: int) -> str:
    """The base model's trained-on text with this step added: "...; adapted to 12 reviewed photos (4 of
    them used by an earlier adaptation too)", so two steps on the same photos never read as 24 photos."""
    if again == photos:
        adapted_to += " (the same photos as an earlier adaptation)"
    elif again:
        adapted_to += f" ({again} of them used by an earlier adaptation too)"
    return f"{base_text}; adapted to {adapted_to}"


def adapted_metadata(
    base_meta: dict[str, str],
    created: str,
    adaptation: dict[str, Any],
    adapted_to: str,
    again: int,
    accuracy: str | None,
) -> dict[str, str | None]:
    """The metadata entries the adapted file gets (None: removed)."""  # fmt: skip
    photos = len(adaptation["photos"])
    return {
        contract.KEY_CREATED: created,
        contract.KEY_TRAINED_ON: trained_on(
            base_meta.get(contract.KEY_TRAINED_ON, ""), adapted_to, again, photos
        ),
        # the base model's validation figures and range calibration are not this model's: its own
        # leave-one-out error stands in for the first; photos get no range (and say why) without the second
        contract.KEY_METRICS: None,
        contract.KEY_SHARE_RANGE: None,
        contract.KEY_ACCURACY: accuracy,
        KEY_ADAPTATION: json.dumps(adaptation),
        KEY_QUANTIZATION: _quantization(base_meta, adaptation["base_model"]),
    }


def _quantization(base_meta: dict[str, str], base_model: dict[str, Any]) -> str | None:
    """An int8 base's record rewritten: the adapted file was not quantised from the base's float model
    (its refitted classifiers were quantised again here); a float base's file gets none."""
    if KEY_QUANTIZATION not in base_meta:
        return None
    return json.dumps(
        {
            "adapted_from_int8_model_sha256": base_model["sha256"],
            "method": "the int8 base model's weights, with its final classifier(s) refitted by site "
            "adaptation and quantised again (symmetric int8, per channel); no float model of this file",
        },
        sort_keys=True,
    )
