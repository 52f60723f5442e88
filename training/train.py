"""Train a segmentation model: `python -m training.train --data DIR --arch deeplabv3plus --out runs/NAME`.

A run folder holds `config.json` (every setting), `split.json` + `train.txt`/`val.txt`, `log.csv`,
`tensorboard/`, `best.keras` (best validation corrosion IoU, full input size), `last.keras` +
`state.json` (to resume). Starting again with the same `--out` continues an interrupted run.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import platform
import sys
from dataclasses import asdict
from pathlib import Path

from app.core.errors import CorroscopeError
from app.core.palette import DEFAULT_CLASSES
from training.train_config import TrainConfig, parse_args

__all__ = ["CONFIG", "CSV_LOG", "TrainConfig", "main", "parse_args", "run"]

log = logging.getLogger("training.train")

CONFIG = "config.json"
CSV_LOG = "log.csv"


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
                    use_ema=config.ema > 0,
                    ema_momentum=config.ema or 0.99,
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
