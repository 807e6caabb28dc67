"""Load a task's examples for one split and language, from local files, the hub, or a generator.

Everything a user can get wrong here (a missing file, a label outside the task's label set, an
empty split, a language the task does not have) raises a `UserError` that names the file or key.
"""

from __future__ import annotations

import glob
import hashlib
import logging
import random
from dataclasses import dataclass
from pathlib import Path

from lightning_xfer.cache import cache_dir
from lightning_xfer.errors import UserError
from lightning_xfer.languages import template_fields
from lightning_xfer.readers.checks import check_unique_ids, undecodable
from lightning_xfer.readers.squad_json import read_squad_json
from lightning_xfer.tasks import Task, TaskConfig

log = logging.getLogger(__name__)


@dataclass
class LoadedSplit:
    """Examples of one (task, split, language) and a description of where they came from."""

    examples: list[dict]
    source: str
    """Files or hub id they were read from; part of the feature cache key."""


def data_directory(task: Task, config: TaskConfig) -> Path | None:
    """The task's data directory; generated tasks get theirs written on first use."""
    if config.data_dir:
        return Path(config.data_dir).expanduser()
    if task.generator is not None:
        directory = cache_dir("data", task.name)
        marker = directory / ".generated"
        # A generator's `fingerprint` (the embedded world's) names what it writes: a changed world or
        # writer writes its files again instead of reading stale ones.
        fingerprint = str(getattr(task.generator, "fingerprint", ""))
        if not marker.exists() or marker.read_text() != fingerprint:
            task.generator(directory)
            marker.write_text(fingerprint)
        return directory
    return None


TRAINING_LANGUAGE = "en"
"""The language of every training file: transfer is zero-shot from English."""
HOLDOUT_SEED = 0
"""`validation_holdout` splits alike in every run, so runs of a study select on the same examples."""


def load_split(
    task: Task, config: TaskConfig, split: str, language: str, seed: int | None = None, labelled: bool = True
) -> LoadedSplit:
    """Examples of `task` for `split` in `language`, checked against the task's labels.

    `seed` is the run's seed (`seed_everything`); it seeds the `max_train_examples` sample unless
    `config.sample_seed` is set (None: 0). `labelled=False` accepts examples without gold answers
    (`predict` on a test set whose answers are not public); otherwise they are an error.
    """
    holdout = _holdout(task, config)
    if split == "train" or (split == "validation" and holdout and language == TRAINING_LANGUAGE):
        loaded = _training_examples(task, config, language, labelled)
        if holdout:
            kept, held = _hold_out(task, loaded, holdout)
            loaded.examples = kept if split == "train" else held
            loaded.source += f";validation_holdout={holdout}:{split}"
    else:
        loaded = _load_local_or_hub(task, config, split, language, labelled)
        _check_not_empty(task, split, language, loaded)
        _apply_labels(task, loaded)
        _number(loaded.examples, f"{task.name}-{split}-{language}")
    if split == "train":
        if task.train_converter is not None:
            loaded.examples = task.train_converter(loaded.examples)
        sample_seed = config.sample_seed if config.sample_seed is not None else seed if seed is not None else 0
        loaded.examples = _sample(loaded.examples, config.max_train_examples, sample_seed)
        if config.max_train_examples is not None:
            loaded.source += f";sample={config.max_train_examples}@seed{sample_seed}"
    elif config.max_eval_examples:
        loaded.examples = loaded.examples[: config.max_eval_examples]
    return loaded


def _training_examples(task: Task, config: TaskConfig, language: str, labelled: bool) -> LoadedSplit:
    """The training file's examples, checked, numbered, and without `exclude_train_ids_from`'s."""
    loaded = _load_train(task, config, language, labelled)
    _check_not_empty(task, "train", language, loaded)
    _apply_labels(task.train_from or task, loaded)
    _number(loaded.examples, f"{task.name}-train-{language}")
    loaded.examples = _exclude(task, loaded.examples, config.exclude_train_ids_from)
    return loaded


def _check_not_empty(task: Task, split: str, language: str, loaded: LoadedSplit) -> None:
    if not loaded.examples:
        raise UserError(f"task {task.name}: the {split} split for {language!r} is empty ({loaded.source})")


def _number(examples: list[dict], prefix: str) -> None:
    for number, example in enumerate(examples):
        if not example.get("id"):
            example["id"] = f"{prefix}-{number}"


def _load_train(task: Task, config: TaskConfig, language: str, labelled: bool) -> LoadedSplit:
    trainer = task.train_from or task
    if config.train_file:
        path = Path(config.train_file).expanduser()
        if not path.is_absolute() and config.data_dir:
            path = Path(config.data_dir).expanduser() / path
        if trainer.local is None:
            raise UserError(f"task {trainer.name} has no local file reader; remove train_file to use the hub")
        return _read([path], trainer, language, labelled)
    if trainer is task:
        return _load_local_or_hub(task, config, "train", language, labelled)
    if trainer.generator is not None and not config.data_dir:  # a generated task trains on its files
        return _load_local_or_hub(trainer, TaskConfig(trainer.name), "train", language, labelled)
    if trainer.hub is None:
        raise UserError(f"task {task.name} trains on {trainer.name}; set train_file to {trainer.name}'s training file")
    return _read_hub(trainer, "train", language)


def _load_local_or_hub(task: Task, config: TaskConfig, split: str, language: str, labelled: bool) -> LoadedSplit:
    directory = data_directory(task, config)
    if directory is not None:
        layout = dict(task.local.files if task.local else {})
        layout.update(config.files or {})
        if split not in layout:
            raise UserError(f"task {task.name} has no {split!r} file in its layout {layout}; add one under `files:`")
        if task.local is None:
            raise UserError(f"task {task.name} has no local file reader; remove data_dir to use the hub")
        pattern = str(directory / layout[split].format(**template_fields(language)))
        paths = sorted(Path(p) for p in glob.glob(pattern)) if glob.has_magic(pattern) else [Path(pattern)]
        missing = [str(p) for p in paths if not p.exists()] or ([] if paths else [pattern])
        if missing:
            raise UserError(
                f"task {task.name}: no {split} data for {language!r}: {missing[0]} does not exist "
                f"(set `languages:` to the languages you have, or `files:` to your file names)"
            )
        return _read(paths, task, language, labelled)
    if task.hub is None:
        raise UserError(f"task {task.name} is not on the Hugging Face hub; set data_dir to its files")
    return _read_hub(task, split, language)


def _read(paths: list[Path], task: Task, language: str, labelled: bool) -> LoadedSplit:
    examples = []
    for path in paths:
        try:
            read = task.local.reader(path, language)
        except UnicodeDecodeError as error:
            raise undecodable(path, error) from None
        check_unique_ids(path, read)
        for example in read:  # the family knows where its examples' gold goes, and what none means
            task.family.complete_unlabelled(example, labelled, path)
        examples.extend(read)
    identity = [f"{p.resolve()}:{_file_identity(p)}" for p in paths]
    return LoadedSplit(examples, ";".join(identity))


def _file_identity(path: Path) -> str:
    if path.is_dir():
        return ",".join(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in sorted(path.iterdir()))
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def _read_hub(task: Task, split: str, language: str) -> LoadedSplit:
    import datasets

    hub = task.hub
    if split not in hub.splits:
        raise UserError(f"task {task.name} has no {split!r} split on the hub (it has {sorted(hub.splits)})")
    config = hub.config.format(**template_fields(language)) if hub.config else None
    try:
        table = datasets.load_dataset(hub.path, config, split=hub.splits[split])
    except Exception as error:  # the hub raises many types; all mean "not available here"
        raise UserError(
            f"task {task.name}: cannot load {hub.path} config {config!r} split {hub.splits[split]!r} from the "
            f"Hugging Face hub ({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}); "
            "offline, set data_dir to the task's files"
        ) from None
    examples = [e for e in (hub.convert(row, language) for row in table) if e is not None]
    return LoadedSplit(examples, f"hub:{hub.path}:{config}:{hub.splits[split]}:{table._fingerprint}")


def _apply_labels(task: Task, loaded: LoadedSplit) -> None:
    if not task.labels:
        return
    allowed = set(task.labels)
    for example in loaded.examples:
        bad = [label for label in task.family.relabel(example, task.label_aliases) if label not in allowed]
        if bad:
            where = f"line {example['line']}" if "line" in example else f"example {example.get('id')}"
            raise UserError(
                f"{loaded.source.split(':')[0]}, {where}: label {bad[0]!r} is not one of {list(task.labels)} "
                f"(task {task.name})"
            )


def _exclude(task: Task, examples: list[dict], files: list[str]) -> list[dict]:
    """`examples` without those whose ids `files` hold, nor any of their groups (`holdout_group`: a
    SQuAD paragraph), so that no test question is answered from a paragraph the model trained on."""
    if not files:
        return examples
    missing = [path for path in files if not Path(path).expanduser().is_file()]
    if missing:
        raise UserError(
            f"exclude_train_ids_from: {missing[0]} does not exist; expected SQuAD-format files (e.g. xquad.en.json)"
        )
    excluded_ids = {e["id"] for path in files for e in read_squad_json(Path(path).expanduser())}
    family = (task.train_from or task).family
    groups = {family.holdout_group(e) for e in examples if e["id"] in excluded_ids} - {None}
    kept = [e for e in examples if e["id"] not in excluded_ids and family.holdout_group(e) not in groups]
    log.info("excluded %d training examples that overlap %s", len(examples) - len(kept), files)
    return kept


def _sample(examples: list[dict], limit: int | None, seed: int) -> list[dict]:
    if limit is None or limit >= len(examples):
        return examples
    chosen = sorted(random.Random(seed).sample(range(len(examples)), limit))
    return [examples[i] for i in chosen]


def _holdout(task: Task, config: TaskConfig) -> float | None:
    share = config.validation_holdout
    if share is None:
        return None
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share < 1:
        raise UserError(
            f"task {task.name}: validation_holdout is {share!r}; expected a share of the training file "
            "between 0 and 1 (e.g. 0.1), or null to validate on the validation files"
        )
    if not task.needs_training or task.train_converter is not None:
        raise UserError(
            f"task {task.name}: validation_holdout needs a training file whose examples are validated as they "
            "are; this task has none, or converts them for training: remove validation_holdout"
        )
    return float(share)


def _hold_out(task: Task, loaded: LoadedSplit, share: float) -> tuple[list[dict], list[dict]]:
    """(kept for training, held out for validation): a seeded split of whole groups.

    The family names the groups (`TaskFamily.holdout_group`): for span QA a paragraph (all questions
    on one context), so that no validation question is answered from a paragraph the model trained
    on; any other example is its own group.
    """
    groups: dict[object, list[dict]] = {}
    grouped = False
    for number, example in enumerate(loaded.examples):
        group = task.family.holdout_group(example)
        grouped = grouped or group is not None
        groups.setdefault(("group", group) if group is not None else number, []).append(example)
    count = round(share * len(groups))
    unit = "paragraphs" if grouped else "examples"
    if not 0 < count < len(groups):
        raise UserError(
            f"task {task.name}: validation_holdout {share} of {len(groups)} {unit} in {loaded.source.split(':')[0]} "
            "leaves nothing to train or to validate on; expected a share that holds out at least one and not all"
        )
    held = set(random.Random(HOLDOUT_SEED).sample(range(len(groups)), count))
    kept_groups = [g for i, g in enumerate(groups.values()) if i not in held]
    held_groups = [g for i, g in enumerate(groups.values()) if i in held]
    log.info("task %s: %d of %d %s held out for validation", task.name, count, len(groups), unit)
    return [e for g in kept_groups for e in g], [e for g in held_groups for e in g]


def cache_key(*parts: object) -> str:
    """A short stable hash of everything that determines a cached feature file."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:20]
