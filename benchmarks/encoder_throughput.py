"""Training and inference throughput of an encoder on this CPU, and its model FLOPs utilisation.

Everything is measured side by side in one run (this machine is noisy): the CPU's own matmul
throughput first, then the encoder's forward pass (inference) and forward + backward + AdamW step
(training, with and without the embedding matrix frozen). MFU is the model's useful FLOP/s over
the measured matmul FLOP/s, so it says how much of what this CPU can do the encoder gets.

    python benchmarks/encoder_throughput.py [--encoder multilingual-e5-small] [--batch 16] [--length 128]

Model FLOPs per token follow the usual accounting: a forward pass costs 2 FLOPs per non-embedding
weight plus 4 * layers * length * hidden for attention scores and their weighted sum; training
costs three forward passes (forward, and backward through activations and weights).
"""

from __future__ import annotations

import argparse
import time

import torch

from lightning_xfer.encoder.loading import load_encoder
from lightning_xfer.encoder.spec import EncoderSpec


def seconds_per_call(fn, warmup: int = 2, repeats: int = 5) -> float:
    for _ in range(warmup):
        fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def matmul_flops(size: int = 2048) -> float:
    a, b = torch.randn(size, size), torch.randn(size, size)
    return 2 * size**3 / seconds_per_call(lambda: a @ b, repeats=10)


def model_flops_per_token(model, length: int) -> tuple[float, int]:
    config = model.config
    embedding = sum(p.numel() for n, p in model.named_parameters() if "embeddings" in n)
    body = sum(p.numel() for p in model.parameters()) - embedding
    forward = 2 * body + 4 * config.num_hidden_layers * length * config.hidden_size
    return forward, body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--encoder", default="multilingual-e5-small")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    peak = matmul_flops()
    rows = []
    model = load_encoder(EncoderSpec(name=args.encoder))
    forward_flops, body = model_flops_per_token(model, args.length)
    ids = torch.randint(5, model.config.vocab_size - 1, (args.batch, args.length))
    mask = torch.ones_like(ids)
    tokens = args.batch * args.length

    model.eval()
    with torch.inference_mode():
        t = seconds_per_call(lambda: model(input_ids=ids, attention_mask=mask))
    rows.append(("inference (forward)", tokens / t, forward_flops * tokens / t))

    model.train()
    for frozen in (True, False):
        model.get_input_embeddings().requires_grad_(not frozen)
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)

        def step(optimizer=optimizer):
            out = model(input_ids=ids, attention_mask=mask).last_hidden_state
            out.float().pow(2).mean().backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)

        t = seconds_per_call(step, warmup=1, repeats=3)
        label = "training, embeddings frozen" if frozen else "training, all weights"
        rows.append((label, tokens / t, 3 * forward_flops * tokens / t))

    print(
        f"encoder {args.encoder}: {body / 1e6:.1f}M non-embedding parameters, "
        f"{sum(p.numel() for p in model.parameters()) / 1e6:.1f}M in all"
    )
    print(f"batch {args.batch} x {args.length} tokens, {args.threads} threads")
    print(f"CPU fp32 matmul (2048^3), measured in this run: {peak / 1e9:.1f} GFLOP/s")
    print(f"{'':32}{'tokens/s':>12}{'model GFLOP/s':>16}{'MFU':>8}{'vs inference':>14}")
    inference = rows[0][1]
    for label, rate, flops in rows:
        print(f"{label:32}{rate:12.0f}{flops / 1e9:16.1f}{flops / peak:8.2f}{rate / inference:14.2f}")


if __name__ == "__main__":
    main()
