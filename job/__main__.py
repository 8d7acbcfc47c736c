"""`python -m job ...`: see job.commands (the process environment is set in job/__init__.py)."""

import sys

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
