"""The project's own subcommands, next to LightningCLI's fit/validate/test/predict."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

from lightning_xfer.errors import UserError


def tasks_command(argv: list[str]) -> None:
    """List the task catalogue."""
    parser = argparse.ArgumentParser(
        allow_abbrev=False, prog="lightning_xfer tasks", description="List the task catalogue."
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per task")
    args = parser.parse_args(argv)
    from lightning_xfer.tasks import catalogue

    rows = []
    for task in catalogue().values():
        rows.append(
            {
                "name": task.name,
                "role": task.role,
                "benchmarks": list(task.benchmarks),
                "family": type(task.family).__name__,
                "languages": list(task.languages),
                "metric": task.primary_metric,
                "labels": list(task.labels),
                "train_from": task.train_from.name if task.train_from else None,
                "local_files": dict(task.local.files) if task.local else None,
                "hub": f"{task.hub.path}:{task.hub.config}" if task.hub else None,
                "domain": task.domain,
                "description": task.description,
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    print(f"{'task':<18}{'role':<14}{'family':<16}{'metric':<10}{'langs':>6}  benchmarks")
    for row in rows:
        print(
            f"{row['name']:<18}{row['role']:<14}{row['family']:<16}{row['metric']:<10}"
            f"{len(row['languages']):>6}  {','.join(row['benchmarks']) or '-'}"
        )


def encoders_command(argv: list[str]) -> None:
    """Prepare offline encoders."""
    parser = argparse.ArgumentParser(
        allow_abbrev=False, prog="lightning_xfer encoders", description="Prepare offline encoders."
    )
    sub = parser.add_subparsers(dest="action", required=True)
    prepare = sub.add_parser("prepare", allow_abbrev=False, help="build an offline encoder into the cache")
    prepare.add_argument("name", help="multilingual-e5-small, tiny or small")
    prepare.add_argument("--seed", type=int, default=0, help="seed of a tiny/small preset")
    args = parser.parse_args(argv)
    from lightning_xfer.encoder import multilingual_e5_small, presets

    if args.name == multilingual_e5_small.NAME:
        directory = multilingual_e5_small.prepare()
        record = json.loads((directory / "conversion.json").read_text())
        print(f"{args.name} prepared in {directory}")
        print(f"  parameters: {record['parameters']:,}; weights sha256 {record['weights_sha256']}")
        print(f"  retrieval sanity check (top-1 of 10 parallel sentences): {record['sanity_check']}")
        print(f"  note: {record['note']}")
    elif args.name in presets.PRESETS:
        print(f"{args.name} ready in {presets.preset_directory(args.name, args.seed)}")
    else:
        raise UserError(f"unknown offline encoder {args.name!r}; known: multilingual-e5-small, tiny, small")


def study_command(argv: list[str]) -> None:
    """The study grid: show, run, status, results (lightning_xfer.study)."""
    from lightning_xfer.study.command import study_command as run

    run(argv)


def report_command(argv: list[str]) -> None:
    """The robustness report of a study's results table (lightning_xfer.report)."""
    from lightning_xfer.report import report_command as run

    run(argv)


def score_command(argv: list[str]) -> None:
    """Score a submission folder against labels with the official metrics (lightning_xfer.scoring)."""
    from lightning_xfer.scoring import score_command as run

    run(argv)


def plan_command(argv: list[str]) -> None:
    """Per-GPU memory under each sharding strategy (lightning_xfer.scale.plan)."""
    from lightning_xfer.scale.command import plan_command as run

    run(argv)


def consolidate_command(argv: list[str]) -> None:
    """A sharded checkpoint's encoder as a save_pretrained folder (lightning_xfer.export)."""
    from lightning_xfer.scale.command import consolidate_command as run

    run(argv)


COMMANDS: dict[str, Callable[[list[str]], None]] = {
    "score": score_command,
    "tasks": tasks_command,
    "encoders": encoders_command,
    "study": study_command,
    "report": report_command,
    "plan": plan_command,
    "consolidate": consolidate_command,
}
