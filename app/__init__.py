"""Corroscope: segmentation of corrosion on photos of pipes."""

__version__ = "0.1.0"

IS_COMMAND = False  # this process is the `corroscope` command (not a test or a program embedding us)


def _interrupted_while_loading(signum: int, frame: object) -> None:
    """Ctrl+C while the command's modules load (about 0.3 s): nothing is written yet, so leave at once
    with the exit code of an interrupt, not a traceback from inside an import."""
    import os

    try:
        os.write(2, b"Interrupted.\n")
    finally:
        os._exit(130)


def _guard_loading() -> None:
    """Only when this process is the `corroscope` command (`python -m app` or the entry point); `cli.main`
    hands Ctrl+C back to Python once everything is loaded. Nothing here imports a Python module before
    the handler is set (`threading` alone took long enough under load for a Ctrl+C to land inside it)."""
    import _signal
    import os
    import sys

    global IS_COMMAND
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    script = os.path.splitext(os.path.basename(sys.argv[0] if sys.argv else ""))[0]
    IS_COMMAND = (spec is not None and spec.name == "app.__main__") or script == "corroscope"
    if IS_COMMAND:
        try:  # noqa: SIM105 (contextlib would be one more import before the handler)
            _signal.signal(_signal.SIGINT, _interrupted_while_loading)
        except ValueError:  # not the main thread: Python lets only that one set handlers
            pass


_guard_loading()
