"""Make the benchmark scripts' modules (in bench/, not a package) importable by the tests of their scoring."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
# Appended, not prepended: bench/ holds scripts named like common modules (faces.py, web.py), and nothing else
# should ever resolve to them.
if str(BENCH) not in sys.path:
    sys.path.append(str(BENCH))
