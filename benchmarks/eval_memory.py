"""Host memory of gathering evaluation outputs across ranks: all ranks (all-gather) or rank 0 only.

At the end of an evaluation every rank holds the outputs of its shard: for retrieval, an embedding
per sentence (BUCC: ~800k sentences x 768 floats per language pair, 2.3 GiB); for QA, the top-20
start and end candidates per window. `XferModule._gathered` sends every shard to rank 0, which
decodes and scores; an all-gather (`all_gather_object`, what the model did before) leaves a copy
of everything on every rank, so host memory grows with ranks x examples. Each way runs in fresh
gloo processes on this CPU; the script prints each rank's peak resident memory above its
baseline, and what one QA window costs collected against its full logits.

    python benchmarks/eval_memory.py [--sentences 200000] [--worlds 2 4]
"""

from __future__ import annotations

import argparse
import os
import resource
import types

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from lightning_xfer.families.span_qa import SpanQA
from lightning_xfer.heads.output import HeadOutput
from lightning_xfer.model import XferModule


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rank_main(rank: int, world: int, way: str, sentences: int, port: int, queue) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    shard = sentences // world
    collected = {0: [{"feature_index": torch.arange(rank * shard, (rank + 1) * shard),
                      "embedding": torch.randn(shard, 768)}]}  # fmt: skip
    dist.barrier()
    baseline = peak_mib()
    if way == "rank 0 (ours)":
        module = types.SimpleNamespace(_collected=collected, trainer=types.SimpleNamespace(world_size=world),
                                       _distributed=lambda: True)  # fmt: skip
        joined = XferModule._gathered(module)
    else:
        everyone = [None] * world
        dist.all_gather_object(everyone, collected)
        joined = everyone
    held = 0 if joined is None else sum(p["embedding"].numel() * 4 for r in _parts(joined) for p in r)
    dist.barrier()
    queue.put((rank, peak_mib() - baseline, held / 2**20))
    dist.destroy_process_group()


def _parts(joined) -> list[list[dict]]:
    return list(joined.values()) if isinstance(joined, dict) else [parts for c in joined for parts in c.values()]


def qa_window_bytes() -> tuple[int, int]:
    """Bytes one 384-token QA window keeps after `SpanQA.collect`, and its full start/end logits."""
    logits = torch.randn(1, 384, 2)
    kept = SpanQA().collect({"feature_index": torch.zeros(1, dtype=torch.long)}, HeadOutput(loss=None, logits=logits))
    return sum(t.numel() * t.element_size() for t in kept.values()), logits.numel() * logits.element_size()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sentences", type=int, default=200000, help="embeddings (d=768) over all ranks")
    parser.add_argument("--worlds", type=int, nargs="+", default=[2, 4])
    args = parser.parse_args()
    total = args.sentences * 768 * 4 / 2**20
    print(f"{args.sentences:,} embeddings of 768 floats: {total:,.0f} MiB in all")
    print(f"{'ranks':>6}  {'gathered on':<15}{'rank 0 peak +MiB':>18}{'other ranks, max':>18}{'all ranks':>11}")
    context = mp.get_context("spawn")
    for number, world in enumerate(args.worlds):
        for offset, way in enumerate(("all ranks", "rank 0 (ours)")):
            queue = context.Queue()
            port = 29600 + 2 * number + offset
            processes = [context.Process(target=rank_main, args=(r, world, way, args.sentences, port, queue))
                         for r in range(world)]  # fmt: skip
            for process in processes:
                process.start()
            peaks = dict((rank, peak) for rank, peak, _ in (queue.get() for _ in processes))
            for process in processes:
                process.join()
            others = max(peaks[r] for r in peaks if r != 0)
            print(f"{world:>6}  {way:<15}{peaks[0]:>18,.0f}{others:>18,.0f}{sum(peaks.values()):>11,.0f}")
    kept, full = qa_window_bytes()
    print(f"one QA window collected: {kept:,} bytes (top-20 start/end) vs {full:,} bytes of logits: {full / kept:.1f}x")


if __name__ == "__main__":
    main()
