"""Where the batch pipeline puts one photo's default outputs, by attribute (`.mask`, `.overlay`, `.json`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from app.core import exporters
from app.core.pipeline import DEFAULT_EXPORTS


@dataclass(frozen=True)
class OutputPaths:
    mask: Path
    overlay: Path
    json: Path

    def all(self) -> tuple[Path, ...]:
        return (self.mask, self.overlay, self.json)


def output_paths(out_dir: Path, stem: str, kinds: tuple[str, ...] = DEFAULT_EXPORTS) -> OutputPaths:
    """The pipeline's default outputs; `kinds=CLI_EXPORTS` for `corroscope analyze` (the overlay as JPEG)."""
    targets = exporters.targets(Path(out_dir), stem, kinds)
    overlay = targets.get("overlay") or targets[exporters.OVERLAY_JPEG_KIND]
    return OutputPaths(targets["mask"], overlay, targets["json"])


RUN_DEPENDENT = ("seconds", "analysed_at")  # what differs between two runs of the same photo


def comparable(record: dict) -> dict:
    """A JSON record without what differs from run to run: timing, the time of analysis, file times
    and the seal over them (the figures, names, sizes and file hashes stay)."""
    from app.core.record import SEAL

    out = {k: v for k, v in record.items() if k not in (*RUN_DEPENDENT, SEAL)}
    if isinstance(out.get("files"), Mapping):
        out["files"] = {n: {k: v for k, v in p.items() if k != "mtime_ns"} for n, p in out["files"].items()}
    return out
