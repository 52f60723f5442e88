"""Learning-rate schedule: linear warm-up, then cosine or polynomial decay to a floor at the last step."""

from __future__ import annotations

import math

import keras
from keras import ops

KINDS = ("cosine", "poly")


@keras.saving.register_keras_serializable(package="corroscope")
class WarmupDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Rises linearly from ~0 to `base_lr` over `warmup_steps`, then decays to `base_lr * min_ratio`
    at `total_steps` (cosine, or polynomial with `power`), and stays there afterwards."""

    def __init__(
        self,
        base_lr: float,
        total_steps: int,
        warmup_steps: int = 0,
        kind: str = "cosine",
        min_ratio: float = 0.01,
        power: float = 0.9,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"schedule must be one of {KINDS}, got {kind!r}")
        if total_steps < 1 or warmup_steps < 0 or warmup_steps >= total_steps:
            raise ValueError(f"need 0 <= warmup_steps ({warmup_steps}) < total_steps ({total_steps})")
        self.base_lr = float(base_lr)
        self.total_steps = int(total_steps)
        self.warmup_steps = int(warmup_steps)
        self.kind = kind
        self.min_ratio = float(min_ratio)
        self.power = float(power)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        warm = float(max(self.warmup_steps, 1))
        warmup_lr = self.base_lr * (step + 1.0) / warm
        span = float(self.total_steps - self.warmup_steps)
        progress = ops.clip((step - self.warmup_steps) / span, 0.0, 1.0)
        if self.kind == "cosine":
            shape = 0.5 * (1.0 + ops.cos(math.pi * progress))
        else:
            shape = ops.power(1.0 - progress, self.power)
        floor = self.base_lr * self.min_ratio
        decay_lr = floor + (self.base_lr - floor) * shape
        return ops.where(step < self.warmup_steps, warmup_lr, decay_lr)

    def get_config(self) -> dict:
        return {
            "base_lr": self.base_lr,
            "total_steps": self.total_steps,
            "warmup_steps": self.warmup_steps,
            "kind": self.kind,
            "min_ratio": self.min_ratio,
            "power": self.power,
        }
