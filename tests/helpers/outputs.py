"""Where the batch pipeline puts one photo's default outputs, by attribute (`.mask`, `.overlay`, `.json`)."""

from __future__ import annotations

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
