"""Domain shift: is the gain larger when the intermediate task's text resembles the target's?

Every catalogue task declares its `domain` (free text: "Wikipedia", "movie reviews"). A condition
that trains several tasks (`squad+mnli`, a group such as `phang-all`) has the domains of its
members joined with " + "; `mlm` on "your corpus" keeps that label.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from lightning_xfer.analysis.robustness import ALL


def task_domains() -> dict[str, str]:
    """Task name -> its declared domain, and group name -> its members' domains (imports the catalogue)."""
    from lightning_xfer.tasks import catalogue, groups

    domains = {name: task.domain or "unknown" for name, task in catalogue().items()}
    for group, members in groups().items():
        domains[group] = " + ".join(sorted({domains.get(m, "unknown") for m in members}))
    return domains


def condition_domain(condition: str, domains: Mapping[str, str]) -> str:
    """The domain of an intermediate condition: its member tasks' domains, " + "-joined, sorted."""
    members = condition.split("+")
    return " + ".join(sorted({domains.get(member, "unknown") for member in members}))


def domain_gains(summary: pd.DataFrame, domains: Mapping[str, str]) -> pd.DataFrame:
    """The all-languages gain of each encoder x condition x target with its (intermediate, target) domains.

    Columns: intermediate_domain, target_domain, same_domain, encoder, intermediate, target, gain,
    ci_low, ci_high, n_languages. `same_domain` is an exact match of the declared domains, a coarse
    proxy: "Wikipedia" vs "Wikipedia, news, ..." counts as different.
    """
    rows = summary[summary["tier"] == ALL].copy()
    rows["intermediate_domain"] = [condition_domain(c, domains) for c in rows["intermediate"]]
    rows["target_domain"] = [domains.get(t, "unknown") for t in rows["target"]]
    rows["same_domain"] = rows["intermediate_domain"] == rows["target_domain"]
    columns = ["intermediate_domain", "target_domain", "same_domain", "encoder", "intermediate", "target", "gain",
               "ci_low", "ci_high", "n_languages"]  # fmt: skip
    return rows[columns].sort_values(["intermediate_domain", "target_domain", "encoder"]).reset_index(drop=True)


def domain_pairs(by_pair: pd.DataFrame) -> pd.DataFrame:
    """Mean gain per (intermediate domain, target domain) pair over encoders, conditions and targets."""
    keys = ["intermediate_domain", "target_domain"]
    return by_pair.groupby(keys, as_index=False).agg(
        gain=("gain", "mean"),
        n_results=("gain", "size"),
        conditions=("intermediate", lambda c: ", ".join(sorted(set(c)))),
    )
