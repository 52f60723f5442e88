"""Our own exception types: each message is one a user can act on."""

from __future__ import annotations


class CorroscopeError(Exception):
    """Base of every error the app reports to a user."""


class ModelContractError(CorroscopeError):
    """An ONNX file that cannot be used: not ONNX, or breaking the model contract."""


class ImageReadError(CorroscopeError):
    """A photo that cannot be read; the message names the file and the reason."""


class ExportError(CorroscopeError):
    """A result that could not be written (disk full, no permission, ...)."""


class OutputExistsError(ExportError):
    """Writing would overwrite an existing file and overwriting was not asked for."""


class OutputLockedError(ExportError):
    """Another run is writing into the same output folder."""
