"""What every study in `configs/studies/` runs, as a fingerprint per run that survives moving settings
between files: each command's *effective* configuration (its `--config` files merged in order as
jsonargparse merges them, then its `--key=value` arguments: `lightning_xfer.effective_config`), not
the text of the files it names.

    python tests/study_snapshot.py            # check: print the runs whose configuration changed
    python tests/study_snapshot.py --write    # record today's (after a change that was meant)
    python tests/study_snapshot.py STUDY RUN  # one run's effective configuration, to diff by hand

The record is `tests/data/study_snapshot.json`; `tests/test_study_snapshot.py` holds every study to it.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

from lightning_xfer.effective_config import effective_config

PROJECT = Path(__file__).resolve().parents[1]
STUDIES = PROJECT / "configs" / "studies"
RECORD = PROJECT / "tests" / "data" / "study_snapshot.json"
VARIABLES = {"data": "/data"}
"""Variables given where a study declares them (besides `out`), as tests/test_configs.py does."""


def effective(command: tuple[str, ...], out: str) -> dict:
    """One command line's subcommand and effective configuration (`lightning_xfer.effective_config`,
    the same one a run's hash covers), with the study's `out` as `{out}`."""
    text = json.dumps(effective_config(command, PROJECT), sort_keys=True, default=str)
    return json.loads(text.replace(out, "{out}"))


def _study(study: Path, out: Path):
    """The study with `out` and `VARIABLES` given where it declares them (its own file or one it extends)."""
    from lightning_xfer.study.spec import load_study

    declared = load_study(study).variables
    given = {"out": str(out), **VARIABLES}
    return load_study(study, {name: value for name, value in given.items() if name in declared})


def snapshot(study: Path, out: Path) -> dict[str, str]:
    """Run id -> fingerprint of its phase, dependencies and every command's effective configuration."""
    from lightning_xfer.study.graph import expand

    runs = expand(_study(study, out))
    record = {}
    for run in runs:
        material = {"phase": run.phase, "depends_on": run.depends_on, "tuning": run.tuning,
                    "commands": [effective(command, str(out)) for command in run.commands]}  # fmt: skip
        record[run.id] = hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:12]
    return record


def snapshots() -> dict[str, dict[str, str]]:
    with tempfile.TemporaryDirectory() as directory:
        return {path.stem: snapshot(path, Path(directory) / path.stem) for path in sorted(STUDIES.glob("*.yaml"))}


def differences(recorded: dict, now: dict) -> list[str]:
    """Each study or run that appeared, disappeared or runs another configuration."""
    lines = []
    for study in sorted(set(recorded) | set(now)):
        before, after = recorded.get(study, {}), now.get(study, {})
        lines += [f"{study}: {run} is new" for run in sorted(set(after) - set(before))]
        lines += [f"{study}: {run} is gone" for run in sorted(set(before) - set(after))]
        lines += [f"{study}: {run} runs another configuration" for run in sorted(set(before) & set(after))
                  if before[run] != after[run]]  # fmt: skip
    return lines


def main(argv: list[str]) -> None:
    import os

    os.chdir(PROJECT)
    if len(argv) == 2:
        with tempfile.TemporaryDirectory() as directory:
            from lightning_xfer.study.graph import expand

            study = STUDIES / f"{argv[0]}.yaml"
            run = next(r for r in expand(_study(study, Path(directory))) if r.id == argv[1])
            print(json.dumps([effective(c, directory) for c in run.commands], indent=1, sort_keys=True))
        return
    now = snapshots()
    if argv == ["--write"]:
        RECORD.parent.mkdir(parents=True, exist_ok=True)
        RECORD.write_text(json.dumps(now, indent=0, sort_keys=True) + "\n")
        print(f"{sum(map(len, now.values()))} runs of {len(now)} studies -> {RECORD}")
        return
    print("\n".join(differences(json.loads(RECORD.read_text()), now)) or "every study runs what it ran")


if __name__ == "__main__":
    main(sys.argv[1:])
