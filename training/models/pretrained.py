"""ImageNet weights into our MobileNetV2 encoder: torchvision's checkpoint, layer by layer."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from training.models.backbones import mobilenet_v2_torch_names
from training.weights import CheckpointError, _all_layers, _torch_to_keras, read_torch_checkpoint

log = logging.getLogger("training.weights")


def port_mobilenet_v2(model, checkpoint: str | Path | dict[str, np.ndarray]) -> int:
    """Load torchvision's MobileNetV2 weights into the `mnv2_*` layers of `model`; returns tensors set.

    Every MobileNetV2 layer present in the model must receive weights of exactly its shape.
    """
    sd = checkpoint if isinstance(checkpoint, dict) else read_torch_checkpoint(checkpoint)
    present = {layer.name: layer for layer in _all_layers(model)}
    names = mobilenet_v2_torch_names(include_head=True)
    needed = {n: p for n, p in names.items() if n in present}
    if "mnv2_block17_project" not in present:
        raise CheckpointError(f"model {model.name} has no MobileNetV2 encoder to port weights into")
    count = 0
    for layer_name, prefix in needed.items():
        layer = present[layer_name]
        values = _torch_to_keras(layer, prefix, sd)
        expected = [tuple(w.shape) for w in layer.get_weights()]
        if [v.shape for v in values] != expected:
            raise CheckpointError(
                f"{prefix} has shapes {[v.shape for v in values]}, layer {layer_name} needs {expected}"
            )
        layer.set_weights(values)
        count += len(values)
    log.info("ported %d MobileNetV2 tensors into %s", count, model.name)
    return count
