"""`python -m job ...`: see job.commands."""

import sys

from job.commands import main

sys.exit(main())
