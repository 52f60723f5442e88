"""tf.data input pipelines with augmentation applied identically to a photo and its mask.

Geometric changes (scale, crop, flips, 90-degree turns) move photo and mask together; class ids are
only ever resized nearest-neighbour. Photometric changes (brightness, contrast, saturation, hue, blur,
JPEG noise) touch the photo alone. Every random draw is stateless, from a per-photo seed, so a run
with a fixed seed sees the same augmented batches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import tensorflow as tf


@dataclass(frozen=True)
class AugmentConfig:
    """What the training pipeline does to each photo; `crop` None keeps the full size."""

    crop: int | None = 192
    flip: bool = True
    rotate90: bool = True
    scale_range: tuple[float, float] = (0.75, 1.25)
    brightness: float = 0.15  # largest shift, as a fraction of full scale
    contrast: float = 0.25  # contrast factor drawn from 1 +- this
    saturation: float = 0.25
    hue: float = 0.03  # largest hue shift, as a fraction of the colour wheel
    blur_probability: float = 0.2
    blur_sigma: tuple[float, float] = (0.4, 1.4)
    jpeg_probability: float = 0.2
    jpeg_quality: tuple[int, int] = (35, 95)
    # Against the largest confusion (ground taken for pipe): a photo's pipe pasted over another photo's
    # scene, and a photo's background repainted rust-brown, so rust-coloured ground is seen as ground.
    copy_paste_probability: float = 0.0
    rust_ground_probability: float = 0.0
    # Against pipes painted unlike the training photos: a photo's asset pixels (paint, bare steel)
    # repainted a random non-rust hue, corrosion untouched, so an unseen paint colour still reads as asset.
    repaint_asset_probability: float = 0.0
    # Against paint read as rust by its hue (yellow offshore paint): a photo's colour taken away, so the
    # network must also tell rust from paint by texture.
    grayscale_probability: float = 0.0
    background_id: int = 2
    asset_id: int = 1

    def geometric_only(self) -> AugmentConfig:
        """The same geometry without any photometric change (used to test alignment)."""
        no_colour = {
            "brightness": 0.0,
            "contrast": 0.0,
            "saturation": 0.0,
            "hue": 0.0,
            "grayscale_probability": 0.0,
        }
        return replace(self, blur_probability=0.0, jpeg_probability=0.0, **no_colour)


def _uniform(seed: tf.Tensor, low: float, high: float) -> tf.Tensor:
    return tf.random.stateless_uniform([], seed=seed, minval=low, maxval=high)


def _chance(seed: tf.Tensor, probability: float) -> tf.Tensor:
    return tf.random.stateless_uniform([], seed=seed) < probability


def _scale_and_crop(
    image: tf.Tensor, labels: tf.Tensor, crop: int, scale_range: tuple[float, float], seeds: tf.Tensor
) -> tuple[tf.Tensor, tf.Tensor]:
    """Rescale by a random factor (never below the crop), then cut a random crop x crop window."""
    shape = tf.shape(image)
    h, w = tf.cast(shape[0], tf.float32), tf.cast(shape[1], tf.float32)
    low, high = scale_range
    scale = _uniform(seeds[0], low, high)
    scale = tf.maximum(scale, float(crop) / tf.minimum(h, w))
    new_h = tf.cast(tf.math.ceil(h * scale), tf.int32)
    new_w = tf.cast(tf.math.ceil(w * scale), tf.int32)
    size = tf.stack([new_h, new_w])
    image = tf.image.resize(image, size, method="bilinear")
    labels = tf.image.resize(labels[..., None], size, method="nearest")[..., 0]
    top = tf.random.stateless_uniform([], seeds[1], minval=0, maxval=new_h - crop + 1, dtype=tf.int32)
    left = tf.random.stateless_uniform([], seeds[2], minval=0, maxval=new_w - crop + 1, dtype=tf.int32)
    image = image[top : top + crop, left : left + crop]
    labels = labels[top : top + crop, left : left + crop]
    return image, labels


def _gaussian_blur(image: tf.Tensor, sigma: tf.Tensor) -> tf.Tensor:
    """Blur an HxWx3 float image with a 5x5 Gaussian of the given sigma (reflect padding)."""
    x = tf.range(-2.0, 3.0)
    k1 = tf.exp(-(x**2) / (2.0 * sigma**2))
    k1 = k1 / tf.reduce_sum(k1)
    kernel = tf.tile((k1[:, None] * k1[None, :])[:, :, None, None], [1, 1, 3, 1])
    padded = tf.pad(image[None], [[0, 0], [2, 2], [2, 2], [0, 0]], mode="REFLECT")
    return tf.nn.depthwise_conv2d(padded, kernel, strides=[1, 1, 1, 1], padding="VALID")[0]


def _photometric(image: tf.Tensor, config: AugmentConfig, seeds: tf.Tensor) -> tf.Tensor:
    """Colour and quality changes on a float 0..1 photo."""
    if config.brightness > 0:
        image = image + _uniform(seeds[0], -config.brightness, config.brightness)
    if config.contrast > 0:
        image = tf.image.stateless_random_contrast(image, 1 - config.contrast, 1 + config.contrast, seeds[1])
    image = tf.clip_by_value(image, 0.0, 1.0)
    if config.saturation > 0:
        image = tf.image.stateless_random_saturation(
            image, 1 - config.saturation, 1 + config.saturation, seeds[2]
        )
    if config.hue > 0:
        image = tf.image.stateless_random_hue(image, config.hue, seeds[3])
    image = tf.clip_by_value(image, 0.0, 1.0)
    if config.blur_probability > 0:
        sigma = _uniform(seeds[4], *config.blur_sigma)
        image = tf.cond(
            _chance(seeds[5], config.blur_probability), lambda: _gaussian_blur(image, sigma), lambda: image
        )
    if config.jpeg_probability > 0:
        low, high = config.jpeg_quality
        quality = tf.random.stateless_uniform([], seeds[6], minval=low, maxval=high + 1, dtype=tf.int32)
        image = tf.cond(
            _chance(seeds[7], config.jpeg_probability),
            lambda: tf.image.adjust_jpeg_quality(image, quality),
            lambda: image,
        )
    return tf.clip_by_value(image, 0.0, 1.0)


def augment_pair(
    image: tf.Tensor, labels: tf.Tensor, seed: tf.Tensor, config: AugmentConfig
) -> tuple[tf.Tensor, tf.Tensor]:
    """uint8 HxWx3 photo + uint8 HxW ids -> float32 0..255 photo + uint8 ids, augmented together."""
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=16)
    image = tf.cast(image, tf.float32)
    labels = tf.cast(labels, tf.int32)
    crop = config.crop
    if crop is None:
        crop_size = tf.minimum(tf.shape(image)[0], tf.shape(image)[1])
        image, labels = image[:crop_size, :crop_size], labels[:crop_size, :crop_size]
    else:
        image, labels = _scale_and_crop(image, labels, crop, config.scale_range, seeds[0:3])
    if config.flip:
        flip_lr = _chance(seeds[3], 0.5)
        image = tf.cond(flip_lr, lambda: tf.reverse(image, [1]), lambda: image)
        labels = tf.cond(flip_lr, lambda: tf.reverse(labels, [1]), lambda: labels)
        flip_ud = _chance(seeds[4], 0.5)
        image = tf.cond(flip_ud, lambda: tf.reverse(image, [0]), lambda: image)
        labels = tf.cond(flip_ud, lambda: tf.reverse(labels, [0]), lambda: labels)
    if config.rotate90:
        k = tf.random.stateless_uniform([], seeds[5], minval=0, maxval=4, dtype=tf.int32)
        image = tf.image.rot90(image, k)
        labels = tf.image.rot90(labels[..., None], k)[..., 0]
    image = _photometric(image / 255.0, config, seeds[8:16]) * 255.0
    if (
        config.grayscale_probability > 0
    ):  # seeds[6]: a draw no other change uses, so other runs stay as they were
        image = tf.cond(
            _chance(seeds[6], config.grayscale_probability),
            lambda: tf.image.grayscale_to_rgb(tf.image.rgb_to_grayscale(image)),
            lambda: image,
        )
    if crop is not None:  # static shapes: models with fixed-size layers need them
        image = tf.ensure_shape(image, (crop, crop, 3))
        labels = tf.ensure_shape(labels, (crop, crop))
    return image, tf.cast(labels, tf.uint8)


def train_dataset(
    images: np.ndarray, labels: np.ndarray, batch_size: int, config: AugmentConfig, seed: int
) -> tf.data.Dataset:
    """Shuffled, augmented, batched training data from in-memory arrays (decoded once)."""
    n = len(images)
    if n < batch_size:
        raise ValueError(f"batch size {batch_size} exceeds the {n} training photos; lower --batch-size")
    pairs = tf.data.Dataset.from_tensor_slices((images, labels)).shuffle(
        n, seed=seed, reshuffle_each_iteration=True
    )
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
    ds = tf.data.Dataset.zip(pairs, seeds).map(
        lambda pair, s: augment_pair(pair[0], pair[1], s, config),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    batched = _batch_mixing(ds.batch(batch_size, drop_remainder=True), config, seed)
    return batched.prefetch(tf.data.AUTOTUNE)


def paste_pipes(
    images: tf.Tensor, labels: tf.Tensor, seed: tf.Tensor, probability: float, background_id: int
) -> tuple[tf.Tensor, tf.Tensor]:
    """Batch-level copy-paste: with `probability` per photo, the pipe (every non-background pixel, with
    its class) of another photo of the batch is pasted over it. float images [B,H,W,3], ids [B,H,W]."""
    n = tf.shape(images)[0]
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=2)
    partner = tf.roll(tf.range(n), shift=1, axis=0)
    partner = tf.gather(partner, tf.argsort(tf.random.stateless_uniform([n], seeds[0])))
    partner = tf.where(partner == tf.range(n), tf.roll(tf.range(n), 1, 0), partner)
    chosen = tf.random.stateless_uniform([n], seeds[1]) < probability
    src_img, src_lab = tf.gather(images, partner), tf.gather(labels, partner)
    pipe = (src_lab != background_id) & chosen[:, None, None]
    return tf.where(pipe[..., None], src_img, images), tf.where(pipe, src_lab, labels)


def rust_ground(
    images: tf.Tensor, labels: tf.Tensor, seed: tf.Tensor, probability: float, background_id: int
) -> tuple[tf.Tensor, tf.Tensor]:
    """With `probability` per photo, its background repainted a rust-brown texture (labels unchanged)."""
    shape = tf.shape(images)
    n, h, w = shape[0], shape[1], shape[2]
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=4)
    base = tf.random.stateless_uniform([n, 1, 1, 3], seeds[0], [110.0, 45.0, 15.0], [200.0, 110.0, 70.0])
    coarse = tf.random.stateless_uniform([n, 8, 8, 1], seeds[1], 0.6, 1.3)
    fine = tf.random.stateless_uniform([n, h, w, 1], seeds[2], 0.85, 1.15)
    texture = tf.clip_by_value(base * tf.image.resize(coarse, [h, w]) * fine, 0.0, 255.0)
    chosen = tf.random.stateless_uniform([n], seeds[3]) < probability
    ground = (labels == background_id) & chosen[:, None, None]
    return tf.where(ground[..., None], texture, images), labels


# Paint hues a repainted asset may take: the wheel without red, orange and yellow-brown (0.92-0.17), the
# hues of rust, so a repainted asset never looks like corrosion labelled as asset.
PAINT_HUES = (0.17, 0.92)


def repaint_asset(
    images: tf.Tensor, labels: tf.Tensor, seed: tf.Tensor, probability: float, asset_id: int
) -> tuple[tf.Tensor, tf.Tensor]:
    """With `probability` per photo, its asset pixels given one paint hue drawn from `PAINT_HUES` (their
    own saturation x 0.5-1.5, brightness kept: bare grey steel stays grey); corrosion and background
    untouched, labels unchanged. float 0..255 [B,H,W,3]."""
    n = tf.shape(images)[0]
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=3)
    hsv = tf.image.rgb_to_hsv(tf.clip_by_value(images, 0.0, 255.0) / 255.0)
    hue = tf.random.stateless_uniform([n, 1, 1], seeds[0], *PAINT_HUES) + tf.zeros_like(hsv[..., 0])
    saturation = tf.random.stateless_uniform([n, 1, 1], seeds[1], 0.5, 1.5)
    new = tf.stack([hue, tf.clip_by_value(hsv[..., 1] * saturation, 0.0, 1.0), hsv[..., 2]], -1)
    painted = tf.image.hsv_to_rgb(new) * 255.0
    chosen = tf.random.stateless_uniform([n], seeds[2]) < probability
    asset = (labels == asset_id) & chosen[:, None, None]
    return tf.where(asset[..., None], painted, images), labels


def _batch_mixing(ds: tf.data.Dataset, config: AugmentConfig, seed: int) -> tf.data.Dataset:
    mixes = (config.copy_paste_probability, config.rust_ground_probability, config.repaint_asset_probability)
    if not any(mixes):
        return ds
    # six seeds only when repainting, so the copy-paste and rust-ground runs keep their batches
    per_batch = 6 if config.repaint_asset_probability else 4
    seeds = tf.data.Dataset.random(seed=seed + 1, rerandomize_each_iteration=True).batch(per_batch)

    def mix(batch, s):
        images, labels = batch
        if config.copy_paste_probability:
            images, labels = paste_pipes(
                images, labels, s[:2], config.copy_paste_probability, config.background_id
            )
        if config.rust_ground_probability:
            images, labels = rust_ground(
                images, labels, s[2:4], config.rust_ground_probability, config.background_id
            )
        if config.repaint_asset_probability:
            images, labels = repaint_asset(
                images, labels, s[4:], config.repaint_asset_probability, config.asset_id
            )
        return images, labels

    return tf.data.Dataset.zip(ds, seeds).map(mix, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def steps_per_epoch(n_images: int, batch_size: int) -> int:
    return max(1, math.floor(n_images / batch_size))
