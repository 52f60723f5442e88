"""A training run's settings: `TrainConfig` (every setting, written to `config.json` and read back on
resume) and the command line that fills it (`python -m training.train --help`)."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field, fields
from pathlib import Path


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
    ema: float = 0.0  # momentum of an exponential moving average of the weights, kept at the end; 0: off
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
    description = "Train a segmentation model: `python -m training.train --data DIR --out runs/NAME`."
    p = argparse.ArgumentParser(prog="python -m training.train", description=description)
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
    p.add_argument(
        "--ema",
        type=float,
        default=d.ema,
        metavar="M",
        help="keep an exponential moving average of the weights (momentum M, e.g. 0.99) and end on it",
    )
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
        ema=a.ema,
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
