"""Package the app for one stage into build/<stage>/: the merge template generated from infra/, then
`chalice package --merge-template` into build/<stage>/package/ (sam.json + deployment.zip).

    python -m infra.package --stage dev [--out build/dev]

The generated files are build output (build/ is git-ignored); tests/infra packages afresh each run.
Packaging needs no AWS account or credentials; Chalice only wants a region name to be set."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .stage import DEPLOYABLE_STAGES, ROOT
from .template import template


def chalice_command() -> list[str]:
    beside = Path(sys.executable).with_name("chalice")
    found = str(beside) if beside.exists() else shutil.which("chalice")
    if not found:
        raise RuntimeError("the chalice CLI is not installed (make setup installs it)")
    return [found]


def package(stage: str, out: Path) -> Path:
    """Write the merge template and the packaged app for `stage` under `out`; return the packaged template."""
    out.mkdir(parents=True, exist_ok=True)
    merge = out / "merge-template.json"
    merge.write_text(json.dumps(template(stage), indent=2) + "\n")
    packaged = out / "package"
    if packaged.exists():
        shutil.rmtree(packaged)
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"}
    subprocess.run(
        [*chalice_command(), "package", "--stage", stage, "--merge-template", str(merge), str(packaged)],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return packaged / "sam.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", choices=DEPLOYABLE_STAGES, default="dev")
    parser.add_argument("--out", type=Path, help="default: build/<stage>")
    args = parser.parse_args(argv)
    try:
        sam = package(args.stage, args.out or ROOT / "build" / args.stage)
    except subprocess.CalledProcessError as e:
        sys.stderr.write(e.stdout or "")
        return e.returncode
    print(f"packaged {args.stage}: {sam} (and deployment.zip beside it)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
