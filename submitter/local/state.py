"""Where a running `batchscore local up` says how to reach it, for the other `batchscore` calls.

Kept apart from `stack` so that reading it imports neither moto nor boto3.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from config import env


def default_state_file() -> Path:
    """`$BATCHSCORE_LOCAL_STATE`, else ~/.batchscore/local.json."""
    configured = os.environ.get(env.LOCAL_STATE)
    return Path(configured) if configured else Path.home() / ".batchscore" / "local.json"


def read_state(path: Path | None = None) -> dict[str, Any] | None:
    """What a running local stack wrote; None when none runs (no file, or its process is gone).

    Keys: `pid`, `endpoint_url`, `batch_url`, `region`, `env` (the variables under which boto3
    and batchscore use the stack; its `AWS_ACCESS_KEY_ID` is the stack's token), `names`
    (buckets, table, job definition, log group), `queues` ({priority: queue name}) and `log_dir`
    (the attempts' log files).
    """
    path = path or default_state_file()
    try:
        state: dict[str, Any] = json.loads(path.read_text())
        os.kill(int(state["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return state


def write_state(path: Path, state: dict[str, Any]) -> None:
    """Replace the state file in one step (readers never see half of it). It holds the stack's
    token (its access key id), so it is the owner's alone: mode 0600 from its creation, in a
    directory created 0700."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.unlink(missing_ok=True)  # a left-over may have other modes or another owner
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        os.fchmod(file.fileno(), 0o600)  # whatever the umask
        file.write(json.dumps(state, indent=2))
    temporary.replace(path)


def remove_state(path: Path) -> None:
    """Remove the state file if this process wrote it."""
    state = read_state(path)
    if state and state.get("pid") == os.getpid():
        path.unlink(missing_ok=True)
