"""`python -m job ...`: see job.commands."""

import os
import sys

# Before scikit-learn loads its OpenMP runtime: idle OpenMP threads sleep instead of spinning, so
# they leave the cores to the reader and writer threads (and, on a shared host, to others).
# Measured in docs/performance-job.md: HistGradientBoosting scoring ran 2-3x faster with it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from job.commands import main

sys.exit(main())
