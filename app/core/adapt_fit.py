"""The numerical part of site adaptation: a network's final 1x1 classifier refitted with numpy.

Multinomial logistic regression over decoder features, on soft targets (each feature pixel's class
fractions in the reviewed mask), class-balanced sample weights, warm-started from the shipped weights
and pulled towards them by an L2 term scaled by the features' mean squared norm, minimised by L-BFGS
(no SciPy in the packaged app).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from app.core.errors import Cancelled

CancelCheck = Callable[[], bool]
# The loss is summed in float32: past about this relative change a step is rounding, and every further
# iteration would spend up to 30 line-search evaluations finding no decrease.
FTOL = 1e-7


@dataclass(frozen=True, eq=False)
class Classifier:
    """weight C x K and bias C of one 1x1 convolution (float64)."""

    weight: np.ndarray
    bias: np.ndarray

    def logits(self, features: np.ndarray) -> np.ndarray:
        """K x h x w features -> C x h x w logits."""
        k, h, w = features.shape
        flat = self.weight.astype(np.float32) @ features.reshape(k, h * w)
        return flat.reshape(-1, h, w) + self.bias.astype(np.float32)[:, None, None]


def softmax(z: np.ndarray, axis: int) -> np.ndarray:
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def probabilities(
    features: Sequence[np.ndarray], heads: Sequence[Classifier], size: tuple[int, int]
) -> np.ndarray:
    """The mean over members of softmax(upsampled logits), H x W x C at `size` (H, W): what the graph
    computes after each classifier (bilinear, half-pixel centres, as ONNX Resize and cv2 do)."""
    h, w = size
    total = None
    for feats, head in zip(features, heads, strict=True):
        z = head.logits(feats)
        up = np.stack([cv2.resize(c, (w, h), interpolation=cv2.INTER_LINEAR) for c in z], axis=-1)
        p = softmax(up, axis=-1)
        total = p if total is None else total + p
    assert total is not None
    return total / len(heads)


def fit_classifier(
    x: np.ndarray,
    y: np.ndarray,
    sample_weight: np.ndarray,
    base: Classifier,
    l2: float,
    steps: int,
    cancelled: CancelCheck | None = None,
    fit_bias: bool = True,
) -> Classifier:
    """Minimise the weighted cross-entropy of softmax(x W^T + b) against soft targets y (N x C) plus
    l2/2 * m * |(W, b) - base|^2, starting from `base`, where m is the weighted mean of |x|^2: the
    weights' pull is on the change in logits they make, whatever the scale of a model's features (the
    bias is pulled as hard: pulled by l2 alone it moved so freely that leave-one-out refused more).
    `fit_bias` False keeps the base bias (its priors)."""
    k = base.weight.shape[1]
    # float32 products (the features are float32): half the time of float64 at no cost in the result
    xb = np.hstack([x.astype(np.float32), np.ones((len(x), 1), np.float32)])
    theta0 = np.hstack([base.weight, base.bias[:, None]]).astype(np.float64)  # C x (K + 1)
    wn = (sample_weight / max(float(sample_weight.sum()), 1e-12)).astype(np.float32)[:, None]
    y = y.astype(np.float32)
    y_total = y.sum(axis=1, keepdims=True)
    pull = l2 * float(wn[:, 0] @ np.einsum("nk,nk->n", xb[:, :k], xb[:, :k]))

    def loss_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = xb @ theta.T.astype(np.float32)
        z -= z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        diff = theta - theta0
        loss = -float(np.sum(wn * y * log_p)) + 0.5 * pull * float(np.sum(diff * diff))
        resid = (np.exp(log_p) * y_total - y) * wn
        grad = (xb.T @ resid).T.astype(np.float64) + pull * diff
        if not fit_bias:  # a zero gradient column: L-BFGS never moves the bias
            grad[:, k] = 0.0
        return loss, grad

    theta = _lbfgs(loss_grad, theta0.copy(), steps, cancelled)
    return Classifier(theta[:, :k].copy(), theta[:, k].copy())


def _lbfgs(
    f: Callable[[np.ndarray], tuple[float, np.ndarray]],
    x: np.ndarray,
    steps: int,
    cancelled: CancelCheck | None,
    memory: int = 10,
    ftol: float = FTOL,
) -> np.ndarray:
    """Limited-memory BFGS with a backtracking (Armijo) line search; stops after `steps` iterations,
    when the gradient vanishes or when a step lowers the loss by less than `ftol` of it."""
    loss, g = f(x)
    s_hist: list[np.ndarray] = []
    y_hist: list[np.ndarray] = []
    for _ in range(steps):
        if cancelled is not None and cancelled():
            raise Cancelled("Adaptation cancelled.")
        if float(np.abs(g).max()) < 1e-7:
            break
        d = -_two_loop(g, s_hist, y_hist)
        slope = float(np.sum(g * d))
        if slope >= 0:  # not a descent direction: start the memory again
            s_hist.clear()
            y_hist.clear()
            d, slope = -g, -float(np.sum(g * g))
        # without curvature yet, a first step of unit length (not of the gradient's size)
        step = 1.0 if s_hist else 1.0 / max(float(np.sqrt(np.sum(d * d))), 1e-12)
        for _ in range(30):
            x_new = x + step * d
            loss_new, g_new = f(x_new)
            if loss_new <= loss + 1e-4 * step * slope:
                break
            step *= 0.5
        else:
            break  # no decrease along d: at a minimum to rounding
        s, yv = x_new - x, g_new - g
        if float(np.sum(s * yv)) > 1e-12:
            s_hist.append(s)
            y_hist.append(yv)
            if len(s_hist) > memory:
                s_hist.pop(0)
                y_hist.pop(0)
        converged = loss - loss_new <= ftol * max(abs(loss), abs(loss_new), 1.0)
        x, loss, g = x_new, loss_new, g_new
        if converged:
            break
    return x


def _two_loop(g: np.ndarray, s_hist: list[np.ndarray], y_hist: list[np.ndarray]) -> np.ndarray:
    q = g.copy()
    alphas = []
    for s, y in zip(reversed(s_hist), reversed(y_hist), strict=True):
        rho = 1.0 / float(np.sum(y * s))
        a = rho * float(np.sum(s * q))
        alphas.append((a, rho))
        q -= a * y
    if s_hist:
        s, y = s_hist[-1], y_hist[-1]
        q *= float(np.sum(s * y)) / float(np.sum(y * y))
    for (a, rho), s, y in zip(reversed(alphas), s_hist, y_hist, strict=True):
        b = rho * float(np.sum(y * q))
        q += (a - b) * s
    return q
