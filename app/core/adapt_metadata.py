"""The metadata an adapted model file carries: the base's, with this adaptation's record (photos, settings,
leave-one-out figures, the chain of earlier adaptations) and its accuracy line's figures."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timezone
from typing import Any

from app.core.adapt_checks import masks_phrase
from app.core.adapt_record import adapted_metadata
from app.core.adapt_scores import LooFigures, loo_accuracy
from app.core.model import SegmentationModel


def adaptation_metadata(
    base: SegmentationModel,
    provenances: Sequence[dict],
    scored: Sequence[int],
    signed: tuple[int, int],
    measured: tuple[Any, LooFigures, LooFigures],
    steps: Sequence[dict],
    whole: bool,
) -> dict:
    """The adapted file's metadata: the base's, with this adaptation's record and its leave-one-out
    accuracy. `signed`: signed masks among all photos and among those scored; `measured`: the settings and
    the base's and adapted model's leave-one-out figures; `steps`: the earlier adaptations, oldest first."""
    created = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    settings, before, after = measured
    accuracy = loo_accuracy(after, signed[1], len(provenances))
    this_step = {
        "base_model": {"file": base.path.name, "sha256": base.sha256},
        "photos": len(provenances),
        "photo_sha256": [p["sha256"] for p in provenances],
        "photo_pictures": [p["picture"] for p in provenances],
    }
    new = set(scored)
    left_out = [p["photo"] for i, p in enumerate(provenances) if i not in new]
    adaptation = {
        "base_model": this_step["base_model"],
        "created": created,
        "photos": list(provenances),
        "settings": asdict(settings),
        "leave_one_out": {
            "base": asdict(before),
            "adapted": asdict(after),
            "left_out_used_before": left_out,  # an earlier adaptation used them: not held out
        },
        "method": "final 1x1 classifier(s) refitted: multinomial logistic regression, class-balanced, "
        "L2 towards the base weights, L-BFGS",
        "chain": [*steps, this_step],  # every adaptation from the first base model on, oldest first
        "chain_whole": whole,
    }
    return adapted_metadata(
        base.metadata, created, adaptation, masks_phrase(len(provenances), signed[0]), len(left_out),
        None if accuracy is None else json.dumps(accuracy.to_json()),
    )  # fmt: skip
