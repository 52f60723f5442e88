"""Augmentation moves photo and mask together and keeps masks in the class set."""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from app.core.palette import DEFAULT_CLASSES, decode_mask, encode_mask  # noqa: E402
from training import augment  # noqa: E402


def _blocky_labels(size: int, seed: int) -> np.ndarray:
    """Classes in 8x8 blocks, so most pixels sit well inside a region after any rescale."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 3, (size // 8, size // 8), dtype=np.uint8)
    return np.kron(coarse, np.ones((8, 8), np.uint8))


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5])
def test_geometry_keeps_photo_and_mask_aligned(seed):
    labels = _blocky_labels(64, seed)
    photo = encode_mask(labels)  # the photo's pixels spell their own class
    config = augment.AugmentConfig(crop=48, scale_range=(0.8, 1.3)).geometric_only()
    out_photo, out_labels = augment.augment_pair(photo, labels, tf.constant([seed, 7], tf.int64), config)
    out_photo = np.clip(np.round(out_photo.numpy()), 0, 255).astype(np.uint8)
    out_labels = out_labels.numpy()
    assert out_photo.shape == (48, 48, 3) and out_labels.shape == (48, 48)
    decoded, _ = decode_mask(out_photo)
    # Bilinear resizing blends colours only on block edges; away from them the classes must agree.
    pure = np.abs(out_photo.astype(int) - encode_mask(decoded).astype(int)).max(axis=2) < 8
    assert pure.mean() > 0.7
    np.testing.assert_array_equal(decoded[pure], out_labels[pure])


def test_augmentation_changes_the_geometry():
    labels = _blocky_labels(64, 9)
    photo = encode_mask(labels)
    config = augment.AugmentConfig(crop=64, scale_range=(1.0, 1.0)).geometric_only()
    results = {
        augment.augment_pair(photo, labels, tf.constant([s, 0], tf.int64), config)[1].numpy().tobytes()
        for s in range(12)
    }
    assert len(results) > 3  # flips and turns give several distinct layouts


def test_full_augmentation_keeps_masks_in_the_class_set_and_photo_in_range():
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    labels = _blocky_labels(64, 3)
    config = augment.AugmentConfig(crop=32, blur_probability=1.0, jpeg_probability=1.0)
    for s in range(4):
        out_photo, out_labels = augment.augment_pair(photo, labels, tf.constant([s, 1], tf.int64), config)
        values = set(np.unique(out_labels.numpy()).tolist())
        assert values <= {c.id for c in DEFAULT_CLASSES}
        p = out_photo.numpy()
        assert p.dtype == np.float32 and p.min() >= 0.0 and p.max() <= 255.0
        assert out_photo.shape == (32, 32, 3)


def test_photometric_changes_touch_only_the_photo():
    labels = _blocky_labels(64, 4)
    photo = encode_mask(labels)
    config = augment.AugmentConfig(crop=None, flip=False, rotate90=False, jpeg_probability=1.0)
    out_photo, out_labels = augment.augment_pair(photo, labels, tf.constant([3, 3], tf.int64), config)
    np.testing.assert_array_equal(out_labels.numpy(), labels)
    assert np.abs(out_photo.numpy() - photo.astype(np.float32)).mean() > 1.0


def test_same_seed_same_batches():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (8, 64, 64, 3), dtype=np.uint8)
    labels = rng.integers(0, 3, (8, 64, 64), dtype=np.uint8)
    config = augment.AugmentConfig(crop=32)

    def first_batch(seed):
        x, y = next(iter(augment.train_dataset(images, labels, 4, config, seed)))
        return x.numpy(), y.numpy()

    spec = augment.train_dataset(images, labels, 4, config, 0).element_spec
    # Static shapes: models with fixed-size layers (e.g. UpSampling2D) cannot trace unknown sizes.
    assert tuple(spec[0].shape) == (4, 32, 32, 3) and tuple(spec[1].shape) == (4, 32, 32)

    a, b, c = first_batch(5), first_batch(5), first_batch(6)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    assert a[0].shape == (4, 32, 32, 3) and a[1].shape == (4, 32, 32)


def _scene(pipe_value: int, rows: slice, size: int = 16) -> tuple[np.ndarray, np.ndarray]:
    labels = np.full((size, size), 2, np.uint8)
    labels[rows] = 1
    labels[rows.start, :4] = 0
    image = np.where(labels[..., None] == 2, 10.0, float(pipe_value)) * np.ones((1, 1, 3))
    return image.astype(np.float32), labels


def test_copy_paste_moves_a_pipe_with_its_classes_onto_another_scene():
    (ia, la), (ib, lb) = _scene(200, slice(2, 5)), _scene(100, slice(10, 13))
    images, labels = tf.constant(np.stack([ia, ib])), tf.constant(np.stack([la, lb]))
    out_i, out_l = augment.paste_pipes(images, labels, tf.constant([1, 2], tf.int64), 1.0, 2)
    out_i, out_l = out_i.numpy(), out_l.numpy()
    # each photo now shows its partner's pipe, pixel for pixel and class for class, over its own scene
    np.testing.assert_array_equal(out_l[0][lb != 2], lb[lb != 2])
    np.testing.assert_array_equal(out_i[0][lb != 2], ib[lb != 2])
    np.testing.assert_array_equal(out_l[0][(la != 2) & (lb == 2)], la[(la != 2) & (lb == 2)])
    np.testing.assert_array_equal(out_l[1][la != 2], la[la != 2])
    _, none_l = augment.paste_pipes(images, labels, tf.constant([1, 2], tf.int64), 0.0, 2)
    np.testing.assert_array_equal(none_l.numpy(), labels.numpy())


def test_rust_ground_repaints_only_the_background_in_rust_colours():
    image, labels = _scene(200, slice(2, 5))
    out_i, out_l = augment.rust_ground(
        tf.constant(image[None]), tf.constant(labels[None]), tf.constant([3, 4], tf.int64), 1.0, 2
    )
    out_i, out_l = out_i.numpy()[0], out_l.numpy()[0]
    np.testing.assert_array_equal(out_l, labels)
    np.testing.assert_array_equal(out_i[labels != 2], image[labels != 2])
    ground = out_i[labels == 2]
    assert (ground[:, 0] > ground[:, 2]).mean() > 0.95  # red above blue: rust-brown, not the grey it was
    assert not np.allclose(ground, 10.0)


def test_a_training_batch_with_copy_paste_keeps_ids_in_the_class_set():
    images = np.stack([encode_mask(_blocky_labels(32, s)) for s in range(4)])
    labels = np.stack([_blocky_labels(32, s) for s in range(4)])
    config = augment.AugmentConfig(crop=32, copy_paste_probability=1.0, rust_ground_probability=0.5)
    batch_i, batch_l = next(iter(augment.train_dataset(images, labels, 4, config, seed=3)))
    assert batch_i.shape == (4, 32, 32, 3) and set(np.unique(batch_l.numpy())) <= {0, 1, 2}


def test_repaint_asset_turns_only_the_asset_to_another_hue():
    labels = np.full((8, 8), 2, np.uint8)
    labels[2:5] = 1  # asset rows
    labels[5:7] = 0  # corrosion rows
    image = np.zeros((8, 8, 3), np.float32)
    image[...] = (40.0, 60.0, 200.0)  # a blue paint everywhere
    out_i, out_l = augment.repaint_asset(
        tf.constant(np.stack([image] * 4)),
        tf.constant(np.stack([labels] * 4)),
        tf.constant([5, 6], tf.int64),
        1.0,
        1,
    )
    out_i, out_l = out_i.numpy(), out_l.numpy()
    np.testing.assert_array_equal(out_l[0], labels)
    np.testing.assert_allclose(out_i[:, labels != 1], np.stack([image[labels != 1]] * 4))
    asset = out_i[:, labels == 1]
    assert not np.allclose(asset, image[labels == 1][None], atol=5.0)  # the paint changed colour
    np.testing.assert_allclose(asset.max(axis=-1), 200.0, atol=1.0)  # its brightness did not
    assert len({tuple(np.round(a[0])) for a in asset}) > 1  # each photo its own hue
    hues = tf.image.rgb_to_hsv(asset / 255.0).numpy()[..., 0]
    low, high = augment.PAINT_HUES
    assert ((hues >= low - 1e-3) & (hues <= high + 1e-3)).all()  # never a rust hue
    unchanged, _ = augment.repaint_asset(
        tf.constant(image[None]), tf.constant(labels[None]), tf.constant([5, 6], tf.int64), 0.0, 1
    )
    np.testing.assert_allclose(unchanged.numpy()[0], image)


def test_grayscale_takes_the_colour_away_and_leaves_the_mask():
    rng = np.random.default_rng(2)
    photo = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    labels = _blocky_labels(32, 5)
    plain = augment.AugmentConfig(
        crop=None, flip=False, rotate90=False, scale_range=(1.0, 1.0)
    ).geometric_only()
    grey = augment.AugmentConfig(
        crop=None, flip=False, rotate90=False, scale_range=(1.0, 1.0), grayscale_probability=1.0
    )
    out, out_labels = augment.augment_pair(photo, labels, tf.constant([1, 2], tf.int64), grey)
    out = out.numpy()
    np.testing.assert_array_equal(out_labels.numpy(), labels)
    np.testing.assert_allclose(out[..., 0], out[..., 1], atol=1e-3)
    np.testing.assert_allclose(out[..., 0], out[..., 2], atol=1e-3)
    colour, _ = augment.augment_pair(photo, labels, tf.constant([1, 2], tf.int64), plain)
    assert np.abs(colour.numpy()[..., 0] - colour.numpy()[..., 1]).mean() > 10  # the photo had colour
