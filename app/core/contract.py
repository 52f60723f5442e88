"""The model contract of docs/design.md section 4: names and metadata keys shared by training and the app."""

from __future__ import annotations

from app.core.text import safe_repr

CONTRACT_VERSION = "1"

INPUT_NAME = "image"
PROBABILITIES_OUTPUT = "probabilities"
LABELS_OUTPUT = "labels"

KEY_CONTRACT = "corroscope.contract"
KEY_CLASSES = "corroscope.classes"
KEY_INPUT_SIZE = "corroscope.input_size"
KEY_ARCHITECTURE = "corroscope.architecture"
KEY_BACKBONE = "corroscope.backbone"
KEY_TRAINED_ON = "corroscope.trained_on"
KEY_CREATED = "corroscope.created"
KEY_METRICS = "corroscope.metrics"
KEY_ENSEMBLE = "corroscope.ensemble"  # JSON list of the members of an averaged model (training.ensemble)
KEY_SHARE_RANGE = "corroscope.share_range"  # JSON: the share's calibrated range (app.core.range_calibration)
KEY_ACCURACY = "corroscope.accuracy"  # JSON: the measured share error (app.core.model_accuracy)

REQUIRED_KEYS = (KEY_CONTRACT, KEY_CLASSES, KEY_INPUT_SIZE)
# The classes every model must name (exactly, in lower case): the figures are corrosion / (corrosion + asset).
MEASURED_CLASSES = ("corrosion", "asset")
OPTIONAL_KEYS = (
    KEY_ARCHITECTURE,
    KEY_BACKBONE,
    KEY_TRAINED_ON,
    KEY_CREATED,
    KEY_METRICS,
    KEY_ENSEMBLE,
    KEY_SHARE_RANGE,
    KEY_ACCURACY,
)


def format_input_size(height: int, width: int) -> str:
    return f"{height},{width}"


def parse_input_size(text: str) -> tuple[int, int]:
    """`"256,256"` -> (256, 256); raises ValueError with a readable reason."""
    parts = text.split(",")
    if len(parts) != 2:
        raise ValueError(f"input size must be 'H,W', got {safe_repr(text, 40)}")
    try:
        h, w = (int(p.strip()) for p in parts)
    except ValueError:
        raise ValueError(f"input size must be two integers 'H,W', got {safe_repr(text, 40)}") from None
    if h < 8 or w < 8 or h > 8192 or w > 8192:
        raise ValueError(f"input size {h}x{w} is out of range (8..8192)")
    return h, w
