"""Train a segmentation model: `python -m training.train --data DIR --arch deeplabv3plus --out runs/NAME`.

A run folder holds `config.json` (every setting), `split.json` + `train.txt`/`val.txt`, `log.csv`,
`tensorboard/`, `best.keras` (best validation corrosion IoU, full input size), `last.keras` +
`state.json` (to resume). Starting again with the same `--out` continues an interrupted run.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import platform
import sys
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from app.core.errors import CorroscopeError
from app.core.palette import DEFAULT_CLASSES

log = logging.getLogger("training.train")

CONFIG = "config.json"
CSV_LOG = "log.csv"


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of a run; written to `config.json` and read back on resume."""

    data: str
    out: str
    arch: str = "deeplabv3plus"
    backbone: str | None = None
    encoder_weights: str | None = None
    epochs: int = 60
    batch_size: int = 8
    crop: int = 192  # 0: train on whole photos at --input-size
    input_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-4
    schedule: str = "cosine"
    warmup_epochs: float = 2.0
    min_lr_ratio: float = 0.01
    dice_weight: float = 1.0
    dice_per_image: bool = False  # soft Dice on each image, averaged (default: pooled over the batch)
    lovasz_weight: float = 0.0  # per-image Lovász hinge on the pipe head (hierarchical head only)
    share_weight: float = 0.0  # per-image L1 of the soft corroded share against the true one
    patience: int = 15  # 0: no early stopping
    split_from_lists: bool = False
    val_fraction: float = 0.1
    seed: int = 0
    augment: bool = True
    jit_compile: bool = False
    encoder_lr_multiplier: float = 1.0  # learning rate of a pretrained encoder relative to the head
    freeze_encoder_epochs: int = 0  # encoder learning rate 0 for this many first epochs
    model_settings: dict = field(default_factory=dict)  # build_model(**settings), e.g. bn_momentum
    copy_paste: float = 0.0  # chance per photo of another photo's pipe pasted over it
    rust_ground: float = 0.0  # chance per photo of its background repainted rust-brown
    repaint_asset: float = 0.0  # chance per photo of its asset pixels repainted a non-rust hue
    grayscale: float = 0.0  # chance per photo of its colour taken away (texture over hue)
    scale_range: tuple[float, float] = (0.75, 1.25)  # random rescale before the crop
    extra_data: tuple[str, ...] = ()  # dataset folders whose every pair joins the training split

    @classmethod
    def from_json(cls, raw: dict) -> TrainConfig:
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in raw.items() if k in names}
        if "extra_data" in values:
            values["extra_data"] = tuple(values["extra_data"])
        if "scale_range" in values:
            values["scale_range"] = tuple(values["scale_range"])
        return cls(**values)


# augmentations given as a chance per photo (TrainConfig fields of the same names)
MIXING = {
    "--copy-paste": "chance per photo of another photo's pipe pasted over its scene",
    "--rust-ground": "chance per photo of its background repainted rust-brown",
    "--repaint-asset": "chance per photo of its asset pixels (paint, steel) repainted a random non-rust hue",
    "--grayscale": "chance per photo of its colour taken away, so texture decides where hue misleads",
}


def parse_args(argv: list[str] | None) -> tuple[TrainConfig, argparse.Namespace]:
    """Long because it is the option table."""
    p = argparse.ArgumentParser(prog="python -m training.train", description=__doc__.splitlines()[0])
    d = TrainConfig("", "")
    p.add_argument(
        "--data", required=True, help="dataset folder (DATASET/original + ground_truth, or images + masks)"
    )
    p.add_argument("--out", required=True, help="run folder, e.g. runs/mnv2-a; reused to resume")
    p.add_argument(
        "--extra-data",
        action="append",
        default=[],
        metavar="DIR",
        help="another dataset folder (e.g. exported reviewed photos) whose pairs all join the training "
        "split, never the validation; repeatable",
    )
    p.add_argument("--arch", default=d.arch, choices=("deeplabv3plus", "unet"))
    p.add_argument("--backbone", default=None, help="resnet50 | mobilenetv2 (deeplabv3plus)")
    p.add_argument("--encoder-weights", default=None, help="imagenet | path to a weights file | none")
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--crop", type=int, default=d.crop, help="random crop size for training; 0 = whole photo")
    p.add_argument("--input-size", type=int, default=d.input_size, help="photos are resized to this square")
    p.add_argument(
        "--scale-range",
        type=float,
        nargs=2,
        default=d.scale_range,
        metavar=("LOW", "HIGH"),
        help="random rescale of each photo before the crop (never below the crop)",
    )
    p.add_argument("--lr", type=float, default=d.lr, help="peak learning rate (after warm-up)")
    p.add_argument("--weight-decay", type=float, default=d.weight_decay)
    p.add_argument("--schedule", default=d.schedule, choices=("cosine", "poly"))
    p.add_argument("--warmup-epochs", type=float, default=d.warmup_epochs)
    p.add_argument("--min-lr-ratio", type=float, default=d.min_lr_ratio)
    p.add_argument("--dice-weight", type=float, default=d.dice_weight)
    p.add_argument(
        "--dice-per-image", action="store_true", help="soft Dice on each image, averaged (default: per batch)"
    )
    p.add_argument(
        "--lovasz-weight",
        type=float,
        default=d.lovasz_weight,
        help="weight of a per-image Lovász hinge on the pipe (hierarchical head)",
    )
    p.add_argument(
        "--share-weight",
        type=float,
        default=d.share_weight,
        help="weight of each image's |soft corroded share - true share| (0..1) in the loss",
    )
    p.add_argument("--patience", type=int, default=d.patience, help="early stopping; 0 = off")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--split-from-lists", action="store_true", help="use DATA/train.txt and DATA/val.txt")
    g.add_argument("--val-fraction", type=float, default=d.val_fraction)
    p.add_argument("--encoder-lr-multiplier", type=float, default=d.encoder_lr_multiplier)
    p.add_argument("--freeze-encoder-epochs", type=int, default=d.freeze_encoder_epochs)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--no-augment", action="store_true", help="train without augmentation")
    p.add_argument("--jit-compile", action="store_true", help="XLA-compile the training step")
    for flag, helptext in MIXING.items():
        dest = flag[2:].replace("-", "_")
        p.add_argument(flag, type=float, default=getattr(d, dest), metavar="P", help=helptext)
    p.add_argument(
        "--model-setting",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting of the architecture's config (value as JSON), e.g. base_filters=8; repeatable",
    )
    p.add_argument("--max-minutes", type=float, default=None, help="stop cleanly before this time budget")
    p.add_argument("--resume", action="store_true", help="require an existing run in --out to continue")
    a = p.parse_args(argv)
    weights = None if a.encoder_weights in (None, "none") else a.encoder_weights
    if weights not in (None, "imagenet"):
        weights = str(Path(weights).resolve())
    config = TrainConfig(
        data=str(Path(a.data).resolve()),
        out=str(Path(a.out).resolve()),
        arch=a.arch,
        backbone=a.backbone,
        encoder_weights=weights,
        epochs=a.epochs,
        batch_size=a.batch_size,
        crop=a.crop,
        input_size=a.input_size,
        lr=a.lr,
        weight_decay=a.weight_decay,
        schedule=a.schedule,
        warmup_epochs=a.warmup_epochs,
        min_lr_ratio=a.min_lr_ratio,
        dice_weight=a.dice_weight,
        dice_per_image=a.dice_per_image,
        lovasz_weight=a.lovasz_weight,
        share_weight=a.share_weight,
        patience=a.patience,
        split_from_lists=a.split_from_lists,
        val_fraction=a.val_fraction,
        seed=a.seed,
        augment=not a.no_augment,
        jit_compile=a.jit_compile,
        encoder_lr_multiplier=a.encoder_lr_multiplier,
        freeze_encoder_epochs=a.freeze_encoder_epochs,
        model_settings=_settings(a.model_setting, p),
        copy_paste=a.copy_paste,
        rust_ground=a.rust_ground,
        repaint_asset=a.repaint_asset,
        grayscale=a.grayscale,
        scale_range=tuple(a.scale_range),
        extra_data=tuple(str(Path(d).resolve()) for d in a.extra_data),
    )
    return config, a


def _settings(items: list[str], parser: argparse.ArgumentParser) -> dict:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            parser.error(f"--model-setting wants KEY=VALUE, got {item!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def _split(config: TrainConfig, out: Path, ids: list[str]):
    from training import data

    manifest = out / data.SPLIT_MANIFEST
    if manifest.is_file():
        return data.read_split_manifest(manifest)
    if config.split_from_lists:
        return data.read_split_lists(config.data, ids)
    return data.make_split(ids, config.val_fraction, config.seed)


def _extra_folders(config: TrainConfig) -> tuple[str, ...]:
    """The extra folders, refusing the data folder itself (its validation photos would train)."""
    data_dir = Path(config.data).resolve()
    for folder in config.extra_data:
        if Path(folder).resolve() == data_dir:
            raise CorroscopeError(
                f"--extra-data {folder} is the --data folder: its validation photos would train"
            )
    return config.extra_data


def _build(config: TrainConfig, size: int, encoder_weights: str | None):
    from training.models import build_model

    return build_model(
        config.arch,
        backbone=config.backbone,
        input_shape=(size, size, 3),
        num_classes=len(DEFAULT_CLASSES),
        encoder_weights=encoder_weights,
        **config.model_settings,
    )


def run(config: TrainConfig, max_minutes: float | None = None) -> dict:
    """Train (or continue) the run in `config.out`; returns the final `state.json` content.
    Long because it is the training recipe end to end (data, model, callbacks, fit, record)."""
    import keras
    import tensorflow as tf

    from training import augment, data
    from training.callbacks import LAST, EpochEnd, RunState
    from training.losses import loss_for
    from training.optimizer import EncoderScaledAdamW
    from training.schedule import WarmupDecay

    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    state = RunState.load(out)
    if state is not None and not (out / LAST).is_file():
        state = None
    if state is not None and state.finished:
        log.info("run in %s already finished (%s); nothing to do", out, state.stop_reason)
        return asdict(state)

    keras.utils.set_random_seed(config.seed)
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        keras.mixed_precision.set_global_policy("mixed_float16")
        strategy = tf.distribute.MirroredStrategy()
    else:
        strategy = tf.distribute.get_strategy()

    pairs = data.find_pairs(config.data)
    split = _split(config, out, [p.id for p in pairs])
    data.write_split(split, out)
    train = data.load_samples(data.select(pairs, split.train), config.input_size)
    n_origin = len(train)
    train = data.with_extra(train, _extra_folders(config), config.input_size)
    val = data.load_samples(data.select(pairs, split.val), config.input_size)
    num_classes = len(DEFAULT_CLASSES)
    weights = data.class_weights(train.labels, num_classes)
    crop = config.crop or config.input_size
    if crop > config.input_size:
        raise CorroscopeError(f"--crop {crop} is larger than --input-size {config.input_size}")
    steps = augment.steps_per_epoch(len(train), config.batch_size)
    record = asdict(config) | {
        "n_train": len(train),
        "n_extra": len(train) - n_origin,
        "n_val": len(val),
        "split_source": split.source,
        "class_weights": [float(w) for w in weights],
        "steps_per_epoch": steps,
        "off_palette_pixels_train": int(sum(train.off_palette)),
        "gpus": len(gpus),
        "mixed_precision": bool(gpus),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "python": platform.python_version(),
    }
    (out / CONFIG).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    aug = augment.AugmentConfig(
        crop=crop,
        copy_paste_probability=config.copy_paste,
        rust_ground_probability=config.rust_ground,
        repaint_asset_probability=config.repaint_asset,
        grayscale_probability=config.grayscale,
        scale_range=config.scale_range,
    )
    if not config.augment:
        plain = augment.AugmentConfig(crop=crop, flip=False, rotate90=False, scale_range=(1.0, 1.0))
        aug = plain.geometric_only()
    train_ds = augment.train_dataset(train.images, train.labels, config.batch_size, aug, config.seed)

    with strategy.scope():
        if state is not None:
            log.info("resuming %s after epoch %d (best IoU %.4f)", out, state.epoch, state.best_score)
            import training.models  # noqa: F401  (registers the custom layers a saved model holds)

            model = keras.models.load_model(out / LAST)
        else:
            state = RunState()
            model = _build(config, crop, config.encoder_weights)
            schedule = WarmupDecay(
                config.lr,
                total_steps=config.epochs * steps,
                warmup_steps=min(round(config.warmup_epochs * steps), config.epochs * steps - 1),
                kind=config.schedule,
                min_ratio=config.min_lr_ratio,
            )
            model.compile(
                optimizer=EncoderScaledAdamW(
                    learning_rate=schedule,
                    weight_decay=config.weight_decay,
                    encoder_lr_multiplier=config.encoder_lr_multiplier,
                    freeze_steps=config.freeze_encoder_epochs * steps,
                ),
                loss=loss_for(
                    config.model_settings,
                    weights,
                    config.dice_weight,
                    config.dice_per_image,
                    config.lovasz_weight,
                    config.share_weight,
                ),
                jit_compile=config.jit_compile,
            )
        eval_model = model
        if crop != config.input_size:
            eval_model = _build(config, config.input_size, None)
    log.info(
        "training %s/%s on %d photos (%d steps of %d, crop %d), validating on %d at %d; class weights %s",
        config.arch,
        config.backbone,
        len(train),
        steps,
        config.batch_size,
        crop,
        len(val),
        config.input_size,
        [round(float(w), 3) for w in weights],
    )
    epoch_end = EpochEnd(
        out,
        eval_model,
        val.images,
        val.labels,
        config.batch_size,
        state,
        config.epochs,
        config.patience,
        None if max_minutes is None else max_minutes * 60.0,
    )
    callbacks = [
        epoch_end,
        keras.callbacks.CSVLogger(str(out / CSV_LOG), append=state.epoch > 0),
    ]
    if importlib.util.find_spec("tensorboard") is not None:
        callbacks.append(keras.callbacks.TensorBoard(str(out / "tensorboard"), write_graph=False))
    else:
        log.warning("TensorBoard log off: the tensorboard package is not installed")
    model.fit(
        train_ds,
        epochs=config.epochs,
        initial_epoch=state.epoch,
        shuffle=False,
        callbacks=callbacks,
        verbose=1 if sys.stdout.isatty() else 2,
    )
    return asdict(epoch_end.state)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    config, args = parse_args(argv)
    out = Path(config.out)
    if (out / CONFIG).is_file() and (out / "state.json").is_file():
        saved = TrainConfig.from_json(json.loads((out / CONFIG).read_text(encoding="utf-8")))
        changed = sorted(k for k, v in asdict(config).items() if asdict(saved)[k] != v)
        if changed:
            log.warning("continuing %s with its saved settings; ignoring changed %s", out, ", ".join(changed))
        config = saved
    elif args.resume:
        log.error("%s holds no run to resume (no state.json); drop --resume to start one", out)
        return 2
    if config.arch == "unet" and (config.encoder_lr_multiplier != 1.0 or config.freeze_encoder_epochs):
        log.error("U-Net has no pretrained encoder: drop --encoder-lr-multiplier / --freeze-encoder-epochs")
        return 2
    if config.arch == "deeplabv3plus" and config.backbone is None:
        config = TrainConfig.from_json(asdict(config) | {"backbone": "mobilenetv2"})
    try:
        state = run(config, args.max_minutes)
    except KeyboardInterrupt:
        log.warning("interrupted; the last finished epoch is in %s; run the same command to continue", out)
        return 130
    except (CorroscopeError, ValueError) as exc:
        log.error("%s", exc)
        return 2
    best, epoch = 100 * state["best_score"], state["best_epoch"]
    if state["finished"]:
        log.info("done: best validation corrosion IoU %.2f %% at epoch %d", best, epoch)
    else:
        log.info("stopped after epoch %d (%s)", state["epoch"], state["stop_reason"])
        log.info("run the same command to continue")
        log.info("best so far: validation corrosion IoU %.2f %% at epoch %d", best, epoch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
