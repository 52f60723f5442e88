"""Fine (tiles) mode: a coarse pass refined near its edges, tile by tile, with progress and cancel."""

from __future__ import annotations

import queue
import threading
import tracemalloc

import cv2
import numpy as np
import pytest

from app.core.errors import Cancelled
from app.core.fine import FinePlan, edge_band, plan_tiles, refine, tile_starts
from app.core.inference import FINE_BAND_COARSE_PIXELS, InferenceOptions, segment
from app.core.model import SegmentationModel
from app.core.synthetic import synthetic_pipe

FINE = InferenceOptions(mode="tiles")


def _steps(model: SegmentationModel, rgb: np.ndarray, options: InferenceOptions = FINE) -> list[tuple]:
    calls: list[tuple[int, int]] = []
    segment(model, rgb, options, progress=lambda done, total: calls.append((done, total)))
    return calls


def test_a_photo_larger_than_the_input_is_refined_only_near_edges(tiny_model: SegmentationModel) -> None:
    rgb, truth = synthetic_pipe(seed=1, size=(300, 400))
    fine, coarse = segment(tiny_model, rgb, FINE), segment(tiny_model, rgb)
    assert (fine.labels == truth).mean() > (coarse.labels == truth).mean() + 0.005
    for c in range(3):  # every class at least as good as resize mode
        fine_iou, coarse_iou = (
            np.sum((s.labels == c) & (truth == c)) / np.sum((s.labels == c) | (truth == c))
            for s in (fine, coarse)
        )
        assert fine_iou >= coarse_iou
    # Away from the coarse map's class edges the answer is the coarse one, pixel for pixel.
    changed = fine.labels != coarse.labels
    assert 0 < changed.mean() < 0.05
    # Changes lie within 2 coarse pixels of an edge (12.5 photo pixels each: a 32 px input over 400),
    # plus one more for the bilinear upsampling's reach.
    reach = round((FINE_BAND_COARSE_PIXELS + 1) * 400 / 32)
    edges = edge_band(coarse.labels, 1).astype(np.uint8)
    near_edge = cv2.dilate(edges, np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)).astype(bool)
    assert not (changed & ~near_edge).any()


def test_a_photo_without_edges_runs_no_tile(tiny_model: SegmentationModel) -> None:
    rgb = np.full((500, 700, 3), (0, 0, 250), np.uint8)  # all asset
    assert _steps(tiny_model, rgb) == [(1, 1)]
    seg = segment(tiny_model, rgb, FINE)
    assert (seg.labels == 1).all()


def test_progress_counts_the_coarse_pass_then_each_tile(tiny_model: SegmentationModel) -> None:
    rgb, _ = synthetic_pipe(seed=4, size=(240, 320))
    steps = _steps(tiny_model, rgb)
    total = steps[0][1]
    assert total > 2 and steps == [(i, total) for i in range(1, total + 1)]
    batched = _steps(tiny_model, rgb, InferenceOptions(mode="tiles", tile_batch=4))
    assert batched[-1][1] == 1 + -(-(total - 1) // 4)
    assert _steps(tiny_model, rgb, InferenceOptions()) == [(1, 1)]  # resize mode: one call


def test_cancel_from_the_progress_callback_stops_before_the_next_tile(tiny_model: SegmentationModel) -> None:
    rgb, _ = synthetic_pipe(seed=4, size=(240, 320))
    stop = threading.Event()
    calls: list[int] = []

    def progress(done: int, total: int) -> None:
        calls.append(done)
        if done == 3:
            stop.set()

    with pytest.raises(Cancelled, match="cancelled"):
        segment(tiny_model, rgb, FINE, progress=progress, cancelled=stop.is_set)
    assert calls == [1, 2, 3]


def test_cancel_from_another_thread_stops_within_one_tile(tiny_model: SegmentationModel) -> None:
    rgb, _ = synthetic_pipe(seed=4, size=(240, 320))
    total = _steps(tiny_model, rgb)[0][1]
    stop = threading.Event()
    tiles_done: queue.Queue[int] = queue.Queue()
    resume = threading.Event()
    outcome: list[BaseException | None] = []

    def progress(done: int, total: int) -> None:
        tiles_done.put(done)
        if done == 2:
            resume.wait(10)  # hold the worker until the main thread has asked to stop

    def work() -> None:
        try:
            segment(tiny_model, rgb, FINE, progress=progress, cancelled=stop.is_set)
            outcome.append(None)
        except Cancelled as exc:
            outcome.append(exc)

    worker = threading.Thread(target=work)
    worker.start()
    while tiles_done.get(timeout=10) != 2:
        pass
    stop.set()
    resume.set()
    worker.join(10)
    assert not worker.is_alive() and isinstance(outcome[0], Cancelled)
    reported = []
    while not tiles_done.empty():
        reported.append(tiles_done.get())
    assert reported == [] and total > 3  # no tile ran after the cancel


def test_a_cancel_before_the_start_runs_nothing(tiny_model: SegmentationModel) -> None:
    rgb, _ = synthetic_pipe(seed=4, size=(64, 64))
    for options in (FINE, InferenceOptions()):
        with pytest.raises(Cancelled):
            segment(tiny_model, rgb, options, progress=pytest.fail, cancelled=lambda: True)


def test_skipping_tiles_without_band_pixels_changes_nothing(tiny_model: SegmentationModel) -> None:
    rgb, truth = synthetic_pipe(seed=2, size=(96, 128))  # already a fine grid for a 32 px tile
    coarse = np.random.default_rng(0).dirichlet([1, 1, 1], truth.shape).astype(np.float32)
    plan = plan_tiles(truth, (32, 32), 0.25, radius=3)
    assert 0 < len(plan.tiles) < plan.candidates
    starts = [(y, x) for y in tile_starts(96, 32, 0.25) for x in tile_starts(128, 32, 0.25)]
    every = FinePlan(tuple(starts), plan.band, len(starts))
    assert set(plan.tiles) <= set(every.tiles)
    got = refine(tiny_model.predict, coarse.copy(), rgb, (32, 32), plan)
    want = refine(tiny_model.predict, coarse.copy(), rgb, (32, 32), every)
    np.testing.assert_allclose(got, want, atol=1e-6)
    np.testing.assert_array_equal(got[~plan.band], coarse[~plan.band])


@pytest.mark.slow
def test_memory_at_50_mp_is_the_outputs_and_a_little_more(tiny_model: SegmentationModel) -> None:
    h, w = 6120, 8160  # labels + confidence: 100 MB; one float32 plane per class would be 600 MB
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[:, : w // 2] = (250, 0, 0)
    rgb[:, w // 2 :] = (0, 0, 250)
    tracemalloc.start()
    seg = segment(tiny_model, rgb, FINE)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert seg.labels[0, 0] == 0 and seg.labels[0, -1] == 1
    assert peak < 100e6 + 40e6, f"peak {peak / 1e6:.0f} MB"
