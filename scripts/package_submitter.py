"""Build build/submitter.zip: the Lambda code (`submitter` without its `cli` and `local`
subpackages, and `config`) and the non-boto3 dependencies as Lambda-platform wheels, at the exact
versions of uv.lock, with their bytecode compiled for the runtime's Python.

boto3, botocore and jmespath are left out: the Lambda Python runtime ships them (already compiled).

Why bytecode: Lambda's /var/task is read-only, so Python cannot cache what it compiles there; a zip
without `__pycache__` makes every cold start compile our code, pydantic and powertools again
(benchmarks/bench_submit.py measures both: about a third of the cold import). The pyc files are
`checked-hash` (valid whatever the files' times after unzipping; a changed source is recompiled
rather than ignored) and record /var/task paths, not the build's temporary folder (the same inputs
give the same zip).
The compiling Python must be the runtime's minor version (the bytecode format changes with it).

Beside the zip it writes what the zip was built for (`build/submitter.json`: `architecture`,
`python`). Terraform reads it: `lambda_architecture` left null follows it, and a value that
disagrees stops the plan (a Lambda set to x86_64 cannot import arm64 wheels' pydantic-core).

Usage: python scripts/package_submitter.py [--arch x86_64|arm64] [--python 3.12] [--out PATH]
       [--compile-with PYTHON | --no-compile]
"""

from __future__ import annotations

import argparse
import glob
import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGED = (
    "aws-lambda-powertools",
    "pydantic",
    "pydantic-core",
    "annotated-types",
    "typing-extensions",
    "typing-inspection",
)
# What the Lambda Python runtime provides: the benchmark builds it beside the zip (--runtime-sdk).
RUNTIME_SDK = (
    "boto3",
    "botocore",
    "jmespath",
    "s3transfer",
    "python-dateutil",
    "six",
    "urllib3",
)
PLATFORMS = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}
# package -> its subpackages left out of the zip: the `batchscore` CLI and the local emulator.
# Whole subpackages, never file names: a module added to `submitter` ships, one added to the CLI
# does not, without anyone editing this list.
LEFT_OUT: dict[str, tuple[str, ...]] = {"submitter": ("cli", "local"), "config": ()}
FIXED_TIME = (2026, 1, 1, 0, 0, 0)  # the same inputs give the same zip
LAMBDA_TASK_ROOT = "/var/task"  # where Lambda unpacks the zip; recorded in the bytecode
# The runtime terraform deploys (var.lambda_runtime, a test holds them equal): bytecode of another
# minor version would be ignored, and every cold start would compile again.
LAMBDA_PYTHON = "3.12"


def locked_versions(names: tuple[str, ...]) -> dict[str, str]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    versions = {p["name"]: p["version"] for p in lock["package"]}
    missing = [name for name in names if name not in versions]
    if missing:
        raise SystemExit(f"not in uv.lock: {', '.join(missing)}")
    return {name: versions[name] for name in names}


def install_wheels(target: Path, arch: str, python: str, names: tuple[str, ...] = PACKAGED) -> None:
    pins = [f"{name}=={version}" for name, version in locked_versions(names).items()]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-compile",  # pip would compile with *this* Python; compile() uses the runtime's
            "--only-binary=:all:",
            "--platform",
            PLATFORMS[arch],
            "--implementation",
            "cp",
            "--python-version",
            python,
            "--target",
            str(target),
            *pins,
        ],
        check=True,
    )
    shutil.rmtree(target / "bin", ignore_errors=True)


def find_python(version: str) -> str | None:
    """An interpreter of `version` ("3.12"): this one, `python3.12` on PATH, then pyenv's."""
    candidates = [sys.executable, shutil.which(f"python{version}")]
    candidates += sorted(glob.glob(str(Path.home() / f".pyenv/versions/{version}.*/bin/python")))
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    return None


def compile_tree(folder: Path, python: str) -> None:
    """Bytecode for every module under `folder`, as if `folder` were /var/task."""
    subprocess.run(
        [
            python,
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            "checked-hash",
            "-s",
            str(folder),
            "-p",
            LAMBDA_TASK_ROOT,
            str(folder),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def stage_sources(site: Path) -> None:
    for package, skip in LEFT_OUT.items():
        for name in skip:
            if not (ROOT / package / name / "__init__.py").is_file():
                raise SystemExit(f"{package}/{name} is not a subpackage: LEFT_OUT names packages")
        shutil.copytree(
            ROOT / package,
            site / package,
            ignore=lambda folder, names, skip=skip, top=ROOT / package: [
                n
                for n in names
                if n == "__pycache__" or (Path(folder) == top and n in skip) or n.endswith(".pyc")
            ],
        )


def write_zip(out: Path, site: Path, python: str) -> None:
    tag = f".cpython-{python.replace('.', '')}."
    partial = out.with_suffix(".zip.partial")
    with zipfile.ZipFile(partial, "w", compresslevel=9) as archive:
        for path in sorted(site.rglob("*")):
            if path.is_dir() or (path.suffix == ".pyc" and tag not in path.name):
                continue
            info = zipfile.ZipInfo(path.relative_to(site).as_posix(), FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    partial.replace(out)


def manifest_path(out: Path) -> Path:
    """Where the zip's manifest goes: build/submitter.zip -> build/submitter.json (terraform
    looks there: lambda.tf's local.submitter_manifest_path)."""
    return out.with_suffix(".json")


def write_manifest(out: Path, arch: str, python: str) -> Path:
    """What the zip at `out` was built for, for Terraform to deploy it on the same."""
    path = manifest_path(out)
    manifest = {"architecture": arch, "python": python, "zip": out.name}
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return path


def build(out: Path, arch: str, python: str, compile_with: str | None) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="submitter-zip-") as tmp:
        site = Path(tmp)
        install_wheels(site, arch, python)
        stage_sources(site)
        if compile_with:
            compile_tree(site, compile_with)
        write_zip(out, site, python)
    write_manifest(out, arch, python)
    return out


def build_runtime_sdk(target: Path, arch: str, python: str, compile_with: str | None) -> Path:
    """What the Lambda runtime puts on sys.path beside the zip (boto3 and what it needs),
    compiled like the runtime's own copy is: for measuring the zip as Lambda loads it."""
    install_wheels(target, arch, python, RUNTIME_SDK)
    if compile_with:
        compile_tree(target, compile_with)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", choices=sorted(PLATFORMS), default="x86_64")
    parser.add_argument("--python", default=LAMBDA_PYTHON, help="the Lambda runtime's Python")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "submitter.zip")
    parser.add_argument("--compile-with", help="a Python of --python's version to compile with")
    parser.add_argument(
        "--no-compile", action="store_true", help="no bytecode (every cold start compiles)"
    )
    parser.add_argument(
        "--runtime-sdk", type=Path, help="also install the runtime's boto3 there (benchmarks)"
    )
    args = parser.parse_args(argv)
    compile_with = None
    if not args.no_compile:
        compile_with = args.compile_with or find_python(args.python)
        if compile_with is None:
            raise SystemExit(
                f"no Python {args.python} found to compile the bytecode with (looked at this "
                f"interpreter, python{args.python} on PATH and ~/.pyenv/versions): install one, "
                "pass --compile-with PATH, or --no-compile (every cold start then compiles)"
            )
    zip_path = build(args.out, args.arch, args.python, compile_with)
    if args.runtime_sdk:
        build_runtime_sdk(args.runtime_sdk, args.arch, args.python, compile_with)
    size = zip_path.stat().st_size
    shown = zip_path.relative_to(ROOT) if zip_path.is_relative_to(ROOT) else zip_path
    compiled = f"bytecode by {compile_with}" if compile_with else "no bytecode"
    print(f"{shown}: {size / 1024 / 1024:.1f} MiB ({size} bytes, {args.arch}, {compiled})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
