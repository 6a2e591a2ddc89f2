"""Lets test modules import their sibling support modules (e.g. notebook_hygiene) by name."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
