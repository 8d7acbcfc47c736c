"""The reasons batchscore gives the Batch jobs it terminates itself (`TerminateJob`'s `reason`,
which Batch returns as the job's `statusReason` and puts in its FAILED event).

Shared by the submission (which terminates) and the state-change handler (which must recognise
its own duplicates' events); a module of its own so the state Lambda loads no submission code.
"""

from __future__ import annotations

DUPLICATE_SUBMISSION = "batchscore: duplicate submission"
CANCELLED_WHILE_SUBMITTING = "batchscore: job cancelled while submitting"
