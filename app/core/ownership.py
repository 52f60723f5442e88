"""Which files in an output folder are ours: written by Corroscope for this very photo and model.

A batch's JSON record (schema 2) names its photo (`source`: the resolved path) and proves each file
written with it (`files`: name -> bytes, mtime_ns, SHA-256); a seal (`record_sha256`, the SHA-256 of
the record without it) shows a record edited by hand. A file is ours when a sealed record of ours lists
it with a proof that still holds (same size and mtime, or same size and SHA-256 after a copy), or when
the journal of a dead run of ours names it (`app.core.outlock`). Anything else is not replaced without
`--overwrite`.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from app.core import exporters, outlock
from app.core.export import RESULT_SCHEMA, display_path

SEAL = "record_sha256"
KEPT = "; it was not replaced (move it away, or ask to overwrite with --overwrite)"
_MAX_RECORD_BYTES = 16 << 20  # a record is a few kB; a bigger "record" is not ours, and not read
# field -> the types a record of ours has there (csv_row and the GUI read these)
_FIELDS: Mapping[str, tuple[type, ...]] = {
    "file": (str,),
    "source": (str,),
    "width": (int,),
    "height": (int,),
    "model_sha256": (str,),
    "provider": (str,),
    "mode": (str,),
    "classes": (list,),
    "pixels": (dict,),
    "percent": (dict,),
    "corroded_share": (int, float, type(None)),
    "astm_d610": (dict, type(None)),
    "iso_4628_3": (dict, type(None)),
    "needs_review": (bool,),
    "review_reasons": (list,),
    "mean_confidence": (int, float, type(None)),
    "seconds": (int, float),
    "files": (dict,),
}


def source_key(path: str | os.PathLike[str]) -> str:
    """The identity of a photo in records: its resolved absolute path, as text."""
    return display_path(os.path.realpath(path))  # realpath: a symlink loop gives a path, not an error


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def file_proof(path: Path) -> dict[str, Any]:
    """What proves later that the file at `path` is the one we wrote."""
    st = os.stat(path)
    return {"bytes": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha256_file(path)}


def proof_holds(path: Path, proof: Any) -> bool:
    """The file is a regular file (not a link) with the recorded size, and the same mtime or content."""
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or not isinstance(proof, dict) or st.st_size != proof.get("bytes"):
            return False
        return st.st_mtime_ns == proof.get("mtime_ns") or sha256_file(path) == proof.get("sha256")
    except OSError:
        return False


def _digest(record: Mapping[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != SEAL}
    text = json.dumps(body, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def seal(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record with its seal added (last)."""
    body = {k: v for k, v in record.items() if k != SEAL}
    return {**body, SEAL: _digest(body)}


def read_record(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """(record, None) for a sealed record of ours; (None, None) when there is no file; (None, why) for a
    file there that is not a record of ours (unreadable, edited by hand, another schema or program)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror or exc})"
    if not stat.S_ISREG(st.st_mode):
        return None, "is not a regular file"
    if st.st_size > _MAX_RECORD_BYTES:
        return None, "is too large to be a Corroscope record"
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError) as exc:
        return None, f"is not a Corroscope record (not valid JSON: {type(exc).__name__})"
    return _check(data)


def _check(data: Any) -> tuple[dict[str, Any] | None, str | None]:
    if not isinstance(data, dict) or "model_sha256" not in data:
        return None, "is not a Corroscope record (it lacks our fields)"
    if data.get("schema") != RESULT_SCHEMA:
        schema = data.get("schema")
        return None, f"was written by another version (record schema {schema!r}, not {RESULT_SCHEMA})"
    for name, kinds in _FIELDS.items():
        value = data.get(name)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            return None, f"is not a Corroscope record of this version (field {name!r} is missing or wrong)"
    if data.get(SEAL) != _digest(data):
        return None, "was changed after Corroscope wrote it (edited by hand?)"
    return data, None


def load_record(path: Path) -> dict[str, Any] | None:
    """A sealed JSON record this program wrote, or None (missing, unreadable, or not ours)."""
    return read_record(path)[0]


def own_outputs(paths: Sequence[Path], out_dir: Path) -> set[Path]:
    """Those of `paths` that are files a record (or a dead run's journal) in `out_dir` proves we wrote
    there: a folder scan of `out_dir` leaves them out. A photo merely named like an output is not one."""
    folder = Path(os.path.realpath(out_dir))
    suffixes = tuple(e.suffix for e in exporters.available() if e.kind != exporters.JSON_KIND)
    pending = outlock.names(outlock.read_pending(folder)) if (folder / outlock.LOCK_NAME).exists() else set()
    ours = set()
    records: dict[str, dict[str, Any] | None] = {}
    for p in paths:
        if Path(os.path.realpath(p.parent)) != folder:
            continue
        if p.name in pending:
            ours.add(p)
            continue
        for suffix in suffixes:
            if not p.name.endswith(suffix):
                continue
            stem = p.name[: -len(suffix)]
            if stem not in records:
                records[stem] = load_record(folder / f"{stem}.json")
            rec = records[stem]
            if rec is not None and proof_holds(folder / p.name, rec["files"].get(p.name)):
                ours.add(p)
    return ours


def inode_set(paths: Iterable[Path]) -> set[tuple[int, int]]:
    """(device, inode) of each existing path: a target that is one of them is an input photo."""
    out = set()
    for p in paths:
        try:
            st = os.stat(p)
        except OSError:
            continue
        out.add((st.st_dev, st.st_ino))
    return out


def is_one_of(path: Path, inodes: set[tuple[int, int]]) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return False
    return (st.st_dev, st.st_ino) in inodes


def replaces_input(targets: Iterable[tuple[str, Path]], inputs: set[tuple[int, int]]) -> str | None:
    """Why writing `targets` would replace one of the batch's photos (never allowed), or None."""
    for kind, target in targets:
        if is_one_of(target, inputs):
            return f"its {kind} output {target.name} would replace a photo of this batch"
    return None


def not_ours(
    targets: Iterable[tuple[str, Path]],
    record: Mapping[str, Any] | None,
    orphans: Mapping[str, outlock.Pending],
    run: tuple[str, str],
) -> str | None:
    """Why an output already there may not be replaced: neither proven by the photo's `record` nor left
    by a dead run of ours (`orphans`) with this (model SHA-256, mode). None: every one is ours."""
    proofs = record["files"] if record is not None else {}
    for kind, target in targets:
        if kind == exporters.JSON_KIND or not os.path.lexists(target):
            continue
        if target.name in proofs and proof_holds(target, proofs[target.name]):
            continue
        dead = orphans.get(target.name)
        if dead is not None and (dead.model_sha256, dead.mode) == run:
            continue
        whose = "an unfinished run of another model or mode" if dead is not None else "something else"
        return (
            f"{target.name} is in the way: it was written by {whose}, not by Corroscope for this photo{KEPT}"
        )
    return None
