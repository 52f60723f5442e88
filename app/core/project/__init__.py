"""Inspection projects: assets, inspections over time, photos and their results in one database
(a `*.corroscope` SQLite file, or PostgreSQL for a team), and the trend of each asset. No Qt."""

from app.core.project.engine import SUFFIX, is_url
from app.core.project.ingest import AddSummary, add_inspection_photos, analyse_record
from app.core.project.photos import describe_photo
from app.core.project.records import (
    AddOutcome,
    Asset,
    Inspection,
    PhotoEntry,
    PhotoFile,
    ReviewMark,
    StoredPhoto,
    StoredResult,
)
from app.core.project.schema import SCHEMA_VERSION
from app.core.project.store import Project
from app.core.project.trend import TREND_COLUMNS, RateFit, Trend, TrendRow

__all__ = [
    "SCHEMA_VERSION",
    "SUFFIX",
    "TREND_COLUMNS",
    "AddOutcome",
    "AddSummary",
    "Asset",
    "Inspection",
    "PhotoEntry",
    "PhotoFile",
    "Project",
    "RateFit",
    "ReviewMark",
    "StoredPhoto",
    "StoredResult",
    "Trend",
    "TrendRow",
    "add_inspection_photos",
    "analyse_record",
    "describe_photo",
    "is_url",
]
