"""The numerical part of site adaptation (`app.core.adapt_fit`): the L-BFGS refit on its own."""

from __future__ import annotations

import numpy as np

from app.core.adapt_fit import Classifier, _lbfgs, fit_classifier


def _problem(rng: np.random.Generator, n: int = 3000, k: int = 64):
    """Three classes over k non-negative features (ReLU-like), soft one-hot targets."""
    x = np.maximum(rng.normal(size=(n, k)), 0).astype(np.float32)
    true = rng.normal(size=(3, k))
    y = np.eye(3)[(x @ true.T + rng.gumbel(size=(n, 3))).argmax(axis=1)]
    return x, y, Classifier(0.1 * rng.normal(size=(3, k)), np.zeros(3))


def test_the_fit_stops_once_a_step_no_longer_lowers_the_float32_loss(monkeypatch):
    import app.core.adapt_fit as adapt_fit

    x, y, base = _problem(np.random.default_rng(0))
    calls: list[float] = []

    def counting(f, x0, steps, cancelled):
        def f_counted(theta):
            loss, grad = f(theta)
            calls.append(loss)
            return loss, grad

        return _lbfgs(f_counted, x0, steps, cancelled)

    monkeypatch.setattr(adapt_fit, "_lbfgs", counting)
    fit = fit_classifier(x, y, np.ones(len(x)), base, l2=0.3, steps=200)
    # converged: the loss is where the last evaluations left it, reached in far fewer than 200 steps
    # (each step past convergence would cost up to 30 line-search evaluations)
    assert len(calls) < 100, len(calls)
    assert calls[-1] < calls[0]
    monkeypatch.undo()
    longer = fit_classifier(x, y, np.ones(len(x)), base, l2=0.3, steps=len(calls) + 50)
    assert np.abs(fit.weight - longer.weight).max() < 1e-4


def test_fit_bias_false_moves_only_the_weights():
    x, y, base = _problem(np.random.default_rng(1))
    base = Classifier(base.weight, np.array([0.5, -0.2, 0.1]))
    fit = fit_classifier(x, y, np.ones(len(x)), base, l2=0.3, steps=50, fit_bias=False)
    assert fit.bias.tolist() == base.bias.tolist()
    assert not np.allclose(fit.weight, base.weight)


def test_the_weights_pull_is_on_the_logits_whatever_the_scale_of_the_features():
    # The same data and base logits with features 10x larger (base weights 10x smaller): the refit
    # must predict the same, so one default l2 suits models whose features have other scales.
    x, y, base = _problem(np.random.default_rng(2), k=16)
    big = Classifier(base.weight / 10.0, base.bias)
    fit = fit_classifier(x, y, np.ones(len(x)), base, l2=0.01, steps=200, fit_bias=False)
    fit_big = fit_classifier(10.0 * x, y, np.ones(len(x)), big, l2=0.01, steps=200, fit_bias=False)
    assert np.abs(x @ fit.weight.T - (10.0 * x) @ fit_big.weight.T).max() < 0.01
