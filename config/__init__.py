"""The job-config contract shared by the container (`job`) and the Lambda side (`submitter`).

Import from the modules (`config.parsing`, `config.models`, ...): the package itself loads
nothing, because `config.records`, `config.status` or `config.env` must not pull pydantic in (the
state-change Lambda needs none of it and pays every import at each cold start).
"""
