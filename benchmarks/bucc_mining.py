"""Ratio-margin mining at BUCC scale: our blocked top-k against a dense similarity matrix (and faiss).

BUCC 2018 mines ~400k x ~400k sentences per language pair. A dense cosine matrix of n x n float32
needs 4 n^2 bytes (40 GB at n = 100k); `families/bitext_mining.mine` finds the k nearest
neighbours `block` rows at a time, so its memory is block x n. Each way runs in a subprocess of
its own, so its peak resident memory is its own; all ways mine the same seeded embeddings (unit
vectors of dimension 768, a planted translation for every source) and must return the same pairs
where they all run.

    python benchmarks/bucc_mining.py [--sizes 20000 50000 100000] [--dense-limit 30000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import torch

from lightning_xfer.families.bitext_mining import margin_matches, mine


def embeddings(n: int, dimension: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Unit source vectors and targets that are their noisy translations, shuffled."""
    generator = torch.Generator().manual_seed(seed)
    sources = torch.nn.functional.normalize(torch.randn(n, dimension, generator=generator), dim=1)
    noise = torch.randn(n, dimension, generator=generator)
    targets = torch.nn.functional.normalize(sources + 1.2 * noise / dimension**0.5, dim=1)
    return sources, targets[torch.randperm(n, generator=generator)]


def dense_mine(sources: torch.Tensor, targets: torch.Tensor, k: int = 4) -> list[tuple[float, int, int]]:
    """The same margin mining from one n x n similarity matrix (what a direct implementation does)."""
    similarity = sources @ targets.T
    forward = similarity.topk(k, dim=1)
    backward = similarity.T.topk(k, dim=1)
    del similarity
    return margin_matches(forward.values, forward.indices, backward.values, backward.indices)


def faiss_mine(sources: torch.Tensor, targets: torch.Tensor, k: int = 4) -> list[tuple[float, int, int]]:
    """The same margin mining with faiss' exact inner-product index (XTREME's `knn`)."""
    import faiss

    def search(queries, keys):
        index = faiss.IndexFlatIP(keys.shape[1])
        index.add(keys.numpy())
        values, indices = index.search(queries.numpy(), k)
        return torch.from_numpy(values), torch.from_numpy(indices)

    forward_values, forward_indices = search(sources, targets)
    backward_values, backward_indices = search(targets, sources)
    return margin_matches(forward_values, forward_indices, backward_values, backward_indices)


def arm(way: str, n: int, dimension: int, block: int) -> None:
    """Run one way in this process and print its seconds, peak RSS and a digest of its pairs."""
    sources, targets = embeddings(n, dimension)
    start = time.perf_counter()
    if way == "ours":
        pairs = mine(sources, targets, k=4, block=block)
    elif way == "dense":
        pairs = dense_mine(sources, targets)
    else:
        pairs = faiss_mine(sources, targets)
    took = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(json.dumps({"seconds": took, "peak_gib": peak, "pairs": sorted((s, t) for _, s, t in pairs)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20000, 50000, 100000])
    parser.add_argument("--dimension", type=int, default=768)
    parser.add_argument("--block", type=int, default=4096)
    parser.add_argument("--dense-limit", type=int, default=30000, help="largest n the dense way is run at")
    parser.add_argument("--arm", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.arm:
        arm(args.arm, args.n, args.dimension, args.block)
        return
    try:
        import faiss  # noqa: F401

        ways = ["ours", "dense", "faiss"]
    except ImportError:
        ways = ["ours", "dense"]
    print(f"{'n':>8}{'way':>7}{'seconds':>9}{'peak RSS GiB':>14}{'dense matrix GiB':>18}{'vs dense':>10}")
    for n in args.sizes:
        results = {}
        for way in ways:
            if way == "dense" and n > args.dense_limit:
                continue
            command = [sys.executable, __file__, "--arm", way, f"--n={n}", f"--dimension={args.dimension}",
                       f"--block={args.block}"]  # fmt: skip
            results[way] = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
        for way, result in results.items():
            if way != "ours" and result["pairs"] != results["ours"]["pairs"]:
                raise AssertionError(f"n={n}: {way} mined other pairs than ours")
            versus = results["dense"]["seconds"] / result["seconds"] if "dense" in results else float("nan")
            print(f"{n:>8}{way:>7}{result['seconds']:>9.1f}{result['peak_gib']:>14.2f}{4 * n * n / 2**30:>18.1f}"
                  f"{versus:>9.2f}x", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
