"""`python -m helpers.loadgen`: the same as `llm-course-load`."""

import sys

from helpers.loadgen.cli import main

sys.exit(main())
