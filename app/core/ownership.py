"""Which files in an output folder are ours: written by Corroscope for this very photo and model.

A batch's JSON record (`app.core.record.PhotoRecord`) names its photo and proves each file written with
it (name -> bytes, mtime_ns, SHA-256); its seal shows a record edited by hand. A file is ours when a
sealed record of ours lists it with a proof that still holds (same size and mtime, or same size and
SHA-256 after a copy), or when the journal of a dead run of ours names it (`app.core.outlock`). Anything
else is not replaced without `--overwrite`.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from app.core import exporters, outlock
from app.core.files import has_output_mark, sha256_file
from app.core.record import PhotoRecord, RecordError
from app.core.text import display_path

KEPT = "; it was not replaced (move it away, or ask to overwrite with --overwrite)"


def source_key(path: str | os.PathLike[str]) -> str:
    """The identity of a photo in records: its resolved absolute path, as text."""
    return display_path(os.path.realpath(path))  # realpath: a symlink loop gives a path, not an error


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


def superseded_outputs(json_path: Path, source: str, targets: Iterable[Path]) -> list[Path]:
    """The files the photo's earlier record (at `json_path`, of the photo `source`) proves ours that are
    not among `targets`: a new set of outputs leaves them contradicting it. A file changed since is not
    listed (not ours to remove)."""
    record, _problem = read_record(json_path)
    if record is None or record.source != source:
        return []
    proofs = record.get("files")
    if not isinstance(proofs, dict):
        return []
    keep = {Path(t).name for t in targets}
    found = [(json_path.parent / name, proof) for name, proof in proofs.items() if isinstance(name, str)]
    found = [(p, proof) for p, proof in found if p.parent == json_path.parent and p.name not in keep]
    return [p for p, proof in found if proof_holds(p, proof)]


def read_record(path: Path) -> tuple[PhotoRecord | None, str | None]:
    """(record, None) for a sealed record of ours; (None, None) when there is no file; (None, why) for a
    file there that is not a record of ours (unreadable, edited by hand, another schema or program)."""
    try:
        return PhotoRecord.read(path), None
    except RecordError as exc:
        return None, str(exc)


def load_record(path: Path) -> PhotoRecord | None:
    """A sealed JSON record this program wrote, or None (missing, unreadable, or not ours)."""
    return read_record(path)[0]


def own_outputs(paths: Sequence[Path], out_dir: Path) -> set[Path]:
    """Those of `paths` that are files a record (or a dead run's journal) in `out_dir` proves we wrote
    there: a folder scan of `out_dir` leaves them out. A photo merely named like an output is not one."""
    folder = Path(os.path.realpath(out_dir))
    suffixes = tuple(e.suffix for e in exporters.available(variants=True) if e.kind != exporters.JSON_KIND)
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
            if rec is not None and proof_holds(folder / p.name, rec.files.get(p.name)):
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
    proofs = record.files if record is not None else {}
    for kind, target in targets:
        if kind == exporters.JSON_KIND or not os.path.lexists(target):
            continue
        if target.name in proofs and proof_holds(target, proofs[target.name]):
            continue
        dead = orphans.get(target.name)
        if dead is not None and (dead.model_sha256, dead.mode) == run:
            continue
        if dead is None and record is None and has_output_mark(target):
            continue  # this photo's output, named so and marked by us, whose record was deleted
        whose = "an unfinished run of another model or mode" if dead is not None else "something else"
        return (
            f"{target.name} is in the way: it was written by {whose}, not by Corroscope for this photo{KEPT}"
        )
    return None
