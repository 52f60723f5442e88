"""What the `corroscope` subcommands share: exit codes, loading the model, the provider line."""

from __future__ import annotations

import sys
from pathlib import Path

from app.core.errors import CorroscopeError
from app.core.model import SegmentationModel, default_model_path
from app.core.paths import models_dir

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_BROKEN_PIPE = 128 + 13  # what a shell reports for a program ended by SIGPIPE (`| head`)


def no_model_message(command: str) -> str:
    return (
        f"No model to load: none is bundled in {models_dir()} yet (the trained default model will be "
        f"shipped there as models/*.onnx), and none was passed.\n"
        f"Pass an ONNX model that follows the Corroscope contract with --model FILE, e.g.\n"
        f"  corroscope {command} --model path/to/model.onnx"
        + (" photo.jpg --out results" if command == "analyze" else "")
    )


def load_model(
    path: Path | None, device: str, command: str, threads: int | None = None
) -> SegmentationModel | None:
    path = path or default_model_path(device)
    if path is None:
        print(no_model_message(command), file=sys.stderr)
        return None
    try:
        return SegmentationModel.load(path, device=device, threads=threads)
    except CorroscopeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


def provider_line(model: SegmentationModel, device: str) -> str:
    line = f"Model: {model.describe()}"
    if model.cuda_note and device != "cpu":
        line += f" ({model.cuda_note})"
    return line
