"""The default model's recipe end to end: train one run per seed, evaluate and export each, merge, quantize.

`python -m training.recipe --data DATA --encoder-weights PATH --out runs/recipe --seeds 0 1 2
[--extra-data DIR ...]`

Writes `OUT/seedN/` (run folders), `OUT/members/seedN.onnx` (+ `.int8.onnx`), and the two files to ship,
`OUT/NAME.onnx` and `OUT/NAME.int8.onnx`, each carrying its own validation figures (evaluations in
`OUT/eval-float`, or `OUT/seedN/eval-val` for one seed, and `OUT/eval-int8`). Arguments after `--` go to
every `training.train` call. Run the same command again after an interruption: finished steps are kept, an
unfinished run continues. Copy the two files into `models/` yourself once they measure better than what is
there (`models/MODEL_CARD.md`).
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from app.core.errors import CorroscopeError
from training import data

log = logging.getLogger("training.recipe")

DEFAULT_NAME = "corrosion-deeplabv3plus-mobilenetv2"
# The settings of the shipped members (models/MODEL_CARD.md); `--` arguments come after and win.
RECIPE_ARGS = [
    "--split-from-lists",
    *("--arch", "deeplabv3plus"),  # its backbone defaults to mobilenetv2
    *("--epochs", "60"),
    *("--batch-size", "8"),
    *("--crop", "192"),
    *("--lr", "1e-3"),
]


class RecipeError(CorroscopeError):
    """A step of the recipe failed or stopped early; its own log says why."""


def _step(name: str, entry: Callable[[list[str]], int], argv: list[str]) -> None:
    log.info("== %s: %s", name, " ".join(argv))
    rc = entry(argv)
    if rc != 0:
        raise RecipeError(f"{name} failed (exit status {rc})")


def member_argv(
    run: Path, seed: int, data_dir: Path, weights: str, extra: Sequence[str], extra_data: Sequence[Path] = ()
) -> list[str]:
    """The `training.train` command line of one seed's run."""
    argv = [*RECIPE_ARGS, "--data", str(data_dir), "--encoder-weights", weights, "--seed", str(seed)]
    for folder in extra_data:
        argv += ["--extra-data", str(folder)]
    return [*argv, *extra, "--out", str(run)]


def _train_member(
    run: Path, seed: int, data_dir: Path, weights: str, extra: Sequence[str], extra_data: Sequence[Path] = ()
) -> Path:
    """Train (or continue, or keep) the run of one seed; its best checkpoint once the run has finished."""
    from training import train
    from training.callbacks import RunState

    def finished() -> bool:
        state = RunState.load(run)
        return state is not None and state.finished

    if not finished():
        _step(f"train seed {seed}", train.main, member_argv(run, seed, data_dir, weights, extra, extra_data))
    if not finished():
        raise RecipeError(f"{run} stopped before its last epoch; run the same command to continue it")
    return run / "best.keras"


def _export_member(best: Path, out: Path, data_dir: Path, parity_count: int) -> Path:
    """Evaluate a run's best checkpoint on its validation split and export it with the parity check."""
    from training import export

    if out.is_file():
        log.info("%s is there: kept", out)
        return out
    eval_dir = best.parent / "eval-val"
    _evaluate(best, data_dir, eval_dir)
    photos = data.photo_folder(data_dir)
    _step(
        "export",
        export.main,
        [
            "--model",
            str(best),
            "--out",
            str(out),
            "--metrics",
            str(eval_dir / "summary.json"),
            "--parity-data",
            str(photos),
            "--parity-count",
            str(parity_count),
            "--report",
            str(out.with_suffix(".parity.json")),
        ],
    )
    return out


def _with_own_figures(tool, name: str, base: list[str], out: Path, data_dir: Path, eval_dir: Path) -> None:
    """`out`, made by `tool.main`, carrying its own validation figures: a draft to evaluate, then the file
    again with that evaluation's figures (merging and quantizing are deterministic)."""
    draft = out.with_name(out.name + ".draft.onnx")
    _step(name, tool.main, [*base, "--overwrite", "--out", str(draft)])
    _evaluate(draft, data_dir, eval_dir)
    metrics = ["--metrics", str(eval_dir / "summary.json")]
    _step(f"{name} with its figures", tool.main, [*base, *metrics, "--overwrite", "--out", str(out)])
    draft.unlink()


def _evaluate(model: Path, data_dir: Path, eval_dir: Path) -> None:
    from training import evaluate

    split = ["--split-file", str(data_dir / "val.txt")]
    _step(
        "evaluate",
        evaluate.main,
        ["--model", str(model), "--data", str(data_dir), *split, "--out", str(eval_dir)],
    )


def run_recipe(
    data_dir: Path,
    encoder_weights: str,
    out: Path,
    seeds: Sequence[int],
    name: str = DEFAULT_NAME,
    parity_count: int = 22,
    train_args: Sequence[str] = (),
    extra_data: Sequence[Path] = (),
) -> tuple[Path, Path]:
    """Every step in order; (float file, int8 file). `extra_data` folders join every run's training split;
    validation, calibration and the parity checks stay on `data_dir`."""
    from training import quantize

    if not seeds:
        raise RecipeError("give at least one seed")
    if not (data_dir / "train.txt").is_file() or not (data_dir / "val.txt").is_file():
        raise RecipeError(f"the recipe splits by the data's lists: {data_dir} needs train.txt and val.txt")
    float_members, int8_members = [], []
    for seed in seeds:
        best = _train_member(out / f"seed{seed}", seed, data_dir, encoder_weights, train_args, extra_data)
        member = _export_member(best, out / "members" / f"seed{seed}.onnx", data_dir, parity_count)
        int8 = member.with_name(f"seed{seed}.int8.onnx")
        if not int8.is_file():
            argv = ["--model", str(member), "--calibration-data", str(data_dir), "--out", str(int8)]
            _step("quantize", quantize.main, argv)
        float_members.append(member)
        int8_members.append(int8)
    float_out, int8_out = out / f"{name}.onnx", out / f"{name}.int8.onnx"
    if len(seeds) == 1:  # one network: its export already carries its figures
        shutil.copyfile(float_members[0], float_out)
        base = ["--model", str(float_out), "--calibration-data", str(data_dir)]
        _with_own_figures(quantize, "quantize", base, int8_out, data_dir, out / "eval-int8")
    else:
        from training import ensemble

        base = ["--models", *map(str, float_members)]
        _with_own_figures(ensemble, "merge", base, float_out, data_dir, out / "eval-float")
        base = ["--models", *map(str, int8_members), "--float-model", str(float_out)]
        _with_own_figures(ensemble, "merge", base, int8_out, data_dir, out / "eval-int8")
    return float_out, int8_out


def split_passthrough(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """(own arguments, those after `--`, which go to every `training.train` call)."""
    argv = list(argv)
    if "--" not in argv:
        return argv, []
    cut = argv.index("--")
    return argv[:cut], argv[cut + 1 :]


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    argv, extra = split_passthrough(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(prog="python -m training.recipe", description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, type=Path, help="dataset folder with train.txt and val.txt")
    p.add_argument("--encoder-weights", required=True, help="the ImageNet MobileNetV2 checkpoint (or none)")
    p.add_argument("--out", required=True, type=Path, help="folder for the runs and the files to ship")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="one run per seed (default 0 1 2)")
    p.add_argument("--name", default=DEFAULT_NAME, help="file name of the result, without .onnx")
    p.add_argument("--parity-count", type=int, default=22, help="photos for each export's parity check")
    p.add_argument(
        "--extra-data",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="another dataset folder (e.g. exported reviewed photos) for every run's training split; "
        "repeatable",
    )
    a = p.parse_args(argv)
    try:
        float_out, int8_out = run_recipe(
            a.data, a.encoder_weights, a.out, a.seeds, a.name, a.parity_count, extra, a.extra_data
        )
    except (CorroscopeError, OSError, ValueError) as exc:
        log.error("%s", exc)
        return 2
    log.info("done: %s and %s, each with its validation figures in its metadata", float_out, int8_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
