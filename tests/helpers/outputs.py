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


def output_paths(out_dir: Path, stem: str) -> OutputPaths:
    targets = exporters.targets(Path(out_dir), stem, DEFAULT_EXPORTS)
    return OutputPaths(targets["mask"], targets["overlay"], targets["json"])
