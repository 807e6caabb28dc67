"""Expand a study into its dependency graph of runs, each a plain LightningCLI command line.

For an encoder entry with `pretrain:`, first one `pretrain` run (`fit` on its MLM config, then `test`
of masked-token accuracy per language); its exported encoder starts every other run of the entry.
Then for every encoder and seed:
- each intermediate condition other than `none` is one `intermediate` run (`fit`), trained once;
  it exports its encoder to `<run>/encoder`;
- each target task that trains is one `target` run (`fit`, then `test` of its final weights),
  starting from that exported encoder (or from the pretrained one for `none`: the pretrain run's
  export where there is one), with fresh heads;
- each target task that needs no training (Tatoeba, BUCC) is one `zero-shot` run (`test` only),
  evaluated straight after the intermediate phase, as Phang et al. (2020) do.

A run's id is readable and deterministic (`target.e5-small.squad+sst2.panx.s0`); its directory is
`<out>/<id>`, never "the newest run under a root"; its `config_hash` covers the effective
configuration of its commands (the config files merged, then the arguments), so a changed study is
noticed and a refactored one (a setting moved between files, a comment) is not.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

from lightning_xfer.effective_config import effective_config
from lightning_xfer.errors import UserError
from lightning_xfer.scale.plan import LORA_CONFIG
from lightning_xfer.study.hardware import model_name
from lightning_xfer.study.spec import NONE, EncoderEntry, StudySpec, TaskEntry, TaskSource, load_study, substitute


@dataclass(frozen=True)
class Run:
    """One node of the study graph."""

    id: str
    phase: str
    """`pretrain`, `intermediate`, `target` or `zero-shot` (the `phase` column of the results table)."""
    encoder: str
    intermediate: str
    """The condition's name (`none` for the baseline)."""
    target: str
    """The target task, or `none` for an intermediate run."""
    seed: int
    directory: Path
    commands: tuple[tuple[str, ...], ...]
    """LightningCLI argument lists (`fit ...`, `test ...`), run in order in the project root."""
    depends_on: tuple[str, ...]
    config_hash: str
    tuning: str = "full"
    """`full`, `lora` or `lora-stacked` (the `tuning` column of the results table)."""

    def shell(self) -> list[str]:
        """Each command as a line a user can paste."""
        return [shlex.join(["python", "-m", "lightning_xfer", *command]) for command in self.commands]

    @property
    def last_checkpoint(self) -> Path:
        return self.directory / "checkpoints" / "last.ckpt"


def id_part(name: str) -> str:
    """`name` as a piece of a run id, which is also a directory under `out`: no `/` (a hub name
    `org/model` would nest the run's folder, `..` escape `out`), no shell or glob characters."""
    safe = re.sub(r"[^A-Za-z0-9_.+=-]+", "-", name)
    return re.sub(r"\.{2,}", ".", safe).strip(".-") or "unnamed"


class _Configs:
    """Config files with the study's `${variables}` filled in, written once under `<out>/configs/`."""

    def __init__(self, spec: StudySpec, problems: list[str]):
        self.spec, self.problems = spec, problems
        self.directory = Path(spec.out) / "configs"
        self.rendered: dict[str, str] = {}
        self.settings: dict[str, list[str]] = {}
        """A layered config's `set` keys, as the `--key=value` arguments that follow every config file."""

    def __call__(self, path: str) -> str:
        if path not in self.rendered:
            self.rendered[path] = self._render(path)
        return self.rendered[path]

    def _render(self, path: str) -> str:
        source = Path(path)
        if not source.is_file():
            self.problems.append(f"config file {path} does not exist")
            return path
        text = source.read_text()
        filled = substitute(text, self.spec.variables, path, self.problems)
        if filled == text:
            return path
        return self._written(source.stem, filled, f"{path} with the study's variables filled in")

    def _written(self, stem: str, text: str, what: str) -> str:
        """`text` as `<out>/configs/<stem>-<digest>.yaml` (written once; its digest names its content)."""
        digest = hashlib.sha256(text.encode()).hexdigest()[:10]
        target = self.directory / f"{stem}-{digest}.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            target.write_text(f"# {what}\n{text}")
        return str(target)

    def layered(self, name: str, entry: TaskEntry, defaults: TaskEntry | None) -> str:
        """The task's config with the study's layers on it (`TaskEntry`), written once under
        `<out>/configs/`: its base file (`entry.config`, else `configs/tasks/<name>.yaml` where that
        exists, else nothing but the task), then the phase's defaults, then the entry's `task` fields
        on its `data.tasks` entry; their `set` keys go to `settings`, as arguments."""
        own = Path(f"configs/tasks/{name}.yaml")
        base = entry.config or (str(own) if own.is_file() else None)
        document: dict = {}
        if base is not None:
            try:
                document = yaml.safe_load(Path(self(base)).read_text()) or {}
            except (OSError, yaml.YAMLError) as error:
                self.problems.append(f"{base}: cannot read ({error})")
        data = document.setdefault("data", {})
        data["tasks"] = data.get("tasks") or [{"name": name}]
        settings = []
        for layer in filter(None, (defaults, entry)):
            data["tasks"][0].update(layer.task)
            settings += [f"--{key}={_as_argument(value)}" for key, value in layer.set.items()]
        what = f"{base or name}, with the study's layers (`defaults`, its entry's `task`; `set`: {settings})"
        written = self._written(id_part(name), yaml.safe_dump(document, sort_keys=False), what)
        self.settings[written] = settings
        return written

    def resolve(self, name: str, source: TaskSource, defaults: TaskEntry | None) -> str:
        """A task's config file: as named, or its layers written out."""
        return self.layered(name, source, defaults) if isinstance(source, TaskEntry) else source

    def tasks_of(self, path: str) -> list[dict]:
        """The `data.tasks` a config file declares."""
        try:
            document = yaml.safe_load(Path(self(path)).read_text()) or {}
        except (OSError, yaml.YAMLError) as error:
            self.problems.append(f"{path}: cannot read ({error})")
            return []
        tasks = (document.get("data") or {}).get("tasks") or []
        if not tasks:
            self.problems.append(f"{path}: declares no `data.tasks`")
        return tasks


def _as_argument(value: object) -> str:
    """A YAML value as the text of `--key=value` that reads back as it (`1.0e-05`, not JSON's `1e-05`,
    which YAML reads as a string)."""
    if isinstance(value, str):
        return value
    return yaml.safe_dump(value, default_flow_style=True, width=10**9).removesuffix("...\n").strip()


def load_runs(path: Path, overrides: dict[str, str] | None = None) -> tuple[StudySpec, list[Run]]:
    """A study file's spec and runs; the problems of the file and of its graph are raised together."""
    problems: list[str] = []
    spec = load_study(path, overrides, problems)
    return spec, expand(spec, problems)


def expand(spec: StudySpec, problems: list[str] | None = None) -> list[Run]:
    """Every run of the study in dependency order; every problem of the study (with `problems`,
    those already found in its file) is raised at once."""
    from lightning_xfer.tasks import catalogue, groups

    problems = list(problems or [])
    configs = _Configs(spec, problems)
    known_tasks, known_groups = catalogue(), groups()

    def check_task(name: str, where: str) -> None:
        if name not in known_tasks and name not in known_groups:
            problems.append(f"{where}: unknown task {name!r} (python -m lightning_xfer tasks lists them)")

    conditions: dict[str, list[str]] = {}
    for condition in spec.intermediate:
        if condition == NONE:
            continue
        members = []
        names = []
        for name in condition.split("+"):  # a group (`phang-all`) trains its members, each with its config
            names += known_groups[name] if name in known_groups and name not in spec.tasks else [name]
        for name in names:
            check_task(name, f"intermediate condition {condition!r}")
            source = spec.tasks.get(name) or spec.task_source(name, "intermediate")
            if not isinstance(source, TaskEntry) and name not in spec.tasks and not Path(source).is_file():
                problems.append(f"intermediate condition {condition!r}: no config for {name!r} (add it under `tasks:`)")
            members.append(configs.resolve(name, source, spec.defaults.get("intermediate")))
        conditions[condition] = members
    targets: dict[str, tuple[str, bool]] = {}
    for target, source in spec.targets.items():
        check_task(target, "targets")
        config = configs.resolve(target, source, spec.defaults.get("target"))
        declared = [t.get("name") for t in configs.tasks_of(config)]
        if declared and declared[0] != target:
            problems.append(f"targets: {target!r} names {config}, whose data.tasks is {declared}")
        task = known_tasks.get(target)
        targets[target] = (config, bool(task is None or task.needs_training))
    for encoder in spec.encoders:
        for config in encoder.configs:
            configs(config)
        if encoder.pretrain:
            configs.tasks_of(encoder.pretrain)
        _check_encoder(encoder, problems)
    for config in spec.base:
        configs(config)
    if problems:
        raise UserError("the study has problems:\n  " + "\n  ".join(dict.fromkeys(problems)))

    runs: list[Run] = []
    for encoder in spec.encoders:
        pretrained = _pretrain_run(spec, configs, encoder) if encoder.pretrain else None
        runs += [pretrained] if pretrained else []
        for seed in spec.seeds:
            exported: dict[str, Run | None] = {NONE: pretrained}
            for condition, members in conditions.items():
                run = _intermediate_run(spec, configs, encoder, condition, members, seed, pretrained)
                runs.append(run)
                exported[condition] = run
            for condition in spec.intermediate:
                start = exported.get(condition)
                for target, (config, trains) in targets.items():
                    runs.append(_target_run(spec, configs, encoder, condition, start, target, config, trains, seed))
    twice = [name for name, count in Counter(run.id for run in runs).items() if count > 1]
    if twice:
        problems.append(f"run id {twice[0]} is made twice: give the encoders distinct names (ids keep only "
                        "letters, digits and `_.+=-` of a name)")  # fmt: skip
    if problems:
        raise UserError("the study has problems:\n  " + "\n  ".join(dict.fromkeys(problems)))
    return runs


def _check_encoder(encoder: EncoderEntry, problems: list[str]) -> None:
    name = model_name(encoder)
    if not name:
        problems.append(f"encoder {encoder.name!r}: neither its configs nor its args name `model.encoder.name`")
    elif name.startswith((".", "/", "~")) and not Path(name).expanduser().exists():
        problems.append(f"encoder {encoder.name!r}: the directory {name} does not exist")


def _common(spec: StudySpec, run_id: str, phase: str, directory: Path, seed: int, encoder: EncoderEntry,
            condition: str, target: str) -> list[str]:  # fmt: skip
    own = []
    if phase in ("target", "zero-shot") and condition != NONE and encoder.tuning["intermediate"] == "lora":
        own.append(f"--model.encoder.adapter_handoff={encoder.handoff}")  # the intermediate run exported an adapter
    args = [*spec.args, *encoder.args, *own, f"--seed_everything={seed}", f"--trainer.default_root_dir={directory}",
            f"--results.path={directory / 'results.jsonl'}", f"--results.phase={phase}",
            f"--results.run_name={run_id}",
            # how the trainer ended (finished / interrupted), its final weights, its heartbeat and lock
            "--trainer.callbacks+=lightning_xfer.run_state.RunState",
            f"--trainer.callbacks.dirpath={directory}"]  # fmt: skip
    if spec.wandb_project:
        logger = "--trainer.logger.init_args."
        args += ["--trainer.logger=pytorch_lightning.loggers.WandbLogger", f"{logger}project={spec.wandb_project}",
                 f"{logger}save_dir={directory}", f"{logger}name={run_id}", f"{logger}group={spec.study}",
                 f"{logger}job_type={phase}"]  # fmt: skip
        table = "--trainer.callbacks."  # the per-language table and tags (before the fit-only callback)
        args += ["--trainer.callbacks+=lightning_xfer.wandb_tables.WandbScoreTable", f"{table}study={spec.study}",
                 f"{table}phase={phase}", f"{table}run_id={run_id}", f"{table}encoder={encoder.name}",
                 f"{table}condition={condition}", f"{table}target={target}", f"{table}seed={seed}"]  # fmt: skip
    return args


def _fit_args(spec: StudySpec, directory: Path, phase: str) -> list[str]:
    callback = "--trainer.callbacks."
    args = [
        "--trainer.callbacks+=pytorch_lightning.callbacks.ModelCheckpoint",
        f"{callback}dirpath={directory / 'checkpoints'}",
        f"{callback}save_last=true",
        f"{callback}save_top_k=0",
        f"{callback}every_n_train_steps={spec.checkpoint_every}",
    ]
    if phase in spec.steps:
        args += [f"--trainer.max_steps={spec.steps[phase]}", "--trainer.max_epochs=-1"]
    return args


def _config_args(configs: _Configs, spec: StudySpec, encoder: EncoderEntry, task: str, phase: str) -> list[str]:
    """`--config` of each file a run composes, in order: the study's base, the encoder's (its scale
    file among them), the task's, then the tuning axis in a LoRA phase (after the task's, so that
    LoRA's learning rate is not the task file's full fine-tuning rate); then the task entry's `set`
    as arguments, which the study means whatever the files say."""
    tuning = [LORA_CONFIG] if encoder.phase_tuning(phase) == "lora" else []
    paths = [*spec.base, *encoder.configs, task, *tuning]
    return [*(part for path in paths for part in ("--config", configs(path))), *configs.settings.get(task, [])]


def _hash(commands: list[list[str]], start: Run | None = None) -> str:
    """The effective configuration of every command (`effective_config`: what the run
    trains with, not which file says it or how its comments read), the fingerprint of every generated
    task's data it names, and the hash of the run whose exported encoder this one starts from: a
    re-run upstream (another pre-training, a changed intermediate task) or regenerated data (a new
    version of the embedded world) makes the run stale, instead of leaving it "done" on the encoder
    or the data it was trained on before."""
    configs = [effective_config(command) for command in commands]
    material = [start.config_hash] if start is not None else []
    material += [*configs, *_generated_data(configs)]
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _generated_data(configs: list[dict]) -> list[str]:
    """`task:fingerprint` of each generated task (and the task it trains from) that the commands'
    `data.tasks` name, where its generator has a fingerprint (the embedded world's); nothing for
    tasks read from files or the hub, so their runs' hashes do not depend on it."""
    from lightning_xfer.tasks import catalogue

    names = [task.get("name") for config in configs for task in (config["config"].get("data") or {}).get("tasks") or []
             if isinstance(task, dict)]  # fmt: skip
    tasks, found = catalogue(), []
    for name in dict.fromkeys(filter(None, names)):
        task = tasks.get(name)
        for source in (task, task.train_from if task else None):
            fingerprint = getattr(source.generator, "fingerprint", None) if source and source.generator else None
            if fingerprint is not None:
                found.append(f"{source.name}:{fingerprint}")
    return found


def _export(directory: Path) -> list[str]:
    return [f"--export.dirpath={directory / 'encoder'}", "--export.weights=final"]


def _started_from(start: Run | None) -> tuple[list[str], tuple[str, ...]]:
    """(arguments, dependencies) of a run that starts from `start`'s exported encoder (None: the
    entry's own encoder)."""
    if start is None:
        return [], ()
    return [f"--model.encoder.name={start.directory / 'encoder'}"], (start.id,)


def _test_final(args: list[str], directory: Path) -> list[str]:
    """Test the weights fit ended with (`run_state` saves them as final.ckpt whatever checkpoint_every
    says): the same weights the run exports for the next phase."""
    return ["test", *args, f"--ckpt_path={directory / 'checkpoints' / 'final.ckpt'}"]


def _pretrain_run(spec, configs, encoder) -> Run:
    seed = encoder.pretrain_seed
    run_id = f"pretrain.{id_part(encoder.name)}.s{seed}"
    directory = Path(spec.out) / run_id
    args = _config_args(configs, spec, encoder, encoder.pretrain, "pretrain")
    args += _common(spec, run_id, "pretrain", directory, seed, encoder, NONE, NONE)
    commands = [["fit", *args, *_fit_args(spec, directory, "pretrain"), *_export(directory)],
                _test_final(args, directory)]  # fmt: skip
    return Run(run_id, "pretrain", encoder.name, NONE, NONE, seed, directory, tuple(tuple(c) for c in commands), (),
               _hash(commands), encoder.tuning_label("pretrain", NONE))  # fmt: skip


def _intermediate_run(spec, configs, encoder, condition, members, seed, pretrained: Run | None) -> Run:
    run_id = f"intermediate.{id_part(encoder.name)}.{id_part(condition)}.s{seed}"
    directory = Path(spec.out) / run_id
    args = _config_args(configs, spec, encoder, members[0], "intermediate")
    if len(members) > 1:
        tasks = [task for member in members for task in configs.tasks_of(member)]
        args += [f"--data.tasks={json.dumps(tasks)}", *spec.multitask_args]
    args += _common(spec, run_id, "intermediate", directory, seed, encoder, condition, NONE)
    start, depends = _started_from(pretrained)
    args += [*start, *_fit_args(spec, directory, "intermediate"), *_export(directory)]
    commands = [["fit", *args]]
    return Run(run_id, "intermediate", encoder.name, condition, NONE, seed, directory,
               tuple(tuple(c) for c in commands), depends, _hash(commands, pretrained),
               encoder.tuning_label("intermediate", condition))  # fmt: skip


def _target_run(spec, configs, encoder, condition, start: Run | None, target, config, trains, seed) -> Run:
    phase = "target" if trains else "zero-shot"
    run_id = f"{phase}.{id_part(encoder.name)}.{id_part(condition)}.{id_part(target)}.s{seed}"
    directory = Path(spec.out) / run_id
    args = _config_args(configs, spec, encoder, config, phase)
    args += _common(spec, run_id, phase, directory, seed, encoder, condition, target)
    start_args, depends = _started_from(start)
    args += start_args
    if trains:
        fit = ["fit", *args, *_fit_args(spec, directory, "target"), "--export.enabled=false"]
        commands = [fit, _test_final(args, directory)]
    else:
        commands = [["test", *args]]
    return Run(run_id, phase, encoder.name, condition, target, seed, directory,
               tuple(tuple(c) for c in commands), depends, _hash(commands, start),
               encoder.tuning_label(phase, condition))  # fmt: skip
