"""What the job's image would run, read from `job/Dockerfile` (the one source): its stages, and of
the final stage the ENTRYPOINT, CMD, WORKDIR, ENV, USER and COPYs.

No Docker engine runs here, so the local Batch starts each attempt as a host process that runs
what the container would: `Image.argv(command)` joins ENTRYPOINT and the job's `command` exactly
as Docker joins ENTRYPOINT and CMD (Batch's `command` is Docker's Cmd), and `Image.local_run`
maps the image's paths to this machine's:

- WORKDIR -> the build context (the repository root): the final stage copies `config/` and
  `job/` from the context to the same relative paths under WORKDIR (checked);
- a directory copied from a build stage (the venv, `/opt/venv`) -> this interpreter's prefix
  (`sys.prefix`), where the same locked dependencies are installed;
- ENV as the image sets it (`$VAR` expanded against what came before; the base image's values are
  unknown here, so the host's stand in), with those paths mapped;
- USER: a non-root user whose home the Dockerfile never creates (`useradd --no-create-home`)
  gets a HOME that does not exist, as in the container. The process keeps the host's uid.

What is not emulated: the base image's own files and variables, isolation, the uid itself.
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache, partial
from pathlib import Path

# The build context (`docker build -f job/Dockerfile .`): the repository root, or site-packages.
CONTEXT = Path(__file__).resolve().parents[2]
DOCKERFILE = CONTEXT / "job" / "Dockerfile"
MISSING_HOME = "/nonexistent"  # HOME of a user whose home directory was never created
_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


@dataclass(frozen=True)
class Copy:
    sources: tuple[str, ...]
    dest: str  # absolute, in the image
    stage: str | None = None  # `COPY --from=STAGE`; None: from the build context


@dataclass
class Stage:
    base: str
    name: str | None = None
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    entrypoint_shell: bool = False  # shell-form ENTRYPOINT: Docker ignores CMD and `command`
    workdir: str = "/"
    env: dict[str, str] = field(default_factory=dict)  # in order, `$VAR`s as written
    user: str | None = None
    copies: list[Copy] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    cmd_set: bool = False  # CMD given in this stage (not inherited)


@dataclass(frozen=True)
class LocalRun:
    argv: list[str]
    cwd: Path
    env: dict[str, str]


@dataclass(frozen=True)
class Image:
    stages: tuple[Stage, ...]
    context: Path = CONTEXT

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    def stage(self, name: str) -> Stage:
        return next(stage for stage in self.stages if stage.name == name)

    @property
    def python_version(self) -> str | None:
        """`3.11` for `FROM python:3.11-slim-bookworm`."""
        match = re.match(r"(?:docker\.io/(?:library/)?)?python:(\d+\.\d+)", self.final.base)
        return match.group(1) if match else None

    def argv(self, command: Sequence[str] | None = None) -> list[str]:
        """What the container runs for a job whose `command` (Docker's Cmd) is `command`: the
        ENTRYPOINT followed by `command`, or by the image's CMD when `command` is empty."""
        if self.final.entrypoint_shell:
            return list(self.final.entrypoint)
        argv = [*self.final.entrypoint, *(command or self.final.cmd)]
        if not argv:
            raise ValueError("the image has neither an ENTRYPOINT nor a CMD, and no command given")
        return argv

    def stage_copies(self) -> dict[str, str]:
        """Image directories copied from another stage (`COPY --from=build /opt/venv /opt/venv`):
        what the build stage installed. Locally that is this interpreter's environment."""
        return {copy.dest.rstrip("/"): sys.prefix for copy in self.final.copies if copy.stage}

    def context_paths(self) -> dict[str, str]:
        """WORKDIR -> the build context, valid because every COPY from the context puts its
        source at the same path under WORKDIR (ValueError otherwise)."""
        workdir = self.final.workdir
        for copy in self.final.copies:
            if copy.stage is not None:
                continue
            for source in copy.sources:
                if len(copy.sources) > 1:
                    target = posixpath.join(copy.dest, posixpath.basename(source.rstrip("/")))
                else:
                    target = copy.dest
                relative = posixpath.normpath(posixpath.relpath(target, workdir))
                if relative != posixpath.normpath(source):
                    raise ValueError(
                        f"COPY {source} {copy.dest}: not at the same path under WORKDIR "
                        f"{workdir}, so the build context cannot stand in for it"
                    )
        return {workdir.rstrip("/") or "/": str(self.context)}

    def local_paths(self) -> dict[str, str]:
        """Image path -> this machine's: WORKDIR -> the context, the build stage's venv -> ours."""
        return {**self.context_paths(), **self.stage_copies()}

    def env(
        self, host: Mapping[str, str], paths: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """The final stage's ENV with the image's paths mapped to this machine's (`paths`,
        default `local_paths()`); `$VAR`s expand against the host's value where the base
        image's would be."""
        paths = self.local_paths() if paths is None else paths
        values: dict[str, str] = {}
        for name, raw in self.final.env.items():
            seen = {**host, **values}
            values[name] = _VARIABLE.sub(partial(_expand, seen), _map_paths(raw, paths))
        if self.runs_as_root is False and not self.creates_home:
            values["HOME"] = MISSING_HOME
        return values

    @property
    def runs_as_root(self) -> bool:
        return self.final.user in (None, "", "0", "root") or (self.final.user or "").startswith(
            ("0:", "root:")
        )

    @property
    def creates_home(self) -> bool:
        """False when the final stage adds its user with `useradd --no-create-home` (or -M)."""
        for run in self.final.runs:
            words = shlex.split(run)
            if "useradd" in words and ("--no-create-home" in words or "-M" in words):
                return False
        return True

    def local_run(
        self,
        command: Sequence[str] | None,
        *,
        host_env: Mapping[str, str],
        python: str | None = sys.executable,
        paths: Mapping[str, str] | None = None,
    ) -> LocalRun:
        """The host process standing in for the container: argv, working directory (WORKDIR
        mapped) and the image's environment over `host_env`. A bare `python` in argv becomes
        `python` (default: this interpreter); with `python=None` it is looked up in the PATH the
        image sets, as in the container."""
        paths = self.local_paths() if paths is None else paths
        env = {**host_env, **self.env(host_env, paths)}
        argv = self.argv(command)
        if argv[0] in ("python", "python3") and python is not None:
            argv = [python, *argv[1:]]
        elif "/" not in argv[0]:  # not found: left as is, for the start to fail as in Docker
            argv = [shutil.which(argv[0], path=env.get("PATH", "")) or argv[0], *argv[1:]]
        return LocalRun(argv=argv, cwd=Path(_map_paths(self.final.workdir, paths)), env=env)


@cache
def load(path: Path = DOCKERFILE) -> Image:
    """The image `path` describes (cached: the Dockerfile does not change under a running stack)."""
    return parse(path.read_text(), context=CONTEXT if path == DOCKERFILE else path.parent.parent)


def _expand(seen: Mapping[str, str], match: re.Match[str]) -> str:
    return seen.get(match.group(1) or match.group(2), "")


def parse(text: str, *, context: Path = CONTEXT) -> Image:
    stages: list[Stage] = []
    for instruction, arguments in _instructions(text):
        if instruction == "FROM":
            stages.append(_new_stage(arguments, stages))
        elif stages:
            _apply(stages[-1], instruction, arguments)
        elif instruction != "ARG":
            raise ValueError(f"{instruction} before FROM")
    if not stages:
        raise ValueError("no FROM: not a Dockerfile")
    return Image(tuple(stages), context)


def _new_stage(arguments: str, stages: list[Stage]) -> Stage:
    words = [w for w in arguments.split() if not w.startswith("--")]
    name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
    parent = next((s for s in stages if s.name == words[0]), None)
    if parent is None:
        return Stage(base=words[0], name=name)
    # FROM an earlier stage: its settings carry over, not its COPYs and RUNs
    stage = replace(parent, name=name, env=dict(parent.env), copies=[], runs=[])
    stage.cmd_set = False
    return stage


def _apply(stage: Stage, instruction: str, arguments: str) -> None:
    """One instruction of a stage, as Docker applies it."""
    if instruction == "ENTRYPOINT":
        stage.entrypoint, shell = _exec_or_shell(arguments)
        stage.entrypoint_shell = shell
        if not stage.cmd_set:  # Docker: ENTRYPOINT resets a CMD inherited from the base
            stage.cmd = ()
    elif instruction == "CMD":
        stage.cmd, _ = _exec_or_shell(arguments)
        stage.cmd_set = True
    elif instruction == "WORKDIR":
        stage.workdir = posixpath.normpath(posixpath.join(stage.workdir, arguments.strip()))
    elif instruction == "ENV":
        stage.env.update(_env_pairs(arguments))
    elif instruction == "USER":
        stage.user = arguments.strip()
    elif instruction in ("COPY", "ADD"):
        stage.copies.append(_copy(arguments, stage.workdir))
    elif instruction == "RUN":
        stage.runs.append(arguments)


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    result: list[tuple[str, str]] = []
    current = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        word, _, rest = current.partition(" ")
        result.append((word.upper(), rest.strip()))
        current = ""
    if current.strip():
        word, _, rest = current.strip().partition(" ")
        result.append((word.upper(), rest.strip()))
    return result


def _exec_or_shell(arguments: str) -> tuple[tuple[str, ...], bool]:
    """Exec form (a JSON array of strings) as is; shell form runs under `/bin/sh -c`."""
    if arguments.startswith("["):
        try:
            words = json.loads(arguments)
        except ValueError:
            words = None
        if isinstance(words, list) and all(isinstance(w, str) for w in words):
            return tuple(words), False
    return ("/bin/sh", "-c", arguments), True


def _env_pairs(arguments: str) -> dict[str, str]:
    words = shlex.split(arguments, posix=True)
    if words and "=" not in words[0]:  # legacy `ENV NAME value with spaces`
        name, _, value = arguments.partition(" ")
        return {name: value.strip()}
    return dict(word.split("=", 1) for word in words)


def _copy(arguments: str, workdir: str) -> Copy:
    words = shlex.split(arguments)
    stage = None
    paths = []
    for word in words:
        if word.startswith("--from="):
            stage = word.split("=", 1)[1]
        elif not word.startswith("--"):
            paths.append(word)
    if arguments.lstrip().startswith("[") and not stage:
        paths = json.loads(arguments)
    *sources, dest = paths
    return Copy(tuple(sources), posixpath.join(workdir, dest), stage)


def _map_paths(value: str, paths: Mapping[str, str]) -> str:
    """Each `:`-separated item at or below an image path, moved to the local path."""
    items = []
    for item in value.split(":"):
        for image_path, local_path in sorted(paths.items(), key=lambda p: -len(p[0])):
            if item == image_path or item.startswith(image_path.rstrip("/") + "/"):
                item = local_path + item[len(image_path.rstrip("/")) :]
                break
        items.append(item)
    return ":".join(items)
