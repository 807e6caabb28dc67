"""`python -m lightning_xfer score`: the official XTREME / XTREME-R scores of a submission folder.

Reads `<task>/test-<lang>.<ext>` from a predictions folder and a labels folder, scores every task
and language present with the same metric functions the training loop logs, and reports
`{"overall": {group or "all_task": score}, "detailed": {task: {metric: {lang: score},
"avg_<metric>": score, "avg_metric": score}}}` with the benchmark's key names and values x100.
The groups are XTREME's (classification, tagging, qa, retrieval, in that order), filled from the
catalogue: a task goes to its family's group in every benchmark its `benchmarks` names (XCOPA, a
multiple-choice task, is XTREME-R classification). QA tasks' `avg_metric` is (EM + F1) / 2; other
tasks use F1 where they have it, else accuracy, else map@20. Nothing is ever scored as a silent
zero: a missing file, a line-count mismatch, an unknown folder, a malformed file or a language of
the task with neither predictions nor labels is listed under `problems` (and the exit code is 2),
and a task with a problem keeps its per-language scores but gets no average (XTREME averages a
task over all its languages, never fewer) and is left out of the group and overall averages.
Predictions that are not labels of the task (`yes`, a blank line) count as wrong, with a note.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from lightning_xfer.errors import UserError
from lightning_xfer.evaluation import Score
from lightning_xfer.families.classification import Classification
from lightning_xfer.families.multiple_choice import MultipleChoice
from lightning_xfer.families.retrieval import Retrieval
from lightning_xfer.families.span_qa import SpanQA
from lightning_xfer.families.tagging import Tagging
from lightning_xfer.results import format_table
from lightning_xfer.submission.writer import submission_format
from lightning_xfer.tasks import Task, catalogue, get_task

GROUPS = {
    "classification": (Classification, MultipleChoice),
    "tagging": (Tagging,),
    "qa": (SpanQA,),
    "retrieval": (Retrieval,),
}
"""The official score groups, in the official order, and the task families each holds (XTREME-R
scores XCOPA, a multiple-choice task, as classification)."""


def benchmarks() -> list[str]:
    """The benchmarks some task of the catalogue belongs to."""
    return sorted({name for task in catalogue().values() for name in task.benchmarks})


def benchmark_groups(benchmark: str) -> dict[str, tuple[str, ...]]:
    """Group -> the benchmark's tasks in it (catalogue order), from each task's `benchmarks` and family."""
    groups: dict[str, list[str]] = {group: [] for group in GROUPS}
    for task in catalogue().values():
        if benchmark in task.benchmarks:
            group = next((g for g, families in GROUPS.items() if isinstance(task.family, families)), None)
            if group is None:
                raise ValueError(f"task {task.name} of {benchmark} has no score group for {type(task.family).__name__}")
            groups[group].append(task.name)
    return {group: tuple(members) for group, members in groups.items() if members}


@dataclass
class Report:
    detailed: dict[str, dict] = field(default_factory=dict)
    overall: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    incomplete: set[str] = field(default_factory=set)

    def as_json(self) -> dict:
        return {"overall": self.overall, "detailed": self.detailed, "problems": self.problems, "notes": self.notes}


def benchmark_languages(task_name: str, benchmark: str) -> tuple[str, ...]:
    task = get_task(task_name)
    return tuple(task.benchmark_languages.get(benchmark, task.languages))


def score_submission(predictions: Path, labels: Path, benchmark: str) -> Report:
    if benchmark not in benchmarks():
        raise UserError(f"--benchmark must be one of {benchmarks()}, not {benchmark!r}")
    for folder in (predictions, labels):
        if not folder.is_dir():
            raise UserError(f"{folder} is not a folder")
    tasks = [t for group in benchmark_groups(benchmark).values() for t in group]
    other = {t for name in benchmarks() if name != benchmark for g in benchmark_groups(name).values() for t in g}
    report = Report()
    for side, folder in (("predictions", predictions), ("labels", labels)):
        for name in sorted(p.name for p in folder.iterdir() if p.is_dir() and p.name not in tasks):
            if name in other:
                report.notes.append(f"{side}: {name} is not a {benchmark} task; skipped")
            else:
                listed = ", ".join(tasks)
                report.problems.append(f"{side}: unknown task folder {folder / name} ({benchmark} has {listed})")
    for task_name in dict.fromkeys(tasks):
        if not (predictions / task_name).is_dir():
            continue
        if not (labels / task_name).is_dir():
            report.problems.append(f"{task_name}: predictions but no labels folder {labels / task_name}; task skipped")
            report.incomplete.add(task_name)
            continue
        _score_task(task_name, predictions, labels, benchmark, report)
    _overall(report, benchmark)
    return report


def _score_task(task_name: str, predictions: Path, labels: Path, benchmark: str, report: Report) -> None:
    task = get_task(task_name)
    fmt = submission_format(task)
    by_metric: dict[str, dict[str, float]] = {}
    languages = benchmark_languages(task_name, benchmark)
    absent = []
    for language in languages:
        name = f"test-{language}.{fmt.extension}"
        predicted_file, label_file = predictions / task_name / name, labels / task_name / name
        if not predicted_file.exists() and not label_file.exists():
            absent.append(language)
            continue
        problem = None
        if not predicted_file.exists():
            problem = f"missing prediction file {predicted_file}"
        elif not label_file.exists():
            problem = f"missing label file {label_file}"
        else:
            try:
                predicted, gold = fmt.read_predictions(predicted_file), fmt.read_labels(label_file)
                if len(predicted) != len(gold):
                    problem = f"{predicted_file} has {len(predicted)} items, {label_file} has {len(gold)}"
                else:
                    report.notes += outside_label_set(task, predicted, gold, f"{task_name}/{language}")
                    for metric, value in task.metric(predicted, gold, language).items():
                        by_metric.setdefault(metric, {})[language] = value
            except UserError as error:
                problem = str(error)
            except UnicodeDecodeError as error:
                problem = f"{predicted_file} or {label_file} is not UTF-8 ({error.reason})"
        if problem:
            report.problems.append(f"{task_name}/{language} not scored: {problem}")
            report.incomplete.add(task_name)
    if absent:
        report.problems.append(
            f"{task_name}: no predictions and no labels for {', '.join(absent)}; {benchmark} averages {task_name} over "
            f"its {len(languages)} languages, so it gets no average until each is scored"
        )
        report.incomplete.add(task_name)
    if not by_metric:
        return
    scores: dict = dict(by_metric)
    if task_name in report.incomplete:  # XTREME's rule: a task's average is over all its languages, never fewer
        report.detailed[task_name] = scores
        return
    for metric, values in by_metric.items():
        scores[f"avg_{metric}"] = sum(values.values()) / len(values)
    if isinstance(task.family, SpanQA):
        scores["avg_metric"] = (scores["avg_exact_match"] + scores["avg_f1"]) / 2
    else:
        for metric in ("f1", "accuracy", "map@20"):
            if f"avg_{metric}" in scores:
                scores["avg_metric"] = scores[f"avg_{metric}"]
                break
    report.detailed[task_name] = scores


def outside_label_set(task: Task, predicted: dict, gold: dict, where: str) -> list[str]:
    """A note for predictions that are not labels of the task (`yes`, a blank line): they count as
    wrong, as the official scripts count them, but a user should hear that they were there."""
    if not task.labels:
        return []
    allowed = {
        *task.labels,
        *task.label_aliases,
        *(v for g in gold.values() for v in (g if isinstance(g, list) else [g])),
    }
    outside = [(key, value) for key, values in predicted.items()
               for value in (values if isinstance(values, list) else [values])
               if isinstance(value, str) and value not in allowed]  # fmt: skip
    if not outside:
        return []
    shown = ", ".join(f"{value!r} (item {int(key) + 1 if key.isdigit() else key})" for key, value in outside[:3])
    return [f"{where}: {len(outside)} prediction(s) not among the labels {list(task.labels)}, counted as wrong: "
            f"{shown}{' ...' if len(outside) > 3 else ''}"]  # fmt: skip


def _overall(report: Report, benchmark: str) -> None:
    complete = {t for t in report.detailed if t not in report.incomplete}
    groups = benchmark_groups(benchmark)
    every = [t for group in groups.values() for t in group]
    if set(every) <= complete:
        report.overall["all_task"] = sum(report.detailed[t]["avg_metric"] for t in every) / len(every)
    for group, members in groups.items():
        if set(members) <= complete:
            report.overall[group] = sum(report.detailed[t]["avg_metric"] for t in members) / len(members)


def format_report(report: Report) -> str:
    """Per task, the results table's block (a row per language, a column per metric, the average),
    then each task's avg_metric, the group scores, notes and problems."""
    scores = [
        Score("test", task_name, language, metric, value, 0)
        for task_name, by_metric in report.detailed.items()
        for metric, by_language in by_metric.items()
        if isinstance(by_language, dict)
        for language, value in by_language.items()
    ]
    lines = [format_table(scores)] if scores else []
    averaged = {task: values["avg_metric"] for task, values in report.detailed.items() if "avg_metric" in values}
    if averaged:
        lines.append("\navg_metric  " + "  ".join(f"{task} {value:.2f}" for task, value in averaged.items()))
    if report.overall:
        lines.append("overall  " + "  ".join(f"{k} {v:.2f}" for k, v in report.overall.items()))
    lines.extend(f"note: {note}" for note in report.notes)
    lines.extend(f"PROBLEM: {problem}" for problem in report.problems)
    return "\n".join(lines)


def score_command(*, predictions: Path, labels: Path, benchmark: str = "xtreme", output: Path | None = None) -> None:
    """Score a submission folder against gold labels with the official metrics.

    Exits with code 2 when the report lists a problem, so a script notices an incomplete submission.

    Args:
        predictions: submission folder: <task>/test-<lang>.<ext>
        labels: gold labels in the same layout
        benchmark: xtreme, xtreme-r or world (`benchmarks()`: those the catalogue's tasks name)
        output: write the scores as JSON here
    """
    report = score_submission(predictions, labels, benchmark)
    print(format_report(report))
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
        print(f"scores written to {output}")
    if report.problems:
        raise SystemExit(2)
