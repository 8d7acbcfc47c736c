"""Build build/submitter.zip: the Lambda code (`submitter` without the CLI, `config`) and the
non-boto3 dependencies as Lambda-platform wheels, at the exact versions of uv.lock.

boto3, botocore and jmespath are left out: the Lambda Python runtime ships them.
Usage: python scripts/package_submitter.py [--arch x86_64|arm64] [--python 3.12] [--out PATH]
"""

from __future__ import annotations

import argparse
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
PLATFORMS = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}
# package -> what is left out: the CLI side (command, its read-side views, the local runtime).
SOURCES = {"submitter": {"cli.py", "views.py", "queries.py", "local"}, "config": set()}
FIXED_TIME = (2026, 1, 1, 0, 0, 0)  # the same inputs give the same zip


def locked_versions(names: tuple[str, ...]) -> dict[str, str]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    versions = {p["name"]: p["version"] for p in lock["package"]}
    missing = [name for name in names if name not in versions]
    if missing:
        raise SystemExit(f"not in uv.lock: {', '.join(missing)}")
    return {name: versions[name] for name in names}


def install_wheels(target: Path, arch: str, python: str) -> None:
    pins = [f"{name}=={version}" for name, version in locked_versions(PACKAGED).items()]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
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


def add_tree(archive: zipfile.ZipFile, base: Path, folder: Path, skip: set[str]) -> None:
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(base)
        if path.is_dir() or "__pycache__" in relative.parts or path.suffix == ".pyc":
            continue
        if path.relative_to(folder).parts[0] in skip:
            continue
        info = zipfile.ZipInfo(relative.as_posix(), FIXED_TIME)
        info.external_attr = 0o644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, path.read_bytes())


def build(out: Path, arch: str, python: str) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="submitter-zip-") as tmp:
        site = Path(tmp)
        install_wheels(site, arch, python)
        shutil.rmtree(site / "bin", ignore_errors=True)
        partial = out.with_suffix(".zip.partial")
        with zipfile.ZipFile(partial, "w", compresslevel=9) as archive:
            for package, skip in SOURCES.items():
                add_tree(archive, ROOT, ROOT / package, skip)
            add_tree(archive, site, site, set())
        partial.replace(out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", choices=sorted(PLATFORMS), default="x86_64")
    parser.add_argument("--python", default="3.12", help="the Lambda runtime's Python version")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "submitter.zip")
    args = parser.parse_args(argv)
    zip_path = build(args.out, args.arch, args.python)
    size = zip_path.stat().st_size
    shown = zip_path.relative_to(ROOT) if zip_path.is_relative_to(ROOT) else zip_path
    print(f"{shown}: {size / 1024 / 1024:.1f} MiB ({size} bytes, {args.arch})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
