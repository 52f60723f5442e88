"""What the `corroscope` subcommands share: exit codes, loading the model, the provider line."""

from __future__ import annotations

import argparse
import errno
import os
import sys
from pathlib import Path

from app.core.errors import CorroscopeError
from app.core.left_out import left_out_line
from app.core.model import SegmentationModel, default_model_path
from app.core.paths import models_dir
from app.core.text import safe_message, safe_path

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_BROKEN_PIPE = 128 + 13  # what a shell reports for a program ended by SIGPIPE (`| head`)


def path_arg(text: str) -> Path:
    """A path typed on the command line (argparse's `type=`). An empty one is refused, naming the
    option: `Path("")` is the current folder, so `--out "$UNSET"` wrote into it and `analyze ""`
    analysed it."""
    if not text:
        raise argparse.ArgumentTypeError(
            "empty path (an unset variable?): name a file or folder; . is the current folder"
        )
    if (problem := _unusable_path(text)) is not None:
        raise argparse.ArgumentTypeError(problem)
    return Path(text)


STDIN_REFUSED = (
    "reading photos from standard input is not supported: name the photo files, or a folder of them"
)


def photo_arg(text: str) -> Path:
    """A photo or folder of photos typed on the command line: `path_arg`, and `-` refused as what many
    tools read as standard input (it said "not found: -"), unless a file of that name is there."""
    if text == "-" and not os.path.lexists(text):
        raise argparse.ArgumentTypeError(STDIN_REFUSED)
    return path_arg(text)


def _unusable_path(text: str) -> str | None:
    """Why no file can ever have this path, as the file system says (a name over its limit, usually 255
    bytes: every `exists()` and `is_dir()` on it raised ENAMETOOLONG as a traceback), or None. A path
    that is merely missing is fine here: each command says "not found" in its own way."""
    try:
        os.lstat(text)
    except ValueError:  # a NUL character: no system call takes it
        return f"holds a NUL character: {safe_path(text)}"
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            return (
                f"a name in it is longer than the file system allows (usually 255 bytes): {safe_path(text)}"
            )
    return None


def project_arg(text: str) -> str:
    """A project file or URL typed on the command line; empty is refused as `path_arg` refuses it."""
    if not text:
        raise argparse.ArgumentTypeError("empty path (name a *.corroscope file or a postgresql:// URL)")
    return text


def no_model_message(command: str) -> str:
    return (
        f"No model to load: none is bundled in {models_dir()} yet (the trained default model will be "
        f"shipped there as models/*.onnx), and none was passed.\n"
        f"Pass an ONNX model that follows the Corroscope contract with --model FILE, e.g.\n"
        f"  corroscope {command} --model path/to/model.onnx"
        + (" photo.jpg --out results" if command == "analyze" else "")
    )


def load_model(
    path: Path | None,
    device: str,
    command: str,
    threads: int | None = None,
    honour_device: bool = True,
) -> SegmentationModel | None:
    """The model on `device`, or None after saying why not. With `honour_device` an explicit
    `--device cuda` on which CUDA does not start is refused (`auto` falls back to the CPU); `selftest`
    passes False, as it runs anyway to show the diagnosis and then fails."""
    path = path or default_model_path(device)
    if path is None:
        print(no_model_message(command), file=sys.stderr)
        return None
    try:
        model = SegmentationModel.load(path, device=device, threads=threads)
    except CorroscopeError as exc:
        print(f"error: {safe_message(exc)}", file=sys.stderr)
        return None
    if honour_device and (refusal := device_refusal(model, device)) is not None:
        print(f"error: {refusal}", file=sys.stderr)
        return None
    return model


def device_refusal(model: SegmentationModel, device: str) -> str | None:
    """Why the loaded model does not run on the device asked for, or None: only an explicit "cuda" can
    be unmet (results on the CPU when the GPU was asked for would hide a broken GPU setup)."""
    if device != "cuda" or model.device == "CUDA":
        return None
    why = model.cuda_note or "unknown reason"
    return f"--device cuda: CUDA does not run here ({why}); pass --device auto to fall back to the CPU"


def provider_line(model: SegmentationModel, device: str) -> str:
    line = f"Model: {model.describe()}"
    if model.cuda_note and device != "cpu":
        line += f" ({model.cuda_note})"
    return line


def say_no_photos(paths: list[Path], recursive: bool) -> None:
    """The error of a run given no photo, with the files it left out (a folder of only HEIC or GIF photos
    said "no photos found" and not why)."""
    print(f"error: no photos found in {', '.join(map(str, paths))}", file=sys.stderr)
    if (skipped := left_out_line(paths, recursive=recursive)) is not None:
        print(skipped, file=sys.stderr)


def resume_advice(overwrite: bool, resume: bool) -> str:
    """What to run after a batch stopped part-way, true for the options it ran with: a resume skips the
    photos done; `--overwrite` analyses every photo again; `--no-resume` fails on the outputs it left."""
    if overwrite:
        return (
            "run the same command again to finish (with --overwrite it analyses every photo again, "
            "those done already too)"
        )
    if not resume:
        return "run the command again without --no-resume to resume (the photos done are kept)"
    return "run the same command again to resume"
