"""Every bad input a user can give, and what they read back: one row per case.

A row is the files written first (under a temporary folder: `{tmp}` in the command), the command
and a fragment of what the user reads. The command is a `python -m lightning_xfer` argument list,
run in this process from the project root, or, for a reader, a call of the function the CLI calls.
What each outcome means:
- `error`: exit code 2, the fragments on stderr, no traceback (a library call: a `UserError`);
- `warning`: the command goes on (exit 0) and prints the fragments on stderr, not only into a file;
- `problem`: `score` lists the fragments in its output and exits 2;
- `output`: the command succeeds and prints the fragments.
Every input file is still there afterwards: no bad input is deleted. The next round of bad input
adds rows here, not test files.
"""

from __future__ import annotations

import io
import json
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
from conftest import PROJECT

from lightning_xfer.__main__ import main
from lightning_xfer.data.sources import load_split
from lightning_xfer.errors import UserError
from lightning_xfer.readers.conllu import read_conllu
from lightning_xfer.readers.sentence_pair_tsv import read_sentence_pair_tsv
from lightning_xfer.readers.squad_json import read_squad_json
from lightning_xfer.readers.token_tsv import read_token_tsv
from lightning_xfer.tasks import TaskConfig, get_task

QUICKSTART = str(PROJECT / "configs" / "quickstart.yaml")
STUDIES = PROJECT / "configs" / "studies"
Content = str | bytes | Callable[[], str | bytes]


@dataclass(frozen=True)
class Case:
    id: str
    command: tuple[str, ...] | Callable[[Path], object]
    expected: tuple[str, ...]
    """Fragments of what the user reads, each with `{tmp}` for the case's folder."""
    files: dict[str, Content] = field(default_factory=dict)
    outcome: str = "error"


def lightning(subcommand: str, *extra: str) -> tuple[str, ...]:
    """A quick-start LightningCLI command that writes only under the case's folder."""
    return (subcommand, "--config", QUICKSTART, "--trainer.default_root_dir={tmp}/runs", *extra)


def tasks(**task) -> str:
    return f"--data.tasks={json.dumps([task])}"


def topic(**more) -> str:
    """The quick start's task read from the case's folder."""
    return tasks(name="synthetic-topic", data_dir="{tmp}", languages=["en"], **more)


def split(task: str, name: str, language: str, **config) -> Callable[[Path], object]:
    """`load_split` of the case's folder: what `fit`/`test` read, without building a model."""

    def call(tmp: Path):
        return load_split(get_task(task), TaskConfig(task, data_dir=str(tmp), **config), name, language)

    return call


TOPIC_TEST = split("synthetic-topic", "test", "en", languages=["en"])
"""The quick start's test split, read from the case's folder."""


def reader(function, name: str) -> Callable[[Path], object]:
    return lambda tmp: function(tmp / name)


def squad(*qas: dict, context: str = "Ann came home.") -> str:
    return json.dumps({"data": [{"title": "t", "paragraphs": [{"context": context, "qas": list(qas)}]}]})


def ann(question_id: str = "q1", **answer) -> dict:
    return {"id": question_id, "question": "Who?", "answers": [{"text": "Ann", "answer_start": 0, **answer}]}


@cache
def planted_rows() -> list[str]:
    """A small results table as CSV lines: header first (none and squad on xnli, 2 seeds)."""
    from lightning_xfer.analysis.planted import PlantedStudy, generate

    table = generate(PlantedStudy(encoders=("xlm-roberta-base",), targets=("xnli",), seeds=(0, 1))).table
    return table.to_csv(index=False).splitlines()


def table(keep: Callable[[str], bool] = lambda row: True, times: int = 1) -> Callable[[], str]:
    return lambda: "\n".join([planted_rows()[0], *[r for r in planted_rows()[1:] if keep(r)] * times]) + "\n"


def truncated_checkpoint() -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.save({"state_dict": {"encoder.weight": torch.zeros(256)}}, buffer)
    return buffer.getvalue()[: len(buffer.getvalue()) // 2]


TARGET = "{synthetic-topic: {task: {validation_languages: []}}}"
PAYLOAD = "'$(touch {tmp}/pwned)'"
"""Shell code in a study's names and arguments: `study show` must print it quoted, never runnable."""


def study_file(encoder: str = "tiny", *args: str, **more: str) -> str:
    """A study of the tiny encoder on the quick start's task; `more` adds or replaces top-level keys."""
    entry = {"name": encoder, "args": ["--model.encoder.name=tiny", *args]}
    keys = {"study": "edge", "out": "{tmp}/out", "encoders": json.dumps([entry]), "targets": TARGET,
            **more}  # fmt: skip
    return "".join(f"{key}: {value}\n" for key, value in keys.items())


PAWSX_HEADER = "id\tsentence1\tsentence2\tlabel\n"
PAWSX = [language for language in get_task("pawsx").languages]
ALL_PAWSX_LABELS = {f"labels/pawsx/test-{language}.tsv": PAWSX_HEADER + "1\ta\tb\t1\n2\tc\td\t0\n3\te\tf\t1\n"
                    for language in PAWSX}  # fmt: skip
SCORE = ("score", "--predictions", "{tmp}/predictions", "--labels", "{tmp}/labels")

# fmt: off
CASES = [
    # -- issue 32: duplicate ids, in every reader where ids identify examples --------------------
    Case("duplicate-id-pawsx-test", lightning("test", tasks(name="pawsx", data_dir="{tmp}", languages=["de"])),
         ("{tmp}/test-de.tsv:4: id 1 appears twice (first on line 2); expected one example per id",),
         {"test-de.tsv": PAWSX_HEADER + "1\ta\tb\t0\n2\tc\td\t1\n1\te\tf\t0\n"}),
    Case("duplicate-id-pawsx-train", split("pawsx", "train", "en"),
         ("{tmp}/train-en.tsv:3: id 7 appears twice (first on line 2)",),
         {"train-en.tsv": PAWSX_HEADER + "7\ta\tb\t0\n7\tc\td\t1\n"}),
    Case("duplicate-id-conllu-sent_id", split("udpos", "test", "de", files={"test": "de.conllu"}),
         ("{tmp}/de.conllu: id s1 appears twice",),
         {"de.conllu": "".join(f"# sent_id = s1\n1\t{word}\t_\t{tag}\t_\t_\t0\troot\t_\t_\n\n"
                                for word, tag in (("Hunde", "NOUN"), ("bellen", "VERB")))}),
    Case("duplicate-id-xcopa-idx", split("xcopa", "test", "et"),
         ("{tmp}/test.et.jsonl: id et-1 appears twice",),
         {"test.et.jsonl": "".join(json.dumps({"premise": "p", "choice1": "a", "choice2": "b", "question": "cause",
                                               "label": 0, "idx": 1}) + "\n" for _ in range(2))}),
    # -- issue 32: --set takes only the study's declared variables, as YAML values ---------------
    Case("set-undeclared-seeds", ("study", "show", str(STUDIES / "real-transfer.yaml"), "--set", "seeds=[0, 1]"),
         ("--set seeds: not a variable of", "did you mean steps? its variables are data, out, steps, target_steps")),
    Case("set-misspelled-names", ("study", "run", str(STUDIES / "tiny.yaml"), "--set", "step=40", "--set", "seed=[0]",
                                  "--set", "out={tmp}/out"),
         ("--set step: not a variable of", "did you mean steps?", "--set seed: not a variable of")),
    Case("set-unclosed-list", ("study", "show", str(STUDIES / "embedded.yaml"), "--set", "seeds=[0"),
         ("--set seeds=[0: not a YAML value", "expected e.g. seeds=[0, 1]")),
    Case("set-unclosed-list-undeclared", ("study", "show", str(STUDIES / "real-transfer.yaml"), "--set", "seeds=[0"),
         ("--set seeds: not a variable of",)),
    Case("set-without-value", ("study", "show", str(STUDIES / "tiny.yaml"), "--set", "foo"),
         ("--set 'foo': expected NAME=VALUE",)),
    # -- issue 32: no abbreviated arguments, in LightningCLI and the project's commands -----------
    Case("abbreviation-max_step", lightning("fit", "--trainer.max_step", "7"),
         ("lightning_xfer: error: unrecognized arguments: --trainer.max_step 7 (python -m lightning_xfer fit --help",)),
    Case("abbreviation-batch_siz", lightning("fit", "--data.batch_siz", "8"),
         ("lightning_xfer: error: unrecognized arguments: --data.batch_siz 8 (python -m lightning_xfer fit --help",)),
    Case("abbreviation-study-run", ("study", "run", str(STUDIES / "tiny.yaml"), "--paral", "2"),
         ("unrecognized arguments: --paral 2",)),
    Case("abbreviation-report", ("report", "{tmp}/results.csv", "--boot", "20"), ("unrecognized arguments: --boot",),
         {"results.csv": table()}),
    Case("abbreviation-score", ("score", "--pred", "{tmp}", "--labels", "{tmp}"),
         ("unrecognized arguments: --pred {tmp} (python -m lightning_xfer score --help",)),
    Case("abbreviation-tasks", ("tasks", "--js"),
         ("unrecognized arguments: --js (python -m lightning_xfer tasks --help",)),
    # -- issue 34: the typed commands' parsers (commands.CommandParser) ---------------------------
    Case("score-without-predictions", ("score", "--labels", "{tmp}"), ("required: --predictions",)),
    Case("plan-without-encoder", ("plan", "--gpus", "8"), ("required: --encoder",)),
    Case("consolidate-without-out", ("consolidate", "{tmp}/last.ckpt"), ("required: --out",)),
    Case("plan-gpu-mem-not-a-number", ("plan", "--encoder", "xlm-roberta-base", "--gpu-mem", "lots"),
         ("lightning_xfer: error: --gpu-mem: expected float, got 'lots'",)),
    Case("plan-batch-not-a-number", ("plan", "--encoder", "xlm-roberta-base", "--batch", "x"),
         ("--batch: expected int or null, got 'x'",)),
    Case("plan-flags-as-the-readme-writes-them", ("plan", "--encoder", "xlm-roberta-base", "--gpu-mem", "80",
                                                   "--cpu-mem", "512", "--batch", "1", "--no-gradient-checkpointing"),
         ("512 GiB CPU memory per node;", "gradient checkpointing as given", "  1, off"), outcome="output"),
    Case("report-one-seed", ("report", "{tmp}/results.csv", "--min-seeds", "1"), ("--min-seeds must be at least 2",),
         {"results.csv": table()}),
    Case("report-set-twice-on-a-table", ("report", "{tmp}/results.csv", "--set", "out=x", "--set", "study=y"),
         ("--set out, study: sets a study file's variables",), {"results.csv": table()}),
    Case("encoders-prepare-unknown", ("encoders", "prepare", "nope"), ("unknown offline encoder 'nope'",)),
    Case("encoders-without-action", ("encoders",), ("prepare", "python -m lightning_xfer encoders --help")),
    # -- issue 32: report -------------------------------------------------------------------------
    Case("report-wrong-columns", ("report", "{tmp}/results.csv"),
         ("{tmp}/results.csv: no column encoder, intermediate, target, stage, task, language, metric, value "
          "(it has a, b)",), {"results.csv": "a,b\n1,2\n"}),
    Case("report-only-a-header", ("report", "{tmp}/results.csv"), ("{tmp}/results.csv: only a header, no scores",),
         {"results.csv": lambda: planted_rows()[0] + "\n"}),
    Case("report-empty-csv", ("report", "{tmp}/results.csv"), ("{tmp}/results.csv: the file is empty",),
         {"results.csv": ""}),
    Case("report-empty-jsonl", ("report", "{tmp}/results.jsonl"), ("{tmp}/results.jsonl: the file is empty",),
         {"results.jsonl": ""}),
    Case("report-set-without-value", ("report", "{tmp}/results.csv", "--set", "foo"),
         ("--set 'foo': expected NAME=VALUE",), {"results.csv": table()}),
    Case("report-set-on-a-table", ("report", "{tmp}/results.csv", "--set", "out=x"),
         ("--set out: sets a study file's variables",), {"results.csv": table()}),
    Case("report-duplicated-table", ("report", "{tmp}/results.csv"),
         ("{tmp}/results.csv: ", "rows repeat a key (run, stage, task, language, metric)"),
         {"results.csv": table(times=2)}),
    Case("report-duplicated-table-without-run", ("report", "{tmp}/results.csv"),
         ("rows repeat a key (encoder, intermediate, target, seed, phase, stage, task, language, metric)",),
         {"results.csv": lambda: "\n".join(",".join(r.split(",")[:1] + r.split(",")[2:]) for r in
                                           table(times=2)().splitlines()) + "\n"}),
    Case("report-study-without-finished-runs", ("report", str(STUDIES / "tiny.yaml"), "--set", "out={tmp}/out"),
         ("no run of study tiny has completed",)),
    Case("report-missing-run", ("report", "{tmp}/results.csv", "--bootstrap", "20"),
         ("lightning_xfer: warning: no scores for squad on xnli with xlm-roberta-base, seed 1: that cell is left out",),
         {"results.csv": table(lambda row: "squad.xnli.s1" not in row)}, "warning"),
    # -- issue 32: score ----------------------------------------------------------------------------
    Case("score-language-missing-from-both", SCORE,
         ("PROBLEM: pawsx: no predictions and no labels for es, fr, ja, ko, zh; xtreme averages pawsx over its 7",),
         {"labels/pawsx/test-de.tsv": ALL_PAWSX_LABELS["labels/pawsx/test-de.tsv"],
          "labels/pawsx/test-en.tsv": ALL_PAWSX_LABELS["labels/pawsx/test-en.tsv"],
          "predictions/pawsx/test-de.tsv": "1\n0\n1\n", "predictions/pawsx/test-en.tsv": "1\n0\n1\n"}, "problem"),
    Case("score-predictions-outside-the-label-set", SCORE,
         ("note: pawsx/de: 2 prediction(s) not among the labels ['0', '1'], counted as wrong: 'yes' (item 1), "
          "'' (item 2)", "avg_metric  pawsx 90.48"),
         {**ALL_PAWSX_LABELS, **{f"predictions/pawsx/test-{language}.tsv": "1\n0\n1\n" for language in PAWSX},
          "predictions/pawsx/test-de.tsv": "yes\n\n1\n"}, "output"),
    Case("score-non-utf8-predictions", SCORE, ("pawsx/de not scored: {tmp}/predictions/pawsx/test-de.tsv or",
                                               "is not UTF-8"),
         {**ALL_PAWSX_LABELS, **{f"predictions/pawsx/test-{language}.tsv": "1\n0\n1\n" for language in PAWSX},
          "predictions/pawsx/test-de.tsv": b"1\n\xff\n1\n"}, "problem"),
    # -- issue 32: study show and run ids -----------------------------------------------------------
    Case("study-show-pastes-safely", ("study", "show", "{tmp}/study.yaml"),
         ("== target.e5-touch-", shlex.quote(f"--model.learning_rate=1e-3{PAYLOAD}")),
         {"study.yaml": study_file(f"e5{PAYLOAD}", f"--model.learning_rate=1e-3{PAYLOAD}")}, "output"),
    Case("run-id-from-a-hub-name", ("study", "show", "{tmp}/study.yaml"),
         ("== target.org-model.none.synthetic-topic.s0", "--trainer.default_root_dir={tmp}/out/target.org-model."),
         {"study.yaml": study_file("org/model")}, "output"),
    Case("run-id-cannot-escape-out", ("study", "show", "{tmp}/study.yaml"),
         ("== target.escape.none.synthetic-topic.s0", "--trainer.default_root_dir={tmp}/out/target.escape."),
         {"study.yaml": study_file("../escape")}, "output"),
    Case("run-ids-that-collide", ("study", "show", "{tmp}/study.yaml"), ("run id target.a-b.none.synthetic-topic.s0 "
                                                                          "is made twice",),
         {"study.yaml": study_file("a/b", encoders="[{name: a/b, args: [--model.encoder.name=tiny]}, "
                                                   "{name: a-b, args: [--model.encoder.name=tiny]}]")}),
    # -- issue 32: files that do not decode ---------------------------------------------------------
    Case("non-utf8-tsv", lightning("test", topic()),
         ("{tmp}/test-en.tsv:2: byte b'\\xff' is not UTF-8; expected a UTF-8 text file",),
         {"test-en.tsv": b"a sentence\tsports\nanother \xff one\tsports\n"}),
    Case("non-utf8-squad-json", lightning("test", tasks(name="xquad", data_dir="{tmp}", languages=["de"])),
         ("{tmp}/xquad.de.json:1: byte b'\\xe9' is not UTF-8",),
         {"xquad.de.json": squad(ann()).replace("Ann came", "Ann caf\u00e9").encode("latin-1")}),
    # -- issue 32: checkpoints and the checkpoint folder --------------------------------------------
    Case("truncated-last-ckpt", lightning("fit", "--ckpt_path={tmp}/run/checkpoints/last.ckpt"),
         ("--ckpt_path: {tmp}/run/checkpoints/last.ckpt is truncated or damaged",
          "move it aside (mv {tmp}/run/checkpoints/last.ckpt {tmp}/run/checkpoints/last.ckpt.broken)"),
         {"run/checkpoints/last.ckpt": truncated_checkpoint}),
    Case("unwritable-checkpoint-dirpath", lightning("fit", "--trainer.callbacks.dirpath={tmp}/a-file/checkpoints"),
         ("trainer.callbacks.dirpath (ModelCheckpoint): cannot write into {tmp}/a-file/checkpoints: {tmp}/a-file is "
          "a file, not a folder",), {"a-file": ""}),
    # -- issue 32: a study file's problems, all at once ---------------------------------------------
    Case("study-problems-in-one-round", ("study", "show", "{tmp}/study.yaml"),
         ("`seeds:` expected a whole number, got 'zero'", "`checkpoint_every:` expected a whole number, got 'abc'",
          "unknown task 'squadd'", "unknown task 'xnlii'", "configs/encoders/nope.yaml does not exist"),
         {"study.yaml": study_file(encoders="[{name: x, configs: [configs/encoders/nope.yaml]}]",
                                   intermediate="[none, squadd]", targets="[xnlii]", seeds="[zero]",
                                   checkpoint_every='"abc"')}),
    Case("checkpoint-every-not-a-number", ("study", "show", "{tmp}/study.yaml"),
         ("{tmp}/study.yaml: `checkpoint_every:` expected a whole number, got 'abc'",),
         {"study.yaml": study_file(checkpoint_every="abc")}),
    Case("checkpoint-every-zero", ("study", "show", "{tmp}/study.yaml"),
         ("`checkpoint_every:` expected a positive number of steps, got 0",),
         {"study.yaml": study_file(checkpoint_every="0")}),
    Case("study-section-not-a-mapping", ("study", "show", "{tmp}/study.yaml"),
         ("`steps:` expected a mapping, got [100]", "`tasks:` expected a mapping, got 'squad'"),
         {"study.yaml": study_file(steps="[100]", tasks="squad")}),
    Case("bf16-weights-without-autocast", lightning("fit", "--model.encoder.dtype=bfloat16"),
         ("model.encoder.dtype=bfloat16 needs mixed precision, but trainer.precision is 32-true",)),
    # -- issue 34: a study that extends another ---------------------------------------------------
    Case("study-extends-a-missing-file", ("study", "show", "{tmp}/child.yaml"),
         ("{tmp}/nope.yaml: cannot read the study file (named by `extends:` in {tmp}/child.yaml, relative to "
          "its folder)",), {"child.yaml": "extends: nope.yaml\nstudy: child\nout: o\n"}),
    Case("study-extends-without-its-own-name", ("study", "show", "{tmp}/child.yaml"),
         ("{tmp}/child.yaml: a study that extends another sets its own `study:` and `out:`",),
         {"child.yaml": f"extends: {STUDIES / 'tiny.yaml'}\ntargets: [synthetic-topic]\n"}),
    Case("study-set-on-the-task-entry", ("study", "show", "{tmp}/study.yaml"),
         ("targets.synthetic-topic.set.data.tasks.max_eval_examples: a task's own fields go under `task:`",),
         {"study.yaml": study_file(targets="{synthetic-topic: {set: {data.tasks.max_eval_examples: 5}}}")}),
    Case("study-base-config-not-a-mapping", ("study", "show", "{tmp}/study.yaml"),
         ("{tmp}/base.yaml: expected a mapping of settings (`model:`, `data:`, `trainer:`), got a list",),
         {"study.yaml": study_file(base="[{tmp}/base.yaml]"), "base.yaml": "- trainer\n- model\n"}),
    Case("study-name-null", ("study", "show", "{tmp}/study.yaml"), ("`study:` (the study's name) is missing",),
         {"study.yaml": study_file(study="null")}),
    Case("study-extends-in-a-circle", ("study", "show", "{tmp}/a.yaml"),
         ("{tmp}/b.yaml: `extends: a.yaml` goes round in a circle ({tmp}/a.yaml -> {tmp}/b.yaml -> {tmp}/a.yaml)",),
         {"a.yaml": "extends: b.yaml\nstudy: a\nout: a\n", "b.yaml": "extends: a.yaml\nstudy: b\nout: b\n"}),
    # -- earlier rounds: the command line and the config (tests/test_errors.py) ---------------------
    Case("unknown-task", lightning("fit", tasks(name="pan-x")), ("unknown task 'pan-x'; did you mean 'panx'",)),
    Case("unknown-encoder", lightning("fit", "--model.encoder.name=xlm-roberta-lage"),
         ("cannot load encoder 'xlm-roberta-lage'", "offline preset")),
    Case("unknown-language", lightning("test", tasks(name="synthetic-topic", languages=["en", "xz"])),
         ("task synthetic-topic has no language 'xz'", "en, xa, xb, xc")),
    Case("validation-holdout-outside-0-1",
         lightning("test", tasks(name="synthetic-topic", languages=["en"], validation_holdout=1.5)),
         ("task synthetic-topic: validation_holdout is 1.5; expected a share of the training file between 0 and 1",)),
    Case("checkpoint-alias-without-a-run", lightning("test", "--ckpt_path=best"),
         ("--ckpt_path best: no run under trainer.default_root_dir={tmp}/runs",)),
    Case("missing-ckpt-path", lightning("test", "--ckpt_path={tmp}/nothing.ckpt"),
         ("--ckpt_path: {tmp}/nothing.ckpt does not exist",)),
    Case("doc-stride-too-long", lightning("fit", tasks(name="squad"), "--data.doc_stride=400"),
         ("data.doc_stride=400 does not fit task squad", "< 316")),
    Case("qa-settings-on-a-task-without-span-qa",
         lightning("test", tasks(name="synthetic-topic", languages=["en"], qa={"windows": "xtreme"})),
         ("task synthetic-topic: `qa` sets span-QA windows and decoding", "drop its `qa:` (data.tasks[].qa)")),
    # -- earlier rounds: unwritable output paths (tests/test_run_identity.py) -----------------------
    *[Case(f"unwritable-{key}", lightning("fit", f"--{key}={{tmp}}/a-file/out{suffix}"),
           (f"{key}: cannot write into {{tmp}}/a-file/out", "a-file is a file, not a folder"), {"a-file": ""})
      for key, suffix in (("trainer.default_root_dir", ""), ("results.path", "/results.jsonl"),
                          ("submission.dirpath", ""), ("export.dirpath", ""))],
    # -- earlier rounds: data files (tests/test_errors.py, tests/test_readers.py); the CLI path of a
    # data error (exit 2, one line) is the rows above that run `test` -----------------------------
    Case("missing-file", TOPIC_TEST, ("{tmp}/test-en.tsv does not exist", "languages")),
    Case("empty-split", TOPIC_TEST, ("test-en.tsv", "empty"), {"test-en.tsv": ""}),
    Case("label-outside-the-label-set", TOPIC_TEST,
         ("test-en.tsv, line 2: label 'politics' is not one of",), {"test-en.tsv": "a sentence\tsports\nanother "
                                                                                   "one\tpolitics\n"}),
    Case("tsv-extra-columns", TOPIC_TEST,
         ("{tmp}/test-en.tsv:2: 4 tab-separated columns; expected 'text<TAB>label' rows",),
         {"test-en.tsv": "a sentence\tsports\n\tno\tgood\tline\n"}),
    Case("qa-question-without-answers", split("xquad", "test", "de", languages=["de"]),
         ("{tmp}/xquad.de.json: question q2 has no gold answer; ",
          'expected every question of a labelled split to have "answers": [{"text"'),
         {"xquad.de.json": squad(ann(), {"id": "q2", "question": "Why?"})}),
    *[Case(f"reader-{name}", reader(function, name), (f"{{tmp}}/{name}:{line}: {problem}", "; expected"),
           {name: content})
      for name, content, function, line, problem in [
          ("bad.tsv", "a\tb\tc\td\nx\n", read_token_tsv, 1, "4 tab-separated fields"),
          ("empty-label.tsv", "Berlin\tB-LOC\nist\t\n", read_token_tsv, 2, "an empty label"),
          ("empty-token.tsv", "Berlin\tB-LOC\n\tO\n", read_token_tsv, 2, "an empty token"),
          ("bad.conllu", "1\tword\tlemma\n", read_conllu, 1, "3 columns"),
          ("truncated.json", '{"data": [', read_squad_json, 1, "invalid JSON"),
          ("short.tsv", "premise\thypothesis\tlabel\nonly one column\n", read_sentence_pair_tsv, 2, "1 tab-separated"),
          ("extra.tsv", "a\tb\tneutral\na\tb\tc\tneutral\n", read_sentence_pair_tsv, 2, "4 tab-separated columns"),
          ("no-label.tsv", "a\tb\tneutral\na\tb\t\n", read_sentence_pair_tsv, 2, "the label column is empty"),
          ("no-pair.tsv", "a\t\tneutral\n", read_sentence_pair_tsv, 1, "the text_pair column is empty"),
          ("header-extra.tsv", "id\tsentence1\tsentence2\tlabel\n1\ta\tb\t0\t0\n", read_sentence_pair_tsv, 2,
           "5 tab-separated columns"),
          ("header-empty.tsv", "id\tsentence1\tsentence2\tlabel\n1\t\tb\t0\n", read_sentence_pair_tsv, 2,
           "the sentence1 column is empty"),
          ("single-extra.tsv", "good film\t1\nbad\tfilm\t0\n", lambda p: read_sentence_pair_tsv(p, paired=False), 2,
           "3 tab-separated columns"),
          ("single-empty.tsv", "good film\t1\n \t0\n", lambda p: read_sentence_pair_tsv(p, paired=False), 2,
           "the text column is empty"),
      ]],
    *[Case(f"squad-{name}", reader(read_squad_json, "s.json"), (f"{{tmp}}/s.json: {problem}; expected ", expected),
           {"s.json": squad(*qas, **context)})
      for name, qas, context, problem, expected in [
          ("no-answers", [{"id": "q1", "question": "Who?"}], {}, "question q1 has no gold answer", '"answers"'),
          ("empty-answers", [{"id": "q1", "question": "Who?", "answers": []}], {}, "question q1 has no gold answer",
           "is_impossible"),
          ("answer-without-start", [{"id": "q1", "question": "Who?", "answers": [{"text": "Ann"}]}], {},
           "question q1: an answer without a text and an integer answer_start", "answer_start"),
          ("answer-start-a-string", [ann(answer_start="0")], {},
           "question q1: an answer without a text and an integer answer_start", "answer_start"),
          ("answer-start-off-by-one", [ann(answer_start=4)], {},
           "question q1: answer 'Ann' is not at answer_start 4 (the context has 'cam' there)",
           "answer_start to be the offset of the answer text"),
          ("answer-start-outside-context", [ann(answer_start=99)], {"context": "short"},
           "question q1: answer_start 99 outside its context", "answer_start"),
          ("duplicate-question-id", [ann(), ann()], {}, "question id q1 appears twice (again in data[0].paragraphs[0])",
           "unique question ids"),
      ]],
]
# fmt: on


def write_inputs(tmp: Path, files: dict[str, Content]) -> list[Path]:
    paths = []
    for name, content in files.items():
        path = tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        content = content() if callable(content) else content
        path.write_bytes(content if isinstance(content, bytes) else content.replace("{tmp}", str(tmp)).encode())
        paths.append(path)
    return paths


def run_command(command: tuple[str, ...], tmp: Path, capsys, monkeypatch) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `python -m lightning_xfer ...`, run in this process."""
    monkeypatch.setattr(sys, "argv", ["lightning_xfer"])  # LightningCLI warns when sys.argv holds pytest's
    code = 0
    try:
        main([argument.replace("{tmp}", str(tmp)) for argument in command])
    except SystemExit as exit_info:
        code = exit_info.code if isinstance(exit_info.code, int) else 1
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input(case: Case, tmp_path: Path, capsys, monkeypatch):
    monkeypatch.chdir(PROJECT)  # study files name their configs from the project root
    inputs = write_inputs(tmp_path, case.files)
    expected = [fragment.replace("{tmp}", str(tmp_path)) for fragment in case.expected]
    if callable(case.command):
        assert case.outcome == "error"
        with pytest.raises(UserError) as error:
            case.command(tmp_path)
        code, out, err = 2, "", str(error.value)
    else:
        code, out, err = run_command(case.command, tmp_path, capsys, monkeypatch)
    read = {"error": err, "warning": err, "problem": out, "output": out}[case.outcome]
    for fragment in expected:
        assert fragment in read, f"{case.id}: {fragment!r} not in:\n{read[-3000:]}"
    assert code == (2 if case.outcome in ("error", "problem") else 0), f"{case.id}: exit {code}\n{err[-3000:]}"
    assert "Traceback" not in err
    assert all(path.exists() for path in inputs), "a bad input file was deleted"


def test_every_issue_32_case_has_a_row():
    """Issue 32's cases, each named by at least one row (the closing note counts them)."""
    ids = {case.id for case in CASES}
    covered = ("duplicate-id-pawsx-test", "duplicate-id-pawsx-train", "set-misspelled-names", "set-undeclared-seeds",
               "set-unclosed-list", "abbreviation-max_step", "abbreviation-batch_siz", "report-wrong-columns",
               "report-only-a-header", "report-empty-csv", "report-set-without-value", "report-missing-run",
               "report-duplicated-table", "score-language-missing-from-both", "score-predictions-outside-the-label-set",
               "study-show-pastes-safely", "run-id-from-a-hub-name", "run-id-cannot-escape-out", "non-utf8-tsv",
               "non-utf8-squad-json", "truncated-last-ckpt", "unwritable-checkpoint-dirpath",
               "study-problems-in-one-round", "checkpoint-every-not-a-number")  # fmt: skip
    for prefix in covered:
        assert prefix in ids, prefix


def test_printed_study_commands_paste_into_a_shell_as_the_same_arguments(tmp_path, capsys, monkeypatch):
    """`study show`'s lines, pasted into bash with `printf` in place of python, give back each argument
    as the study built it, and the `$(...)` in the encoder's name never runs."""
    from lightning_xfer.study.graph import load_runs

    monkeypatch.chdir(PROJECT)
    study = study_file(f"e5{PAYLOAD}", f"--model.learning_rate=1e-3{PAYLOAD}", f"--trainer.logger=x{PAYLOAD}")
    (tmp_path / "study.yaml").write_text(study.replace("{tmp}", str(tmp_path)))
    _, runs = load_runs(tmp_path / "study.yaml")
    for run in runs:
        for line, command in zip(run.shell(), run.commands, strict=True):
            pasted = line.replace("python -m lightning_xfer", "printf '%s\\n'", 1)
            echoed = subprocess.run(["bash", "-c", pasted], capture_output=True, text=True, check=True).stdout
            assert echoed.splitlines() == list(command)
    assert not (tmp_path / "pwned").exists()
