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


class OutputsInTheWay(OutputExistsError):
    """A batch photo refused before anything was written: intact results of ours were in the way (no
    overwrite asked, or another model's) and are as they were, so what an earlier run listed still holds."""


class EarlierOutputsKept(ExportError):
    """A photo's new outputs could not be written (a full disk) and its earlier ones, a whole set of ours,
    stand as they were: what an earlier run listed of it still holds."""


class Cancelled(CorroscopeError):
    """The user stopped the analysis of a photo; nothing was produced for it."""


class EngineUnavailable(CorroscopeError):
    """A batch engine that could not start (a Dask scheduler out of reach): no photo was sent or run."""


class EngineLost(CorroscopeError):
    """A batch engine that went away mid-batch (a Dask scheduler lost): the batch stops as on a cancel, the
    photos it had not returned are not analysed, and the same command resumes. The message says which."""


class ProjectError(CorroscopeError):
    """An inspection project that cannot be created, opened or written (the message says why)."""


class ProjectUnavailable(ProjectError):
    """An open project that could not be read or written just now (locked by another writer, a server
    gone, a full disk): a failure of the moment, not of what was asked."""


class ReviewedMaskError(CorroscopeError):
    """A reviewed mask that cannot be used for its photo (unreadable, wrong size, off-palette colours)."""


class ModelBudgetError(ModelContractError):
    """A model that ran past its time or memory budget (docs/reliability.md) and was stopped.

    `budget` names the one that ran out: "load", "run", "photo" or "memory"."""

    def __init__(self, message: str, budget: str) -> None:
        super().__init__(message)
        self.budget = budget


class OutputLockedError(ExportError):
    """Another run is writing into the same output folder."""


class ModelFileChanged(ModelContractError):
    """The file of the model in use holds another model now (replaced on disk since it was loaded): what
    was asked of the loaded model (a reload on another device, an adaptation) would use another one."""

    def __init__(self, name: str, loaded_sha256: str, now_sha256: str) -> None:
        super().__init__(
            f"{name} changed on disk since it was loaded (sha256 {loaded_sha256[:12]} then, "
            f"{now_sha256[:12]} now); load it again to use the file as it is now"
        )
