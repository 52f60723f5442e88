"""The GPU check's measurements (`scripts/gpu-check`): CUDA against CPU on the samples, and throughput.

1. Agreement: the same model file on `--device` and on the CPU, argmax of the network's output on what
   both modes feed it for each photo of resources/samples (the whole photo at the input size, and the
   fine grid's tiles); fails below `--min-agreement` (99.9 %).
2. Throughput at the input size, batch 1/8/32: `session.run` with numpy in and out (copies to and from
   the device each call), and with IO binding (input and outputs stay on the device).
3. A 12 MP photo in memory through `segment`, resize and tiles mode.

`--device cpu` runs every step on the CPU: a dry run of the harness, also in the tests.

    python -m bench.gpu_check --device cuda
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from app.core.fine import tile_starts
from app.core.inference import InferenceMode, InferenceOptions, segment, shrink_area
from app.core.model import SegmentationModel, default_model_path
from app.core.paths import samples_dir
from app.core.photos import find_images, read_image
from app.core.synthetic import synthetic_pipe

PROVIDERS = {"cuda": "CUDAExecutionProvider", "cpu": "CPUExecutionProvider"}


def network_inputs(model: SegmentationModel, rgb: np.ndarray) -> np.ndarray:
    """What resize and tiles mode feed the network for this photo: the whole photo, then the fine tiles."""
    th, tw = model.input_size
    options = InferenceOptions(mode=InferenceMode.TILES)
    fine = _fit(rgb, round(tw * options.tile_scale), round(th * options.tile_scale))
    batch = [_fit(rgb, tw, th)]
    for y in tile_starts(fine.shape[0], th, options.tile_overlap):
        batch += [fine[y : y + th, x : x + tw] for x in tile_starts(fine.shape[1], tw, options.tile_overlap)]
    return np.stack(batch)


def _fit(rgb: np.ndarray, w: int, h: int) -> np.ndarray:
    if rgb.shape[0] >= h and rgb.shape[1] >= w:
        return shrink_area(rgb, w, h)
    return cv2.resize(rgb, (w, h), interpolation=cv2.INTER_LINEAR)


def agreement(device_model: SegmentationModel, cpu_model: SegmentationModel, photos: list[Path]) -> float:
    """Share of network-output pixels whose argmax is the same on both models, over every photo."""
    same = total = 0
    for path in photos:
        batch = network_inputs(cpu_model, read_image(path))
        a = device_model.predict(batch).argmax(-1)
        b = cpu_model.predict(batch).argmax(-1)
        same += int(np.count_nonzero(a == b))
        total += a.size
    return same / total if total else 1.0


def make_session(path: Path, device: str):
    """A plain ONNX Runtime session on `device`; RuntimeError if that provider does not run it."""
    import onnxruntime as ort

    if device == "cuda" and hasattr(ort, "preload_dlls"):
        ort.preload_dlls()  # CUDA and cuDNN from the nvidia-* wheels
    wanted = PROVIDERS[device]
    providers = [wanted] if wanted == PROVIDERS["cpu"] else [wanted, PROVIDERS["cpu"]]
    session = ort.InferenceSession(str(path), providers=providers)
    if session.get_providers()[0] != wanted:
        raise RuntimeError(f"{wanted} does not run {path.name}: got {session.get_providers()}")
    return session


def _median_ms(run, repeats: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return 1000.0 * statistics.median(times)


def throughput(session, device: str, size: tuple[int, int], batches: list[int], repeats: int) -> list[dict]:
    """Median ms per call and images/s at each batch size, without and with IO binding."""
    import onnxruntime as ort

    name = session.get_inputs()[0].name
    outputs = [o.name for o in session.get_outputs()]
    rows = []
    for n in batches:
        batch = np.random.default_rng(n).integers(0, 256, (n, *size, 3), dtype=np.uint8)
        plain = _median_ms(lambda b=batch: session.run(outputs, {name: b}), repeats)
        binding = session.io_binding()
        binding.bind_ortvalue_input(name, ort.OrtValue.ortvalue_from_numpy(batch, device, 0))
        for out in outputs:
            binding.bind_output(out, device, 0)

        def bound(binding=binding) -> None:
            session.run_with_iobinding(binding)
            binding.synchronize_outputs()

        bound_ms = _median_ms(bound, repeats)
        for mode, ms in (("numpy", plain), ("io_binding", bound_ms)):
            rows.append({"batch": n, "io": mode, "ms": ms, "images_per_s": 1000.0 * n / ms})
    return rows


def photo_times(model: SegmentationModel, size: tuple[int, int], repeats: int) -> dict[str, float]:
    """Median ms of `segment` on a synthetic photo of `size` (H, W) in memory, per mode."""
    h, w = size
    small, _ = synthetic_pipe(0, (max(8, h // 4), max(8, w // 4)))
    rgb = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    out = {}
    for mode in InferenceMode:
        options = InferenceOptions(mode=mode)
        out[mode.value] = _median_ms(lambda o=options: segment(model, rgb, o), repeats, warmup=1)
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.gpu_check", description=__doc__.splitlines()[0])
    p.add_argument("--device", choices=sorted(PROVIDERS), default="cuda")
    p.add_argument("--model", type=Path, help="ONNX file (default: the bundled one for --device)")
    p.add_argument("--samples", type=Path, default=None, help="folder of photos (default: resources/samples)")
    p.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32])
    p.add_argument("--repeats", type=int, default=20, help="timed runs per figure (median)")
    p.add_argument("--photo-size", default="4000x3000", help="WxH of the in-memory photo")
    p.add_argument("--min-agreement", type=float, default=0.999)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    path = args.model or default_model_path(args.device)
    if path is None:
        print("GPU CHECK FAILED: no bundled model; pass --model FILE", file=sys.stderr)
        return 1
    model = SegmentationModel.load(path, device=args.device)
    if model.device.lower() != args.device:
        print(
            f"GPU CHECK FAILED: {args.device} asked for, {model.device} runs ({model.cuda_note})",
            file=sys.stderr,
        )
        return 1
    cpu = SegmentationModel.load(path, device="cpu")
    photos = find_images([args.samples or samples_dir()])
    share = agreement(model, cpu, photos)
    print(f"Model {path.name} (sha256 {model.short_sha}) on {model.device}; CPU reference on {cpu.device}")
    print(f"Argmax agreement {args.device} vs cpu on {len(photos)} sample photos: {100 * share:.3f} %")
    session = make_session(path, args.device)
    print(f"Throughput at {model.input_size[0]}x{model.input_size[1]} (median of {args.repeats}):")
    print("| batch | io | ms per call | images/s |\n|---|---|---|---|")
    for row in throughput(session, args.device, model.input_size, args.batches, args.repeats):
        print(f"| {row['batch']} | {row['io']} | {row['ms']:.2f} | {row['images_per_s']:.1f} |")
    w, h = (int(v) for v in args.photo_size.lower().split("x"))
    times = photo_times(model, (h, w), max(1, min(args.repeats, 5)))
    print(f"{w}x{h} photo in memory (segment): " + ", ".join(f"{k} {v:.0f} ms" for k, v in times.items()))
    if share < args.min_agreement:
        print(
            f"GPU CHECK FAILED: agreement {100 * share:.3f} % < {100 * args.min_agreement:.1f} %",
            file=sys.stderr,
        )
        return 1
    print("GPU check passed.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
