"""The images tier runs jobs on the embedded stack as the end-to-end tier does, with its helpers."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
