"""`training.prior_shift`: a class-prior offset chosen on the other folds, measured out of fold."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from training import prior_shift


def _run(tmp_path: Path, lean: float) -> Path:
    """A two-fold run of 16 x 16 photos whose pipe is the left half; rust truly covers `k` of 8 pipe
    columns, and the network gives the next columns a corrosion probability `lean` above asset's."""
    rng = np.random.default_rng(0)
    run, rows = tmp_path / "cv", []
    for fold in range(2):
        ids, probs = [], []
        for i in range(6):
            k = int(rng.integers(1, 6))
            p = np.zeros((16, 16, 3), dtype=np.float64)
            p[:, 8:, 2] = 1.0  # background
            p[:, :k, 0] = 0.9  # rust, surely
            p[:, :k, 1] = 0.1
            p[:, k:8, 0], p[:, k:8, 1] = 0.5 + lean, 0.5 - lean  # asset the network leans away from
            pid = f"{fold}{i:02d}"
            ids.append(pid)
            probs.append(np.round(p * 255).astype(np.uint8))
            rows.append({"id": pid, "fold": fold, "share_true": 100.0 * k / 8})
        (run / f"fold{fold}").mkdir(parents=True)
        np.savez(run / f"fold{fold}" / "oof-probs.npz", ids=np.array(ids), probs=np.stack(probs))
    (run / "oof.json").write_text(json.dumps({"photos": rows}), encoding="utf-8")
    return run


def test_a_network_leaning_to_corrosion_is_set_right_out_of_fold(tmp_path: Path, capsys) -> None:
    run = _run(tmp_path, lean=0.1)
    out = tmp_path / "shift.json"
    assert prior_shift.main([str(run), "--json", str(out)]) == 0
    figures = json.loads(out.read_text("utf-8"))
    assert figures["photos"] == 12
    assert figures["mae_as_run"] > 30 and figures["mae_shifted"] < 1e-6, figures
    assert figures["within_10_shifted"] == 12 and figures["mae_gain"]["low"] > 0
    for offsets in figures["offsets_by_fold"].values():
        assert offsets["asset"] - offsets["corrosion"] > 0.4  # towards asset, learnt on the other fold
    assert "12 photos out of fold" in capsys.readouterr().out


def test_a_run_without_probabilities_is_refused_in_words(tmp_path: Path, capsys) -> None:
    (tmp_path / "cv").mkdir()
    assert prior_shift.main([str(tmp_path / "cv")]) == 2
    assert "no readable oof.json" in capsys.readouterr().err
