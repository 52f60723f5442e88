"""Corroscope: segmentation of corrosion on photos of pipes."""

__version__ = "0.1.0"
