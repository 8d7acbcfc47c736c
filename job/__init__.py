"""The scoring container: `python -m job score|run` (docs/job.md).

The process environment the job runs with is set here, once, for every way of running it: the
container (`python -m job`) and `batchscore score` (which imports `job.commands` in-process).
"""

import os

# Before scikit-learn loads its OpenMP runtime: idle OpenMP threads sleep instead of spinning, so
# they leave the cores to the reader and writer threads (and, on a shared host, to others).
# Measured in docs/performance-job.md: HistGradientBoosting scoring ran 2-3x faster with it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
