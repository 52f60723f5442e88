"""A batch that dies for real in the middle of one photo's outputs, as kill -9 would leave it.

`die_while_writing(kind, ...)` runs `run_batch` in a fresh process whose `kind` exporter opens its temp
file, writes half of it and then ends the process with `os._exit` (no cleanup, no lock released, like a
kill): the outputs written before it wait as temp files (a photo's outputs land together), and they, its
temp file and the folder's lock file stay. `kind` "landing:SUFFIX" dies instead while the first photo's
outputs land, just before the file ending in SUFFIX: those landed before it are files of ours that no
record proves yet.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

DIED = 17


def die_while_writing(
    kind: str, model_path: Path, photos: list[Path], out: Path, mode: str = "resize"
) -> None:
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    cmd = [sys.executable, "-m", "tests.helpers.killed_run", kind, str(model_path), mode, str(out)]
    done = subprocess.run([*cmd, *map(str, photos)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == DIED, done.stderr


def _main(kind: str, model_path: str, mode: str, out: str, *photos: str) -> None:
    from app.core import exporters, files
    from app.core.inference import InferenceOptions
    from app.core.model import SegmentationModel
    from app.core.pipeline import BatchOptions, run_batch

    def die(path: Path, data: exporters.ExportInput, overwrite: bool) -> None:
        with files.atomic_write(path, overwrite=overwrite) as fh:
            fh.write(b"half a file")
            fh.flush()
            os._exit(DIED)

    if kind.startswith("landing:"):
        suffix, landing = kind.split(":", 1)[1], os.replace

        def replace_or_die(src, dst) -> None:
            if str(dst).endswith(suffix):
                os._exit(DIED)
            landing(src, dst)

        os.replace = replace_or_die  # this process only
    else:
        exporters.register(dataclasses.replace(exporters.get(kind), write=die))
    model = SegmentationModel.load(Path(model_path), device="cpu")
    run_batch(
        model, [Path(p) for p in photos], Path(out), BatchOptions(inference=InferenceOptions(mode=mode))
    )
    os._exit(3)  # the batch ended without reaching the exporter


if __name__ == "__main__":
    _main(*sys.argv[1:])
