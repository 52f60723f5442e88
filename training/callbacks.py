"""The epoch-end callback of a training run: validate, checkpoint, stop early or on a time budget."""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import numpy as np

from app.core.palette import DEFAULT_CLASSES
from training.metrics import per_photo_report, photo_confusions, pooled_report

log = logging.getLogger(__name__)

BEST = "best.keras"
LAST = "last.keras"
STATE = "state.json"


@dataclass(frozen=True)
class RunState:
    """What a run needs to continue: completed epochs, the best score so far and why it stopped."""

    epoch: int = 0
    best_score: float = -1.0
    best_epoch: int = 0
    epochs_without_improvement: int = 0
    elapsed_seconds: float = 0.0
    finished: bool = False
    stop_reason: str = ""

    @classmethod
    def load(cls, folder: Path) -> RunState | None:
        path = folder / STATE
        if not path.is_file():
            return None
        return cls(**json.loads(path.read_text(encoding="utf-8")))

    def save(self, folder: Path) -> None:
        tmp = folder / (STATE + ".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, folder / STATE)


def save_atomic(model: keras.Model, path: Path) -> None:
    """Save a .keras file so that a kill mid-write never leaves a broken checkpoint behind."""
    tmp = path.with_name(path.stem + ".tmp.keras")
    model.save(tmp)
    os.replace(tmp, path)


def validate(
    model: keras.Model, images: np.ndarray, labels: np.ndarray, batch_size: int, loss=None
) -> dict[str, float]:
    """Per-photo protocol IoU of each class, pooled mean IoU (and the loss), on full-size photos."""
    probs = model.predict(images.astype(np.float32), batch_size=batch_size, verbose=0)
    preds = np.argmax(probs, axis=-1).astype(np.uint8)
    names = [c.name for c in DEFAULT_CLASSES]
    cms = photo_confusions(labels, preds, len(names))
    photo = per_photo_report(cms, names)
    pooled = pooled_report(cms, names)
    out = {f"val_{n}_iou": photo.per_class[n]["iou"] for n in names}
    out["val_miou"] = photo.mean_iou
    out["val_pooled_miou"] = pooled.mean_iou
    out["val_pixel_accuracy"] = pooled.pixel_accuracy
    if loss is not None:
        out["val_loss"] = float(keras.ops.convert_to_numpy(loss(labels, probs)).mean())
    return out


class EpochEnd(keras.callbacks.Callback):
    """Validates at full size each epoch, keeps `best.keras` (by validation corrosion IoU, per-photo
    protocol) and `last.keras` + `state.json` for resuming, and stops on patience or time budget.

    `eval_model` is the full-size twin of the trained model: the trained weights are copied into it.
    """

    def __init__(
        self,
        out: Path,
        eval_model: keras.Model,
        val_images: np.ndarray,
        val_labels: np.ndarray,
        batch_size: int,
        state: RunState,
        total_epochs: int,
        patience: int,
        max_seconds: float | None,
    ) -> None:
        super().__init__()
        self.out = out
        self.eval_model = eval_model
        self.val_images = val_images
        self.val_labels = val_labels
        self.batch_size = batch_size
        self.state = state
        self.total_epochs = total_epochs
        self.patience = patience
        self.max_seconds = max_seconds
        self._started = time.monotonic()
        self._epoch_started = self._started
        self._longest_epoch = 0.0

    def on_train_end(self, logs=None) -> None:
        # With a moving average of the weights (`--ema`), fit has put the average in place by now, after
        # the last epoch's save: a finished run's last.keras is the average (a stopped one resumes as is).
        if getattr(self.model.optimizer, "use_ema", False) and self.state.finished:
            save_atomic(self.model, self.out / LAST)

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._epoch_started = time.monotonic()

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        logs = logs if logs is not None else {}
        if self.eval_model is not self.model:
            for target, source in zip(self.eval_model.weights, self.model.weights, strict=True):
                target.assign(source)
        scores = validate(self.eval_model, self.val_images, self.val_labels, self.batch_size, self.model.loss)
        logs.update(scores)
        logs["lr"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        score = scores["val_corrosion_iou"]
        st = self.state
        improved = bool(np.isfinite(score) and score > st.best_score)
        if improved:
            save_atomic(self.eval_model, self.out / BEST)
        now = time.monotonic()
        seconds = now - self._epoch_started
        logs["epoch_seconds"] = seconds
        self._longest_epoch = max(self._longest_epoch, seconds)
        done = epoch + 1
        stale = 0 if improved else st.epochs_without_improvement + 1
        reason = ""
        if done >= self.total_epochs:
            reason = "epoch budget reached"
        elif self.patience and stale >= self.patience:
            reason = f"early stop: no better validation corrosion IoU in {self.patience} epochs"
        elif self.max_seconds is not None and now - self._started + self._longest_epoch > self.max_seconds:
            reason = "time budget: another epoch would not fit in --max-minutes"
        self.state = RunState(
            epoch=done,
            best_score=float(score) if improved else st.best_score,
            best_epoch=done if improved else st.best_epoch,
            epochs_without_improvement=stale,
            elapsed_seconds=st.elapsed_seconds + seconds,
            finished=bool(reason) and not reason.startswith("time budget"),
            stop_reason=reason,
        )
        save_atomic(self.model, self.out / LAST)
        self.state.save(self.out)
        log.info(
            "epoch %d/%d  %.0f s  loss %.4f  val corrosion IoU %.2f %%  asset IoU %.2f %%  mIoU %.2f %%%s",
            done,
            self.total_epochs,
            seconds,
            logs.get("loss", float("nan")),
            100 * score,
            100 * scores["val_asset_iou"],
            100 * scores["val_miou"],
            "  (best, saved)" if improved else "",
        )
        if reason and done < self.total_epochs:
            log.info("stopping: %s", reason)
            self.model.stop_training = True
