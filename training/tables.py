"""Evaluation results as Markdown and `.xlsx` tables (from the dict that `metrics.json` holds)."""

from __future__ import annotations

from pathlib import Path

from training.metrics import SCORE_NAMES

_HEAD = {"iou": "IoU", "dice": "Dice", "f1": "F1", "precision": "Precision", "recall": "Recall"}


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f}"


def _class_table(report: dict) -> list[str]:
    lines = [
        "| class | " + " | ".join(f"{_HEAD[s]} %" for s in SCORE_NAMES) + " |",
        "|---|" + "---:|" * len(SCORE_NAMES),
    ]
    for name, scores in report["per_class"].items():
        lines.append(f"| {name} | " + " | ".join(_pct(scores[s]) for s in SCORE_NAMES) + " |")
    lines.append("")
    lines.append(f"Pixel accuracy {_pct(report['pixel_accuracy'])} %, mean IoU {_pct(report['mean_iou'])} %.")
    return lines


def markdown(result: dict) -> str:
    names = result["confusion"]["rows_truth_columns_prediction"]
    counts = result["confusion"]["counts"]
    lines = [
        f"# Evaluation of `{Path(result['model']).name}`",
        "",
        f"- Model: `{result['model']}` ({result['model_kind']}), SHA-256 `{result['sha256']}`",
        f"- Data: `{result['data']}`, split `{result['split']}`, {result['n_photos']} photos",
        f"- Inference: {result['seconds_per_photo']:.3f} s per photo; evaluated {result['created']}",
        "",
        "## Per-photo protocol (the origin's: scores per photo, averaged over photos)",
        "",
        *_class_table(result["per_photo"]),
        "",
        "## Pooled over all pixels",
        "",
        *_class_table(result["pooled"]),
        "",
        "## Confusion matrix (pixels; rows truth, columns prediction)",
        "",
        "| truth \\ predicted | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for name, row in zip(names, counts, strict=True):
        lines.append(f"| {name} | " + " | ".join(f"{v:,}" for v in row) + " |")
    if "origin_scoring" in result:
        lines += ["", *_origin_section(result["origin_scoring"])]
    lines += ["", "## Convention", "", result["convention"], ""]
    return "\n".join(lines)


def _origin_section(origin: dict) -> list[str]:
    lines = [
        "## The origin's scoring code (for comparing with its published figures)",
        "",
        "Per photo, each class against the rest, (x + 1e-7) / (y + 1e-7): a class absent from both truth",
        "and prediction scores 100 % and every photo counts.",
        "",
        "| class | IoU % | Dice % |",
        "|---|---:|---:|",
    ]
    for name, iou in origin["iou"].items():
        lines.append(f"| {name} | {_pct(iou)} | {_pct(origin['dice'][name])} |")
    lines += ["", f"Pipe (corrosion + asset) against background, IoU {_pct(origin['pipe_iou'])} %."]
    return lines


def xlsx(result: dict, path: Path) -> None:
    """Sheets: summary (both protocols), confusion, photos (per-photo scores)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "summary"
    bold = Font(bold=True)
    ws.append(["model", result["model"]])
    ws.append(["sha256", result["sha256"]])
    ws.append(["data", result["data"]])
    ws.append(["split", result["split"], "photos", result["n_photos"]])
    for key, title in (("per_photo", "per-photo protocol"), ("pooled", "pooled over all pixels")):
        report = result[key]
        ws.append([])
        ws.append([title])
        ws.cell(ws.max_row, 1).font = bold
        ws.append(["class", *(f"{_HEAD[s]} %" for s in SCORE_NAMES)])
        for name, scores in report["per_class"].items():
            ws.append([name, *(None if scores[s] is None else 100 * scores[s] for s in SCORE_NAMES)])
        ws.append(["pixel accuracy %", _scaled(report["pixel_accuracy"])])
        ws.append(["mean IoU %", _scaled(report["mean_iou"])])
    cm = wb.create_sheet("confusion")
    names = result["confusion"]["rows_truth_columns_prediction"]
    cm.append(["truth \\ predicted", *names])
    for name, row in zip(names, result["confusion"]["counts"], strict=True):
        cm.append([name, *row])
    photos = wb.create_sheet("photos")
    rows = result["photos"]
    if rows:
        columns = list(rows[0].keys())
        photos.append(columns)
        for row in rows:
            photos.append([row[c] for c in columns])
    wb.save(path)


def _scaled(value: float | None) -> float | None:
    return None if value is None else 100 * value
