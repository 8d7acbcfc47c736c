"""The scoring container: `python -m job score|run` (docs/job.md).

The process environment the job runs with is set here, once, for every way of running it: the
container (`python -m job`) and `batchscore score` (which imports `job.commands` in-process).
"""

import os

# Before scikit-learn loads its OpenMP runtime: idle OpenMP threads sleep instead of spinning, so
# they leave the cores to the reader and writer threads (and, on a shared host, to others).
# Measured in docs/performance-job.md: HistGradientBoosting scoring ran 2-3x faster with it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# The same for OpenBLAS (numpy's and scipy's), whose threads spin for 2^28 cycles after each
# call by default; 4 is its minimum (2^4 cycles). A linear model calls BLAS once per batch: with
# spinning, a 1M-row one-hot pipeline job used ~0.7 s more CPU, and ran at about half the rate
# on this shared 2-core host (docs/performance-job.md). Large BLAS calls keep their threads.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
