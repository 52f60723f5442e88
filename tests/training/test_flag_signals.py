"""The review flag's signals ranked against the share error: how many of the most trusted quarter miss."""

from __future__ import annotations

import numpy as np

from tests.training.test_range_fit import _write_cv
from training.flag_signals import main, ranked_misses, signals


def test_ranked_misses_counts_the_trusted_quarter_and_the_run_before_the_first_miss() -> None:
    error = np.array([1.0, 2.0, 30.0, 3.0, 40.0, 4.0, 50.0, 5.0])
    perfect = error.copy()  # ranks by the error itself: the two lowest quarter are right
    assert ranked_misses(perfect, error) == (0, 5)
    useless = -error  # trusts the worst first
    assert ranked_misses(useless, error) == (2, 0)


def test_a_signal_that_tracks_the_error_ranks_better_than_one_that_does_not(tmp_path, capsys) -> None:
    cv = _write_cv(tmp_path / "a")  # uncertainty drives the error by construction
    other = _write_cv(tmp_path / "b", seed=1)  # the same photos, predictions independent of the first
    error, found = signals(cv, other)
    assert len(error) == 150 and set(found) == {
        "held-out 80 % range width",
        "1 - mean confidence",
        "a miss classifier fitted on the other folds",
        "disagreement with b",
    }
    by_confidence = ranked_misses(found["1 - mean confidence"], error)
    by_chance = ranked_misses(np.random.default_rng(0).permutation(error), error)
    by_classifier = ranked_misses(found["a miss classifier fitted on the other folds"], error)
    assert by_confidence[0] < by_chance[0]
    assert by_classifier[0] < by_chance[0], "the features carry the error here: the classifier learns it"
    assert main([str(cv)]) == 0
    assert "| 1 - mean confidence |" in capsys.readouterr().out
