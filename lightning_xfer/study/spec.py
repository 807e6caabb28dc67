"""A study file: the three-phase grid of a research question, written in ~30 lines of YAML.

    study: real-mini
    out: runs/real-mini
    variables: {data: ../shared/data, steps: 100}
    encoders: [configs/encoders/multilingual-e5-small.yaml]
    intermediate: [none, squad, sst2, squad+sst2]
    tasks: {squad: configs/studies/real-mini/squad.yaml, sst2: configs/studies/real-mini/sst2.yaml}
    targets: {panx: {task: {languages: [en, de, sw]}}, tatoeba: configs/studies/real-mini/tatoeba.yaml}
    seeds: [0]
    steps: {intermediate: "${steps}", target: "${steps}"}

`${name}` in any value of the study file, and anywhere in the config files it names, is replaced
from `variables` (and `--set name=value` on the command line), as if written into the text: a
quoted `"${name}"` stays a string, an unquoted value that is one variable takes its YAML value.
A study may `extends:` another. Every field is documented below; the file is read into these
dataclasses, each value checked against its type (`typed.py`), and checked as a whole before
anything trains.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from lightning_xfer.errors import UserError
from lightning_xfer.study.typed import from_mapping, typed

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
NONE = "none"
"""The baseline condition: the target task trained straight from the pretrained encoder."""
Phase = Literal["intermediate", "target"]
"""A phase whose tasks the study names (and may give `defaults`), and whose tuning an encoder sets."""
Tuning = Literal["full", "lora"]
"""What a run trains of its encoder: every weight, or LoRA matrices on the frozen weights."""


def substitute(text: str, variables: dict[str, Any], where: str, problems: list[str]) -> str:
    """`text` with every `${name}` replaced; unknown names are added to `problems`."""

    def value(match: re.Match) -> str:
        if match.group(1) not in variables:
            problems.append(f"{where}: ${{{match.group(1)}}} is not among the variables {sorted(variables)}")
            return match.group(0)
        found = variables[match.group(1)]
        if found is None or isinstance(found, bool):  # as YAML writes them, not Python's None / True
            return {None: "null", True: "true", False: "false"}[found]
        return str(found)

    return _VARIABLE.sub(value, text)


class _Quoted(str):
    """A quoted string of a study file with a `${name}` in it: the variable is written into it as
    text, so `"${lang}"` with `lang=no` stays the string `no` (unquoted, YAML reads it as false)."""


class _StudyLoader(yaml.SafeLoader):
    """YAML's safe loader, marking quoted strings that hold a variable (`_Quoted`)."""


def _string(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> str:
    value = loader.construct_scalar(node)
    return _Quoted(value) if node.style in ("'", '"') and "${" in value else value


_StudyLoader.add_constructor("tag:yaml.org,2002:str", _string)


def substitute_document(value: Any, variables: dict[str, Any], where: str, problems: list[str]) -> Any:
    """A parsed YAML document with `${name}` filled in, as if into its text: an unquoted value that is
    one variable and nothing else takes the variable's YAML value (`seeds: ${seeds}` with `seeds:
    "[0, 1]"` is a list), a variable inside a longer or a quoted string is written into it as text
    (`--model.encoder.name=${name}`, `data_dir: "${ccg}"`)."""
    if isinstance(value, dict):
        return {key: substitute_document(item, variables, where, problems) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute_document(item, variables, where, problems) for item in value]
    if not isinstance(value, str) or "${" not in value:
        return value
    filled = substitute(value, variables, where, problems)
    whole = _VARIABLE.fullmatch(value)
    if whole is None or isinstance(value, _Quoted) or whole.group(1) not in variables:
        return filled
    found = variables[whole.group(1)]
    if not isinstance(found, str):
        return found
    try:
        return yaml.safe_load(found)
    except yaml.YAMLError as error:
        reason = getattr(error, "problem", None) or str(error).splitlines()[0]
        problems.append(f"{where}: ${{{whole.group(1)}}} = {found!r} is not a YAML value ({reason})")
        return found


@dataclass
class EncoderEntry:
    """One pretrained encoder of the study."""

    name: str
    """Short readable name used in run ids and the results table (`xlm-roberta-large`, `e5-small`)."""
    configs: list[str] = field(default_factory=list)
    """Config files composed first in every run of this encoder (`configs/encoders/<name>.yaml`, a
    scale config, ...)."""
    args: list[str] = field(default_factory=list)
    """Extra command-line overrides for every run of this encoder (`--model.learning_rate=1e-5`)."""
    slurm: dict[str, Any] = field(default_factory=dict)
    """This encoder's SLURM settings where they differ from the study's `slurm:` (XXL: `{nodes: 2,
    gpus_per_node: 8}`); under `--executor slurm` its runs get `--trainer.devices` and
    `--trainer.num_nodes` to match."""
    tuning: dict[Phase, Tuning] = field(default_factory=lambda: {"intermediate": "full", "target": "full"})
    """What each phase trains of the encoder: `full` or `lora` (`model.encoder.tuning`); written as one
    value for both phases (`tuning: lora`) or per phase (`{intermediate: lora, target: full}`). The
    results table's `tuning` column records it per run."""
    handoff: Literal["merge", "stack"] = "merge"
    """How a LoRA intermediate run's adapter reaches its target runs: `merge`d into the weights, or
    kept and `stack`ed under the target's own LoRA (`model.encoder.adapter_handoff`)."""
    pretrain: str | None = None
    """A config file (an MLM task on a corpus) that pre-trains this encoder first: one `pretrain`
    run (fit, then test of its masked-token accuracy per language) whose exported encoder starts
    every other run of the entry. For encoders built from scratch, such as the embedded world's."""
    pretrain_seed: int = 0
    """Seed of the pre-training run (one per entry; the study's seeds vary the later phases)."""

    def phase_tuning(self, phase: str) -> str:
        """`full` or `lora` for a run of `phase` (pre-training builds the encoder: every weight trains;
        a zero-shot run is evaluated as its target phase trains)."""
        return "full" if phase == "pretrain" else self.tuning["target" if phase == "zero-shot" else phase]

    def tuning_label(self, phase: str, condition: str) -> str:
        """The run's `tuning` column: `full`, `lora`, or `lora-stacked` (a LoRA target run whose
        intermediate adapter is kept under its own)."""
        tuning = self.phase_tuning(phase)
        stacked = phase == "target" and condition != NONE and self.tuning["intermediate"] == "lora"
        return f"{tuning}-stacked" if tuning == "lora" and stacked and self.handoff == "stack" else tuning


@dataclass
class SlurmSettings:
    """Where and how SLURM runs each job (`study run --executor slurm`); passed to submitit."""

    partition: str | None = None
    """SLURM partition."""
    timeout_min: int = 24 * 60
    """Wall-time limit of one job; a job that hits it is requeued and resumes from its checkpoint."""
    nodes: int = 1
    """Nodes per run (a multi-node DeepSpeed run is one job with several nodes)."""
    gpus_per_node: int = 1
    """GPUs per node; Lightning's `trainer.devices`/`num_nodes` should match (set them in a config)."""
    cpus_per_task: int = 8
    """CPU cores per task."""
    mem_gb: int | None = None
    """Memory per node in GiB (None: the partition's default)."""
    additional: dict[str, Any] = field(default_factory=dict)
    """Any other `sbatch` option, as submitit's `slurm_additional_parameters` (account, qos, ...)."""
    max_array_size: int = 1000
    """Most jobs in one job array: SLURM refuses arrays above its MaxArraySize (1001 unless the
    cluster's slurm.conf raises it: `scontrol show config | grep MaxArraySize`), so larger phases
    are submitted as several arrays."""


@dataclass
class HardwareSettings:
    """The GPUs the study's estimates assume (`hardware:` in the study file)."""

    gpu_memory_gib: float = 80.0
    """Memory of one GPU."""
    cpu_memory_gib: float | None = 512.0
    """CPU memory of one node (`plan`'s assumption unless set); null: not checked (offload strategies
    then look cheaper than they are: 176B offloaded to one node's CPU memory needs 4.4 TiB)."""
    micro_batch: int | None = None
    """Examples per GPU per forward pass that the activations are counted for; None: each run's own
    (`data.micro_batch_size` of its configs and args: ddp.yaml's 4, ZeRO-3's 1)."""
    length: int = 512
    """Tokens per example that the activations are counted for."""


@dataclass
class TaskEntry:
    """A task of the study as layers on its config, never a copy of it: `config` (default
    `configs/tasks/<name>.yaml` where that exists, else nothing but `data.tasks: [{name}]`), then the
    phase's `defaults`, then `task`: fields set on the config's `data.tasks` entry
    (`{validation_languages: [], max_eval_examples: 200}`), then `set`: the run's other settings by
    dotted key (`{model.learning_rate: 1.0e-4, data.batch_size: 16}`)."""

    config: str | None = None
    """The config file to layer on (default `configs/tasks/<name>.yaml`)."""
    task: dict[str, Any] = field(default_factory=dict)
    """Fields of the task's `data.tasks` entry (`TaskConfig`: languages, data_dir, max_eval_examples, ...)."""
    set: dict[str, Any] = field(default_factory=dict)
    """Any other setting of the task's runs, by its dotted key (`model.learning_rate`), given as
    `--key=value` after every config file (a LoRA phase's `configs/tuning/lora.yaml` too); the
    study's and the encoder's `args` and `steps` come after it."""


TaskSource = str | TaskEntry
"""A task's config file as it is (a path), or layers on one (`TaskEntry`)."""


@dataclass
class StudySpec:
    """A study: encoders x intermediate conditions x targets x seeds."""

    study: str
    """The study's name: the `study` column of the results table and the W&B group."""
    extends: str | None = None
    """Another study file (a path relative to this one) this study is a change of: its keys are
    taken, then replaced by each top-level key this file sets, except `variables`, which merge by
    name (this file's values win). `embedded-sizes.yaml` is `embedded.yaml` with three encoders."""
    out: str = "runs/study"
    """Directory of the study: one subdirectory per run, named by the run's id."""
    encoders: list[EncoderEntry] = field(default_factory=list)
    """Encoders: a config file (its stem is the name), a name (its `configs/encoders/<name>.yaml`,
    or `--model.encoder.name`), or a mapping with `name`, `configs` and `args`."""
    intermediate: list[str] = field(default_factory=lambda: [NONE])
    """Intermediate conditions: `none`; a task; several trained together joined by `+`
    (`squad+sst2`); a task group (`phang-all`: its members, each with its own config); `mlm`
    (continued masked-LM); combinations (`squad+mlm`). A multi-task run takes its other settings
    (batch size, learning rate, epochs) from the first member's config."""
    tasks: dict[str, TaskSource] = field(default_factory=dict)
    """Intermediate task -> its config file, or a mapping (`TaskEntry`: `config`, `task`) layered on
    one; a task not listed uses `configs/tasks/<task>.yaml` (with `defaults.intermediate`, layered)."""
    targets: dict[str, TaskSource] = field(default_factory=dict)
    """Target task -> its config file or a `TaskEntry` mapping; a list of names uses
    `configs/tasks/<name>.yaml` (with `defaults.target`, layered). Targets whose task needs no
    training (Tatoeba, BUCC) are only evaluated, straight after the intermediate phase."""
    defaults: dict[Phase, TaskEntry] = field(default_factory=dict)
    """Per phase (`intermediate`, `target`): `task` fields layered under every task of that phase that
    is not a plain config file, so a study sets them once instead of in a copy of each task's config."""
    seeds: list[int] = field(default_factory=lambda: [0])
    """Seeds: every run of the grid is repeated per seed (the seed also picks training subsamples)."""
    steps: dict[Literal["pretrain", "intermediate", "target"], int] = field(default_factory=dict)
    """Training steps per phase (`pretrain`, `intermediate`, `target`); a phase not named keeps its
    configs' epochs."""
    base: list[str] = field(default_factory=list)
    """Config files composed into every run before the task's (a trainer config, a logger config)."""
    args: list[str] = field(default_factory=list)
    """Overrides for every run (`--trainer.accelerator=cpu`)."""
    multitask_args: list[str] = field(default_factory=list)
    """Overrides for intermediate runs that train several tasks together (task sampling choices)."""
    checkpoint_every: int = 100
    """Steps between the `last.ckpt` saves a killed or preempted run resumes from."""
    variables: dict[str, Any] = field(default_factory=dict)
    """Values for `${name}` in this file and in the config files it names."""
    slurm: SlurmSettings = field(default_factory=SlurmSettings)
    """SLURM settings for `--executor slurm`."""
    hardware: HardwareSettings = field(default_factory=HardwareSettings)
    """The GPUs `study status` counts each run's memory for (the planner's estimate per run)."""
    wandb_project: str | None = None
    """Log every run to this W&B project (group = study, job_type = phase, name = run id)."""
    source: Path = field(default=Path("study.yaml"), repr=False, metadata={"in_file": False})
    """The study file itself (filled in when it is read)."""

    def task_source(self, name: str, phase: Phase) -> TaskSource:
        """The config of a task the study names by name only (a target in a list, an intermediate task
        not under `tasks:`): layers on its own config when the phase has `defaults` (so that they
        apply), else its file `configs/tasks/<name>.yaml` as it is."""
        return TaskEntry() if phase in self.defaults else f"configs/tasks/{name}.yaml"


def parse_assignments(items: list[str], flag: str = "--set") -> dict[str, str]:
    """`NAME=VALUE` items of a command line as a mapping; anything else is the user's error."""
    bad = [item for item in items if "=" not in item or not item.split("=", 1)[0].strip()]
    if bad:
        raise UserError(f"{flag} {bad[0]!r}: expected NAME=VALUE (e.g. {flag} out=runs/mine)")
    return {name.strip(): value for name, value in (item.split("=", 1) for item in items)}


def _overrides(path: Path, declared: dict[str, Any], overrides: dict[str, str], problems: list[str]) -> dict[str, str]:
    """The `--set` values to use; the others are problems. A name the study does not declare would be
    ignored (`--set seed=[0]` for `seeds`), and a value that is not YAML on its own (`--set 'seeds=[0'`)
    would break the file it is written into."""
    accepted = {}
    for name, value in overrides.items():
        if name not in declared:
            close = difflib.get_close_matches(name, list(declared), n=3, cutoff=0.6)
            hint = f"did you mean {', '.join(close)}? " if close else ""
            known = ", ".join(sorted(declared)) or "none"
            problems.append(
                f"--set {name}: not a variable of {path}; {hint}its variables are {known} (a study "
                f"takes another only where its file declares it under `variables:` and uses ${{{name}}})"
            )
            continue
        try:
            yaml.safe_load(value)
        except yaml.YAMLError as error:
            reason = str(getattr(error, "problem", None) or error).splitlines()[0]
            problems.append(f"--set {name}={value}: not a YAML value ({reason}); expected e.g. {name}=[0, 1]")
            continue
        accepted[name] = value
    return accepted


def load_study(path: Path, overrides: dict[str, str] | None = None, problems: list[str] | None = None) -> StudySpec:
    """Read and check a study file; every problem is reported at once, before anything runs.

    With a `problems` list, the problems are added to it instead of raised, so that the caller can
    add those of the graph (`graph.load_runs`) and report all of them in one round.
    """
    path = Path(path)
    raw = _extended(path, _read_raw(path), ())
    found: list[str] = []
    declared = raw.get("variables") or {}
    if not isinstance(declared, dict):
        found.append(f"{path}: `variables:` expected a mapping of names to values, got {declared!r}")
        declared = {}
    variables = {**declared, **_overrides(path, declared, overrides or {}, found)}
    document = {key: value if key == "variables" else substitute_document(value, variables, str(path), found)
                for key, value in raw.items()}  # fmt: skip
    spec = _read_document(path, document, variables, found)
    if problems is not None:
        problems += found
    elif found:
        raise UserError("the study file has problems:\n  " + "\n  ".join(found))
    return spec


def _read_raw(path: Path, named_by: str = "") -> dict:
    """A study file's YAML mapping, before its variables are filled in."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_StudyLoader)  # a SafeLoader
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise UserError(f"{path}: cannot read the study file{named_by} ({str(error).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise UserError(f"{path}: expected a mapping with `study:`, `encoders:`, `targets:`, ...{named_by}")
    return raw


def _extended(path: Path, raw: dict, seen: tuple[Path, ...]) -> dict:
    """`raw` with the study it `extends` under it: the parent's keys, replaced by each key `raw`
    sets, `variables` merged by name; a parent may extend another in turn."""
    if raw.get("extends") is None:
        return raw
    parent_path = path.parent / str(raw["extends"])
    if parent_path.resolve() in (p.resolve() for p in (*seen, path)):
        chain = " -> ".join(str(p) for p in (*seen, path, parent_path))
        raise UserError(f"{path}: `extends: {raw['extends']}` goes round in a circle ({chain})")
    if "study" not in raw or ("out" not in raw and "out" not in (raw.get("variables") or {})):
        raise UserError(f"{path}: a study that extends another sets its own `study:` and `out:` (or the `out` "
                        "variable), or its runs would be the other study's, in its folder")  # fmt: skip
    named_by = f" (named by `extends:` in {path}, relative to its folder)"
    parent = _extended(parent_path, _read_raw(parent_path, named_by), (*seen, path))
    merged = {**parent, **raw}
    if isinstance(parent.get("variables"), dict) and isinstance(raw.get("variables"), dict):
        merged["variables"] = {**parent["variables"], **raw["variables"]}
    return merged


def _read_document(path: Path, document: dict, variables: dict[str, Any], problems: list[str]) -> StudySpec:
    """The study's fields from its YAML document: the shorthands written out, each field checked against
    its type (`typed.from_mapping`), then the checks that span fields; every problem is added to `problems`."""
    if document.get("study") is None:
        problems.append(f"{path}: `study:` (the study's name) is missing")
    encoders, targets = document.get("encoders"), document.get("targets")
    if isinstance(encoders, list):
        encoders = [_encoder_form(entry, path, problems) for entry in encoders]
    named = targets if isinstance(targets, list) else None  # `targets: [panx, xnli]`: by name only
    given = {**document, "encoders": encoders, "targets": targets if named is None else None, "variables": None}
    spec = from_mapping(StudySpec, given, "", path, problems)
    spec.source, spec.variables = path, variables
    if named is not None:
        names = typed(named, list[str], "targets", path, problems)
        spec.targets = {name: spec.task_source(name, "target") for name in names}
    entries = {f"tasks.{n}": e for n, e in spec.tasks.items()} | {f"targets.{n}": e for n, e in spec.targets.items()}
    entries |= {f"defaults.{phase}": entry for phase, entry in spec.defaults.items()}
    problems += [f"{path}: {where}.set.{key}: a task's own fields go under `task:` ({where}.task), not `set:`"
                 for where, entry in entries.items() if isinstance(entry, TaskEntry)
                 for key in entry.set if key.startswith("data.tasks")]  # fmt: skip
    if spec.checkpoint_every < 1:  # checked here, not when each run's ModelCheckpoint rejects it
        problems.append(f"{path}: `checkpoint_every:` expected a positive number of steps, got {spec.checkpoint_every}")
    for entry in spec.encoders:
        entry.tuning = {"intermediate": "full", "target": "full", **entry.tuning}
        checked = from_mapping(SlurmSettings, entry.slurm, f"encoders: {entry.name}: slurm.", path, problems)
        entry.slurm = {key: getattr(checked, key) for key in entry.slurm if hasattr(checked, key)}  # as read
        if entry.handoff == "stack" and entry.tuning["target"] != "lora":
            problems.append(f"{path}: encoders: {entry.name}: handoff: stack keeps the intermediate adapter under the "
                            "target's own LoRA; set tuning.target: lora")  # fmt: skip
    if not spec.encoders:
        problems.append(f"{path}: `encoders:` names no encoder")
    if not spec.targets:
        problems.append(f"{path}: `targets:` names no target task")
    return spec


def _encoder_form(value: Any, path: Path, problems: list[str]) -> Any:
    """An `encoders:` entry as a mapping: a config file (its stem names the encoder), a name (its
    `configs/encoders/<name>.yaml` where that exists, and `--model.encoder.name`); `tuning: lora` is
    both phases' tuning."""
    if isinstance(value, str) and value.endswith((".yaml", ".yml")):
        return {"name": Path(value).stem, "configs": [value]}
    if isinstance(value, str):
        preset = Path("configs/encoders") / f"{value}.yaml"
        configs = [str(preset)] if preset.exists() else []
        return {"name": value, "configs": configs, "args": [f"--model.encoder.name={value}"]}
    if not isinstance(value, dict):
        return value  # the type check names it
    if not value.get("name"):
        problems.append(f"{path}: an entry of `encoders:` has no `name:`")
    tuning = value.get("tuning")
    return {**value, "tuning": {"intermediate": tuning, "target": tuning}} if isinstance(tuning, str) else value
