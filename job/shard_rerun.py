"""A rerun of an array job's failed shards (`batchscore rerun JOB --failed-shards`), as the
container sees it.

The rerun is a new job record (`shards_of`: the job whose output it completes; `rerun_shards`:
the original shard indices it scores, in the order of its own children) with the original's
config text unchanged, so its markers carry the same config digest. Batch numbers a new array's
children 0..k-1: child i scores original shard `rerun_shards[i]` (a rerun of one shard is a
single Batch job, index 0). Everything on the output is done in the original job's name: its
input plan (`_plan/<job id>/`), its claim, its shard markers, so the commit merges the shards
that succeeded the first time with the rerun ones into one manifest.

The data may have been fixed since the plan (the reason to rerun): a rerun child keeps its
slice's files and row groups but takes the files' tags as they are now (`plan.refreshed`), and
checks the files are unchanged against those while it runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from job.exceptions import PermanentError

SHARDS_OF = "shards_of"
RERUN_SHARDS = "rerun_shards"


@dataclass(frozen=True)
class Target:
    """Whose output a run writes and which of its shards."""

    output_job: str  # the job id of the plan, the claim and the markers
    shard: int  # the original shard index
    reruns: int | None = None  # how many shards the rerun scores (None: not a rerun)


def target(record: dict[str, Any], job_id: str, index: int) -> Target:
    original = record.get(SHARDS_OF)
    if not original:
        return Target(job_id, index)
    shards = [int(shard) for shard in record.get(RERUN_SHARDS) or []]
    if not 0 <= index < len(shards):
        raise PermanentError(
            f"job {job_id!r} reruns {len(shards)} shard(s) of {original!r}: no child {index}"
        )
    return Target(str(original), shards[index], len(shards))
