"""`python -m app` is `corroscope`."""

import sys

from app.cli import main

sys.exit(main())
