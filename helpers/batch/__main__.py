"""`python -m helpers.batch`: the same as `llm-batch`."""

import sys

from helpers.batch.cli import main

sys.exit(main())
