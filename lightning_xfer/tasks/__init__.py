"""The task catalogue: every task a config can name, declared once.

`get_task("panx")` returns the declaration; `python -m lightning_xfer tasks` lists them all.
"""

from __future__ import annotations

from lightning_xfer.errors import unknown_name
from lightning_xfer.tasks.task import HubDataset, LocalFiles, Task


def catalogue() -> dict[str, Task]:
    """All tasks by name."""
    from lightning_xfer.tasks import intermediate, synthetic, xtreme

    tasks = [*intermediate.TASKS, *xtreme.TASKS, *synthetic.TASKS]
    return {task.name: task for task in tasks}


def get_task(name: str) -> Task:
    """The task called `name`; an unknown name lists the close matches."""
    tasks = catalogue()
    if name not in tasks:
        raise unknown_name("task", name, tasks, hint="python -m lightning_xfer tasks lists them")
    return tasks[name]


__all__ = ["HubDataset", "LocalFiles", "Task", "catalogue", "get_task"]
