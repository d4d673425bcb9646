"""`python -m workers`: the worker program an instance's user-data starts."""

import sys

from workers.program.worker import main

sys.exit(main())
