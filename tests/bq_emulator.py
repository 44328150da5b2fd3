"""Command-line launcher of the local BigQuery emulator, kept at this path for the Makefile.

``python tests/bq_emulator.py run -- pytest`` or ``python tests/bq_emulator.py serve``;
the code is :mod:`tests.helpers.bq_emulator`.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: make `tests` importable
    from tests.helpers.bq_emulator import main

    sys.exit(main(sys.argv[1:]))
