"""The task catalogue: every task a config can name, declared once.

`get_task("panx")` returns the declaration; `python -m lightning_xfer tasks` lists them all.
A run's `TaskConfig` becomes a task with `resolve_task` (which reads label sets that ship with
the data), and task groups such as `phang-all` expand with `expand_groups`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from lightning_xfer.errors import UserError, unknown_name
from lightning_xfer.families.span_qa import SpanQA
from lightning_xfer.tasks.config import TaskConfig
from lightning_xfer.tasks.task import HubDataset, LocalFiles, Task


def catalogue() -> dict[str, Task]:
    """All tasks by name."""
    from lightning_xfer.tasks import intermediate, retrieval, synthetic, world, xtreme, xtreme_r

    tasks = [*intermediate.TASKS, *xtreme_r.TASKS[1:], *xtreme.TASKS, *xtreme_r.TASKS[:1], *retrieval.TASKS,
             *synthetic.TASKS, *world.TASKS]  # fmt: skip
    return {task.name: task for task in tasks}


def groups() -> dict[str, tuple[str, ...]]:
    """Named task groups, e.g. `phang-all`: the nine intermediate tasks of Phang et al. (2020)."""
    from lightning_xfer.tasks import intermediate

    return dict(intermediate.GROUPS)


def get_task(name: str) -> Task:
    """The task called `name`; an unknown name lists the close matches."""
    tasks = catalogue()
    if name not in tasks:
        raise unknown_name("task", name, [*tasks, *groups()], hint="python -m lightning_xfer tasks lists them")
    return tasks[name]


def resolve_task(config: TaskConfig) -> Task:
    """The catalogue's task for a run, with a label set read from its data where the data has it,
    and its family as the config asks (protocol; span QA's `qa` settings)."""
    task = get_task(config.name)
    family = task.family.with_protocol(config.protocol)
    if config.qa is not None:
        if not isinstance(family, SpanQA):
            raise UserError(
                f"task {task.name}: `qa` sets span-QA windows and decoding, and {task.name} is a "
                f"{type(family).__name__} task, not span QA; drop its `qa:` (data.tasks[].qa)"
            )
        family = dataclasses.replace(family, qa=config.qa)
    if family is not task.family:
        task = dataclasses.replace(task, family=family)
    if task.labels_from_data is None:
        return task
    if not config.data_dir:
        raise UserError(f"task {task.name} reads its labels from its files; set data_dir for it")
    return dataclasses.replace(task, labels=task.labels_from_data(Path(config.data_dir).expanduser()))


def expand_groups(configs: list[TaskConfig]) -> list[TaskConfig]:
    """Replace each group name by its member tasks (all read from the hub, with the group's settings)."""
    expanded = []
    for config in configs:
        members = groups().get(config.name)
        if members is None:
            expanded.append(config)
            continue
        if config.data_dir or config.files or config.train_file:
            raise UserError(
                f"task group {config.name} reads every member from the hub; to use local files, list "
                f"its tasks one by one, each with its own data_dir: {', '.join(members)}"
            )
        expanded.extend(dataclasses.replace(config, name=member) for member in members)
    return expanded


@dataclass(frozen=True)
class RunTask:
    """A task as one run uses it: the catalogue's declaration (with labels read from its data where
    they ship with it) and the run's settings for it."""

    task: Task
    config: TaskConfig

    @property
    def name(self) -> str:
        return self.task.name


def resolve_tasks(configs: list[TaskConfig]) -> list[RunTask]:
    """The run's tasks, resolved once: groups expanded, each name looked up, label sets read.

    The DataModule resolves them and the model receives the same objects, so nothing is looked up
    twice and both sides agree by construction.
    """
    if not configs:
        raise UserError("data.tasks is empty: name at least one task")
    run_tasks = [RunTask(resolve_task(config), config) for config in expand_groups(list(configs))]
    names = [r.name for r in run_tasks]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise UserError(f"data.tasks names {', '.join(repeated)} more than once (a group may already include it)")
    return run_tasks


__all__ = [
    "HubDataset",
    "LocalFiles",
    "RunTask",
    "Task",
    "TaskConfig",
    "catalogue",
    "expand_groups",
    "get_task",
    "groups",
    "phase_of",
    "resolve_task",
    "resolve_tasks",
]


def phase_of(tasks: list[Task]) -> str:
    """The phase a run's tasks declare, so a task's config need not say it again: `zero-shot` when
    none trains (Tatoeba, BUCC), `intermediate` when every one is an intermediate task, else `target`."""
    if tasks and not any(task.needs_training for task in tasks):
        return "zero-shot"
    return "intermediate" if tasks and all(task.role == "intermediate" for task in tasks) else "target"
