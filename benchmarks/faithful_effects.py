"""The score effect of each of issue 33's XTREME behaviours on the `multilingual-e5-small` stand-in,
on real data in ../shared/data (small subsets, so it runs in minutes on 2 CPU cores).

- LAReQA (untrained e5, the first `--articles` articles of each XQuAD-R language, one pool): mAP@20
  under XTREME-R's dual-encoder protocol and with each of its settings switched to ours.
- Tatoeba (`--tatoeba` languages): accuracy with float32 embeddings against bf16 autocast.
- XQuAD (`--qa` languages): EM/F1 of gold spans decoded with XTREME's answer text against the
  character slice (the decoding alone: an oracle's spans, no model).

    OMP_NUM_THREADS=1 python benchmarks/faithful_effects.py
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from lightning_xfer.data.datamodule import XferDataModule  # noqa: E402
from lightning_xfer.encoder.spec import EncoderSpec  # noqa: E402
from lightning_xfer.evaluation import score_eval_set  # noqa: E402
from lightning_xfer.families.family import FeatureSettings, merge_collected  # noqa: E402
from lightning_xfer.families.span_qa import SpanQASettings  # noqa: E402
from lightning_xfer.model import XferModule, full_precision  # noqa: E402
from lightning_xfer.tasks.config import TaskConfig  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
E5 = "multilingual-e5-small"


def scores(config: TaskConfig, family_changes: dict, autocast: bool) -> dict[str, float]:
    """Primary metric per language of an untrained e5 on `config`, with the family's fields changed."""
    data = XferDataModule([config], EncoderSpec(name=E5), eval_batch_size=32, cache_features=False)
    run_task = data.run_tasks[0]
    task = dataclasses.replace(run_task.task, family=dataclasses.replace(run_task.task.family, **family_changes))
    data.run_tasks[0] = dataclasses.replace(run_task, task=task)
    data.setup("test")
    model = XferModule(EncoderSpec(name=E5), data.run_tasks)
    torch.manual_seed(0)  # the pooler e5 lacks starts at BERT's initialisation: the same draw each time
    model.configure_model()
    model.eval()
    results = {}
    for eval_set, loader in zip(data.eval_sets["test"], data.test_dataloader(), strict=True):
        parts = []
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            for batch in loader:
                with full_precision(torch.device("cpu"), task.family.evaluates_in_fp32()):
                    output = model.forward_task(task.name, batch)
                parts.append(task.family.collect(batch, output, eval_set.settings))
        set_scores, _ = score_eval_set(eval_set, merge_collected(parts), "test")
        results[eval_set.language] = next(s.value for s in set_scores if s.metric == task.primary_metric)
    return results


def lareqa(articles: int, bf16: bool) -> None:
    folder = Path(tempfile.mkdtemp(prefix="lareqa-subset-"))
    for path in sorted((SHARED / "lareqa" / "xquad-r").glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        document["data"] = document["data"][:articles]
        (folder / path.name).write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    languages = sorted(p.stem for p in folder.glob("*.json"))
    config = TaskConfig("lareqa", data_dir=str(folder), languages=languages)
    variants = {
        "XTREME-R (lower-case, pooler, questions 96, fp32)": ({}, True),
        "  cased inputs": ({"lower_case_xlmr": False}, True),
        "  first token, no pooler": ({"pooler": False}, True),
        "  questions cut at 256": ({"query_max_length": None}, True),
        "  bf16 autocast": ({"embed_in_fp32": False}, True),
        "ours (all four)": (
            {"lower_case_xlmr": False, "pooler": False, "query_max_length": None, "embed_in_fp32": False},
            True,
        ),
    }
    print(f"LAReQA, untrained e5, first {articles} articles of {languages}: mAP@20")
    for name, (changes, autocast) in variants.items():
        if not bf16 and not changes.get("embed_in_fp32", True):
            continue
        start = time.time()
        values = scores(config, changes, autocast)
        mean = sum(values.values()) / len(values)
        detail = " ".join(f"{k} {v:.2f}" for k, v in values.items())
        print(f"  {name:52s} mean {mean:6.2f}  ({detail})  [{time.time() - start:.0f} s]", flush=True)


def tatoeba(languages: list[str], skip_bf16: bool = False) -> None:
    print(f"Tatoeba, untrained e5, {languages}: accuracy")
    config = TaskConfig("tatoeba", data_dir=str(SHARED / "tatoeba"), languages=languages)
    variants = (("fp32 (XTREME)", {}), ("bf16 autocast", {"embed_in_fp32": False}))
    for name, changes in variants[: 1 if skip_bf16 else 2]:
        values = scores(config, changes, autocast=True)
        mean = sum(values.values()) / len(values)
        print(f"  {name:20s} mean {mean:6.2f}  " + " ".join(f"{k} {v:.1f}" for k, v in values.items()), flush=True)


def qa(languages: list[str]) -> None:
    from test_features import featurize, gold_answer_logits, oracle_decode

    from lightning_xfer.encoder.loading import load_tokenizer
    from lightning_xfer.readers.squad_json import read_squad_json

    tokenizer = load_tokenizer(E5)
    print("XQuAD, gold spans through the decoding (e5's XLM-R tokenizer, XTREME's windows): EM / F1")
    for language in languages:
        examples = read_squad_json(SHARED / "xquad" / f"xquad.{language}.json")
        line = []
        for mode in ("characters", "xtreme"):
            settings = FeatureSettings(max_length=384, doc_stride=128)
            qa = SpanQASettings(windows="xtreme", answer_text=mode)
            task, dataset, features = featurize("xquad", examples, tokenizer, settings, training=False, qa=qa)
            predictions = oracle_decode(task, dataset, features, tokenizer, settings, gold_answer_logits(examples))
            values = task.metric(predictions, task.family.references(task, dataset), language)
            line.append(f"{mode} {values['exact_match']:.1f} / {values['f1']:.1f}")
        print(f"  {language} ({len(examples)} questions): " + "  ".join(line), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=8)
    parser.add_argument("--tatoeba", nargs="*", default=["de", "fr", "zh", "ar", "jv", "sw"])
    parser.add_argument("--qa", nargs="*", default=["zh", "th", "en", "de"])
    parser.add_argument("--only", choices=["lareqa", "tatoeba", "qa"])
    parser.add_argument("--no-bf16", action="store_true", help="skip bf16 variants (slow on CPUs without bf16 units)")
    args = parser.parse_args()
    if args.only in (None, "qa"):
        qa(args.qa)
    if args.only in (None, "tatoeba"):
        tatoeba(args.tatoeba, skip_bf16=args.no_bf16)
    if args.only in (None, "lareqa"):
        lareqa(args.articles, bf16=not args.no_bf16)


if __name__ == "__main__":
    main()
