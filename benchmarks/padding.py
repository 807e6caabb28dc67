"""Real (non-padding) tokens per second of our batching against XTREME's pad-to-max, on real data.

XTREME's scripts pad every input to `max_seq_length` (128 for tagging and classification, 384 for
QA) and read the file in order. lightning_xfer pads each batch to its own longest input, evaluates
longest first (`data.sort_eval_by_length`, on by default) and can train on length-grouped batches
(`data.group_by_length`, off by default). All orders are measured side by side in one run, on the
same features from the same DataModule and the same encoder; evaluation times forward passes,
training times forward + backward. The padding fraction counts every batch of the first
`--examples` examples; the speed is timed on `--timed-batches` batches spread evenly through each
order. Prints each order's padding fraction and its real tokens/s relative to XTREME's.

    python benchmarks/padding.py [--encoder multilingual-e5-small] [--examples 2000] [--timed-batches 6]
                                 [--data ../shared/data]

Needs ../shared/data (PAN-X, UD-POS, XNLI, XQuAD) and, for the default encoder, the `e5` extra.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from torch.nn import functional

from lightning_xfer.data.datamodule import XferDataModule
from lightning_xfer.data.length import length_grouped_sampler, longest_first
from lightning_xfer.encoder.loading import load_encoder
from lightning_xfer.encoder.spec import EncoderSpec
from lightning_xfer.heads.output import IGNORE_INDEX
from lightning_xfer.tasks.config import TaskConfig

# (task, data_dir under ../shared/data, test language, its files, XTREME's max_seq_length: what it pads to)
TASKS = [
    ("panx", "panx_xtreme", "de", None, 128),
    ("udpos", "udpos_xtreme", "bg", None, 128),
    ("xnli", "xnli_de", "de", {"validation": "dev.txt", "test": "test.txt"}, 128),
    ("xquad", "xquad", "de", None, 384),
]


def padded_to(batch: dict[str, torch.Tensor], length: int, pad_id: int) -> dict[str, torch.Tensor]:
    """`batch` padded on the right to `length` tokens, as XTREME's feature conversion does."""
    out = {}
    for key, value in batch.items():
        if value.dim() != 2 or value.shape[1] >= length:
            out[key] = value
            continue
        fill = pad_id if key == "input_ids" else (IGNORE_INDEX if key == "labels" else 0)
        out[key] = functional.pad(value, (0, length - value.shape[1]), value=fill)
    return out


def seconds(encoder, batches: list[dict[str, torch.Tensor]], training: bool) -> float:
    """Seconds for a forward (and, training, backward) pass over every batch, after a warm-up."""

    def run(batch):
        inputs = {k: batch[k] for k in ("input_ids", "attention_mask")}
        if training:
            encoder(**inputs).last_hidden_state.float().pow(2).mean().backward()
        else:
            with torch.inference_mode():
                encoder(**inputs)

    run(batches[-1])
    took = []
    for _ in range(2):  # the faster of two passes: this machine's other load only ever slows one down
        start = time.perf_counter()
        for batch in batches:
            run(batch)
        took.append(time.perf_counter() - start)
    return min(took)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--encoder", default="multilingual-e5-small")
    parser.add_argument("--examples", type=int, default=2000, help="first N test examples of each task")
    parser.add_argument("--timed-batches", type=int, default=6, help="batches timed per order, evenly spaced")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    args = parser.parse_args()
    torch.manual_seed(0)
    spec = EncoderSpec(name=args.encoder, freeze_embeddings=True)
    encoder = load_encoder(spec).train()
    header = f"{'task':<7}{'pass':<7}{'order':<26}{'pad %':>7}{'real tok/s':>12}{'vs XTREME':>11}"
    print(header)
    for task, folder, language, files, xtreme_length in TASKS:
        config = TaskConfig(name=task, data_dir=f"{args.data}/{folder}", files=files, languages=[language],
                            max_length=xtreme_length, max_eval_examples=args.examples)  # fmt: skip
        data = XferDataModule([config], encoder=spec, eval_batch_size=args.batch_size)
        data.setup("test")
        [eval_set] = data.eval_sets["test"]
        features = eval_set.features

        def batches(order: list[int], pad_to: int | None = None, eval_set=eval_set, tokenizer=data.tokenizer):
            out = []
            for start in range(0, len(order), args.batch_size):
                rows = [eval_set.features[i] for i in order[start : start + args.batch_size]]
                batch = eval_set.task.family.collate(rows, tokenizer)
                out.append(padded_to(batch, pad_to, tokenizer.pad_token_id) if pad_to else batch)
            return out

        file_order = list(range(len(features)))
        shuffled = torch.randperm(len(features)).tolist()
        grouped = list(length_grouped_sampler(features, args.batch_size, seed=0))
        plans = [
            ("eval", "XTREME: file order, max", batches(file_order, xtreme_length)),
            ("eval", "file order, per batch", batches(file_order)),
            ("eval", "longest first (default)", batches(longest_first(features))),
            ("train", "XTREME: shuffled, max", batches(shuffled, xtreme_length)),
            ("train", "shuffled, per batch", batches(shuffled)),
            ("train", "length-grouped (opt-in)", batches(grouped)),
        ]
        rates = {}
        for passes, name, planned in plans:
            real = sum(int(b["attention_mask"].sum()) for b in planned)
            slots = sum(b["attention_mask"].numel() for b in planned)
            timed = planned[:: max(1, len(planned) // args.timed_batches)][: args.timed_batches]
            rate = sum(int(b["attention_mask"].sum()) for b in timed) / seconds(encoder, timed, passes == "train")
            rates.setdefault(passes, rate)
            print(f"{task:<7}{passes:<7}{name:<26}{100 * (1 - real / slots):>6.1f}%{rate:>12,.0f}"
                  f"{rate / rates[passes]:>10.2f}x", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
