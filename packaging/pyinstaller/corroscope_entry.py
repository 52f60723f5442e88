"""PyInstaller's entry script: the frozen program runs the same `app.cli.main` as the `corroscope` command."""

import multiprocessing
import sys

from app.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
