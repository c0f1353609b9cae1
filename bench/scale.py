"""The scale benchmark (:mod:`bench.scaling`): ``.venv/bin/python bench/scale.py [--small]``.

Only this: Python starts each of an export's worker processes by running the main script
again, and under ``python -m bot run`` the bot's workers import no more than the export's own
modules. A benchmark whose script imported the bot, the fake and the harness at its top would
make each worker import them too, and measure a start the bot never has.
"""

import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.scaling import main

    sys.exit(main())
