"""The embedded world's tasks (`lightning_xfer.synthetic.world`): the benchmark's shapes, generated.

Each mirrors a real task and goes through its family, reader and metric: `world-nli` / `world-xnli`
(MNLI / XNLI), `world-qa` / `world-xqa` (SQuAD / XQuAD), `world-choice` / `world-xchoice`
(HellaSwag / XCOPA), `world-ner` (PAN-X), `world-pos` (UD-POS), `world-retrieval` (Tatoeba) and
`world-mlm` (the pre-training corpus, also the continued-MLM condition); and a study with a known
answer (`synthetic.world.planted`, SST-2's TSV): `world-planted` teaches what the target
`world-kind` needs, `world-control` teaches nothing a target uses. Intermediate tasks are English
only; targets train in English and test in all ten languages. Every target but `world-kind` (whose
planted task teaches one domain's things) is declared in its training domain and again, as
`<name>-<other domain>`, tested in the other domain with the same training data: the domain-shift
pairs of the report. No `data_dir` is needed: the files are written into the cache on first use,
keyed by the world's fingerprint.
"""

from __future__ import annotations

import dataclasses

from lightning_xfer.families.classification import Classification
from lightning_xfer.families.masked_lm import MaskedLM
from lightning_xfer.families.multiple_choice import MultipleChoice
from lightning_xfer.families.retrieval import Retrieval
from lightning_xfer.families.span_qa import SpanQA
from lightning_xfer.families.tagging import Tagging
from lightning_xfer.metrics.accuracy import accuracy
from lightning_xfer.metrics.masked_lm import masked_token_accuracy
from lightning_xfer.metrics.seqeval_chunks import chunk_scores
from lightning_xfer.metrics.squad import squad_scores
from lightning_xfer.readers.dispatch import read_pair_file, read_qa_file, read_single_file, read_tagging_file
from lightning_xfer.readers.english_tasks import read_hellaswag
from lightning_xfer.readers.tatoeba import read_tatoeba
from lightning_xfer.readers.text_lines import read_text_lines
from lightning_xfer.submission.formats import LabelLines
from lightning_xfer.synthetic.world import WORLD, WorldWriter, choice, corpus, nli, planted, qa, retrieval, tagging
from lightning_xfer.synthetic.world.grammar import DOMAINS
from lightning_xfer.synthetic.world.kinds import THING_KINDS, VERB_CLASSES
from lightning_xfer.tasks import labels
from lightning_xfer.tasks.task import LocalFiles, Task

LANGUAGES = WORLD.codes


def _files(extension: str, train_domain: str, test_domain: str) -> dict[str, str]:
    return {"train": f"train-{train_domain}-en.{extension}", "validation": f"dev-{train_domain}-{{lang}}.{extension}",
            "test": f"test-{test_domain}-{{lang}}.{extension}"}  # fmt: skip


def _pair(task: Task, extension: str, train_domain: str) -> tuple[Task, Task]:
    """The target in its training domain, and its twin tested in the other domain."""
    other = next(name for name in DOMAINS if name != train_domain)
    files = LocalFiles(_files(extension, train_domain, train_domain), task.local.reader)
    own = dataclasses.replace(task, domain=f"world {train_domain}", local=files)
    shifted = dataclasses.replace(
        own,
        name=f"{task.name}-{other}",
        description=f"{task.description} Tested in the {other} domain (trained in {train_domain}).",
        domain=f"world {other}",
        local=LocalFiles({"test": f"test-{other}-{{lang}}.{extension}"}, task.local.reader),
        train_from=own.train_from or own,
    )
    return own, shifted


def _intermediate(name: str, description: str, family, metric, primary: str, write, extension: str, reader,
                  train_domain: str, **fields) -> Task:  # fmt: skip
    files = _files(extension, train_domain, train_domain)
    return Task(name=name, family=family, description=description, role="intermediate", metric=metric,
                primary_metric=primary, domain=f"world {train_domain}", generator=WorldWriter(write),
                local=LocalFiles({"train": files["train"], "validation": files["validation"]}, reader),
                **fields)  # fmt: skip


WORLD_NLI = _intermediate("world-nli", "The world's NLI (MNLI's shape): does a hypothesis follow from a premise?",
                          Classification(), accuracy, "accuracy", nli.write_nli, "tsv", read_pair_file,
                          nli.TRAIN_DOMAIN, labels=nli.LABELS)  # fmt: skip
WORLD_QA = _intermediate("world-qa", "The world's extractive QA (SQuAD's shape): who, what, where, when.", SpanQA(),
                         squad_scores, "f1", qa.write_qa, "json", read_qa_file, qa.TRAIN_DOMAIN,
                         max_length=256)  # a low-resource paragraph is spelt in short pieces  # fmt: skip
WORLD_CHOICE = _intermediate("world-choice", "The world's story continuation (HellaSwag's shape), 4 choices.",
                             MultipleChoice(), accuracy, "accuracy", choice.write_choice, "jsonl", read_hellaswag,
                             choice.TRAIN_DOMAIN)  # fmt: skip
WORLD_PLANTED = _intermediate("world-planted", "The planted intermediate task (SST-2's shape): is the thing a "
                              "question names precious or plain? Every thing of the domain, so it teaches what "
                              "world-kind's training set leaves out.", Classification(), accuracy, "accuracy",
                              planted.write_planted, "tsv", read_single_file, planted.DOMAIN,
                              labels=THING_KINDS.labels)  # fmt: skip
WORLD_CONTROL = _intermediate("world-control", "The control for world-planted (the same questions, size and "
                              "format): is the verb quiet or loud? A class no target uses.", Classification(),
                              accuracy, "accuracy", planted.write_control, "tsv", read_single_file, planted.DOMAIN,
                              labels=VERB_CLASSES.labels)  # fmt: skip

_TARGET = {"role": "target", "languages": LANGUAGES, "benchmarks": ("world",)}
WORLD_XNLI, WORLD_XNLI_SHIFTED = _pair(
    dataclasses.replace(WORLD_NLI, name="world-xnli", description="The world's NLI in ten languages (XNLI's shape).",
                        local=LocalFiles({}, read_pair_file), train_from=WORLD_NLI, **_TARGET),
    "tsv", nli.TRAIN_DOMAIN)  # fmt: skip
WORLD_XQA, WORLD_XQA_SHIFTED = _pair(
    dataclasses.replace(WORLD_QA, name="world-xqa", description="The world's QA in ten languages (XQuAD's shape).",
                        local=LocalFiles({}, read_qa_file), train_from=WORLD_QA, **_TARGET),
    "json", qa.TRAIN_DOMAIN)  # fmt: skip
WORLD_XCHOICE, WORLD_XCHOICE_SHIFTED = _pair(
    dataclasses.replace(WORLD_CHOICE, name="world-xchoice", description="The world's story continuation in ten "
                        "languages (XCOPA's role).", local=LocalFiles({}, read_hellaswag), train_from=WORLD_CHOICE,
                        **_TARGET),
    "jsonl", choice.TRAIN_DOMAIN)  # fmt: skip
WORLD_NER, WORLD_NER_SHIFTED = _pair(
    Task(name="world-ner", family=Tagging(), description="The world's named entities, IOB2 PER/ORG/LOC (PAN-X's "
         "shape).", metric=chunk_scores, primary_metric="f1", labels=labels.PANX, generator=WorldWriter(
         tagging.write_ner), local=LocalFiles({}, read_tagging_file), **_TARGET),
    "tsv", tagging.NER_DOMAIN)  # fmt: skip
WORLD_POS, WORLD_POS_SHIFTED = _pair(
    Task(name="world-pos", family=Tagging(), description="The world's universal part-of-speech tags (UD-POS's "
         "shape).", metric=chunk_scores, primary_metric="f1", labels=labels.UPOS, generator=WorldWriter(
         tagging.write_pos), local=LocalFiles({}, read_tagging_file), **_TARGET),
    "tsv", tagging.POS_DOMAIN)  # fmt: skip
WORLD_KIND = Task(
    name="world-kind",
    family=Classification(),
    description="The world's thing kinds in ten languages: is a sentence's thing precious or plain? English "
    f"training shows {2 * planted.SEEN_PER_KIND} of the domain's {len(DOMAINS[planted.DOMAIN].things)} things, "
    "the test all of them: the intermediate task world-planted helps it, world-control does not.",
    metric=accuracy,
    primary_metric="accuracy",
    labels=THING_KINDS.labels,
    domain=f"world {planted.DOMAIN}",
    local=LocalFiles(_files("tsv", planted.DOMAIN, planted.DOMAIN), read_single_file),
    generator=WorldWriter(planted.write_kind),
    **_TARGET,
)

WORLD_RETRIEVAL = Task(
    name="world-retrieval",
    family=Retrieval(pooling="mean"),
    description="The world's parallel sentences (Tatoeba's shape): each English sentence's translation by "
    "the cosine of mean-pooled middle-layer states; no training.",
    role="target",
    metric=accuracy,
    primary_metric="accuracy",
    languages=LANGUAGES[1:],
    benchmarks=("world",),
    domain="world news + fiction",
    local=LocalFiles({"test": "tatoeba.{lang}-eng.{lang}"}, read_tatoeba),
    needs_training=False,
    submission=LabelLines(integer=True),
    generator=WorldWriter(retrieval.write_retrieval),
)

WORLD_MLM = Task(
    name="world-mlm",
    family=MaskedLM(),
    description="Masked language modelling on the world's pre-training corpus: all ten languages, as much "
    "text of each as its resource tier gives (phase 1 of the embedded study; also the continued-MLM condition).",
    role="intermediate",
    metric=masked_token_accuracy,
    primary_metric="accuracy",
    languages=LANGUAGES,
    domain="world news + fiction",
    local=LocalFiles({"train": "train.txt", "test": "test-{lang}.txt"}, read_text_lines),
    generator=WorldWriter(corpus.write_corpus),
)

TASKS = (WORLD_NLI, WORLD_QA, WORLD_CHOICE, WORLD_PLANTED, WORLD_CONTROL, WORLD_MLM, WORLD_XNLI, WORLD_XNLI_SHIFTED,
         WORLD_XQA, WORLD_XQA_SHIFTED, WORLD_XCHOICE, WORLD_XCHOICE_SHIFTED, WORLD_NER, WORLD_NER_SHIFTED, WORLD_POS,
         WORLD_POS_SHIFTED, WORLD_KIND, WORLD_RETRIEVAL)  # fmt: skip
