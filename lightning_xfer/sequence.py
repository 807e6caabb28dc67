"""Run a fixed sequence of `fit`/`validate`/`test` steps from one YAML file.

A stop-gap for small studies until the study pipeline exists: no dependency graph, no resume, no
parallel workers; steps run in order, each in its own process, and the first failure stops the
sequence. `${name}` in the file and in the config files it lists is replaced from `variables`
(and `--set name=value`), so a study's data paths are stated once:

    variables: {data: ../shared/data, out: runs/real-mini}
    steps:
      - name: sst2
        command: fit
        configs: [configs/encoders/multilingual-e5-small.yaml, configs/studies/real-mini/sst2.yaml]
        args: [--trainer.default_root_dir=${out}/sst2, --export.dirpath=${out}/sst2/encoder]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from lightning_xfer.errors import UserError

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def substitute(text: str, variables: dict[str, str], where: str) -> str:
    def value(match: re.Match) -> str:
        if match.group(1) not in variables:
            raise UserError(f"{where}: ${{{match.group(1)}}} is not among the variables {sorted(variables)}")
        return str(variables[match.group(1)])

    return _VARIABLE.sub(value, text)


def load_steps(path: Path, overrides: dict[str, str]) -> list[dict]:
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise UserError(f"{path}: cannot read the sequence ({error})") from None
    if not isinstance(document, dict) or not isinstance(document.get("steps"), list):
        raise UserError(f"{path}: expected a mapping with a `steps:` list")
    variables = {**{k: str(v) for k, v in (document.get("variables") or {}).items()}, **overrides}
    steps = []
    for number, step in enumerate(document["steps"], start=1):
        where = f"{path}, step {number}"
        if not isinstance(step, dict) or step.get("command") not in ("fit", "validate", "test"):
            raise UserError(f"{where}: each step needs `command:` fit, validate or test")
        steps.append({
            "name": step.get("name", f"step-{number}"),
            "command": step["command"],
            "configs": [substitute(str(c), variables, where) for c in step.get("configs", [])],
            "args": [substitute(str(a), variables, where) for a in step.get("args", [])],
            "variables": variables,
        })  # fmt: skip
    return steps


def resolved_config(path: str, variables: dict[str, str], directory: Path) -> str:
    """A copy of a config file with its `${...}` variables filled in."""
    source = Path(path)
    if not source.exists():
        raise UserError(f"config file {source} does not exist")
    text = source.read_text()
    if not _VARIABLE.search(text):
        return path
    target = directory / f"{len(list(directory.iterdir())):03d}-{source.name}"
    target.write_text(substitute(text, variables, str(source)))
    return str(target)


def sequence_command(argv: list[str]) -> None:
    """Run the steps of a sequence file in order."""
    parser = argparse.ArgumentParser(prog="lightning_xfer sequence", description=__doc__.split("\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override a variable")
    parser.add_argument("--dry-run", action="store_true", help="print the commands without running them")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="TEXT",
        help="run only the steps whose name contains TEXT (repeatable)",
    )
    args = parser.parse_args(argv)
    overrides = dict(item.split("=", 1) for item in args.set if "=" in item)
    steps = [s for s in load_steps(args.file, overrides) if not args.only or any(t in s["name"] for t in args.only)]
    if not steps:
        raise UserError(f"{args.file}: no step matches --only {args.only}")
    with tempfile.TemporaryDirectory(prefix="lightning_xfer_sequence_") as scratch:
        for step in steps:
            configs = [resolved_config(c, step["variables"], Path(scratch)) for c in step["configs"]]
            command = [sys.executable, "-m", "lightning_xfer", step["command"]]
            command += [part for c in configs for part in ("--config", c)] + step["args"]
            print(f"== {step['name']}: {' '.join(command[2:])}", flush=True)
            if args.dry_run:
                continue
            start = time.time()
            if subprocess.run(command).returncode != 0:
                raise UserError(f"step {step['name']} failed; the steps before it are complete")
            print(f"== {step['name']} done in {time.time() - start:.0f} s", flush=True)
