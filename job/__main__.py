"""`python -m job ...`: see job.commands."""

import os
import sys

# Before scikit-learn loads its OpenMP runtime: idle OpenMP threads sleep instead of spinning, so
# they leave the cores to the reader and writer threads (and, on a shared host, to others).
# Measured in docs/performance-job.md: HistGradientBoosting scoring ran 2-3x faster with it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# scikit-learn imports pandas whenever it is installed (a bare `try: import pandas` in
# `sklearn.utils.fixes`; it finds DataFrames through `sys.modules` after that): about a second
# of every process here, though only a model fed a DataFrame needs pandas, and `job.frames`
# imports it then. So pandas is hidden while the job's modules import.
from job.frames import allow_pandas, hide_pandas

hide_pandas()
try:
    from job.commands import main
finally:
    allow_pandas()

sys.exit(main())
