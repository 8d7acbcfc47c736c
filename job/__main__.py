"""`python -m job ...`: see job.cli."""

import sys

from job.cli import main

sys.exit(main())
