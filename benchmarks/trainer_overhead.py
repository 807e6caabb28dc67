"""Steps per second of `lightning_xfer fit` against a hand-written PyTorch loop doing the same work.

Both sides get the same LightningModule and DataModule built from the same config (the quick
start's task, the chosen encoder), the same batches, AdamW with the same parameter groups and the
linear warm-up schedule; the hand-written loop calls the model's `forward_task`, `backward`,
`step` and nothing else. Lightning's side is a real `fit` (no validation, no checkpoints, no
logger, no progress bar). They alternate, each timed over the same steps after warm-up, so the
ratio is measured side by side in one run. Goal: >= 0.95.

    python benchmarks/trainer_overhead.py [--encoder tiny multilingual-e5-small] [--steps 30] [--repeats 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pytorch_lightning as pl
import torch
from transformers import get_linear_schedule_with_warmup

from lightning_xfer.cli import XferCLI, quiet_third_party_output
from lightning_xfer.data.datamodule import XferDataModule
from lightning_xfer.model import XferModule, parameters_by_decay

PROJECT = Path(__file__).resolve().parents[1]


class StepTimer(pl.Callback):
    """Wall time from the start of step `warmup` to the end of the last step."""

    def __init__(self, warmup: int):
        self.warmup, self.start, self.end = warmup, None, None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.global_step == self.warmup and self.start is None:
            self.start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.end = time.perf_counter()


def built(encoder: str, steps: int, batch_size: int) -> XferCLI:
    arguments = [
        "--config", str(PROJECT / "configs" / "quickstart.yaml"), f"--model.encoder.name={encoder}",
        "--model.encoder.freeze_embeddings=true", f"--data.batch_size={batch_size}", f"--trainer.max_steps={steps}",
        "--trainer.max_epochs=-1", "--trainer.limit_val_batches=0", "--trainer.num_sanity_val_steps=0",
        "--trainer.logger=false", "--trainer.enable_checkpointing=false", "--trainer.enable_progress_bar=false",
        "--trainer.enable_model_summary=false", "--trainer.callbacks=[]", "--export.enabled=false",
        f"--trainer.default_root_dir={tempfile.mkdtemp(prefix='lightning_xfer_benchmark_')}",
    ]  # fmt: skip
    return XferCLI(XferModule, XferDataModule, args=arguments, run=False)


def lightning_seconds(encoder: str, warmup: int, steps: int, batch_size: int) -> float:
    torch.manual_seed(0)
    cli = built(encoder, warmup + steps, batch_size)
    timer = StepTimer(warmup)
    cli.trainer.callbacks.append(timer)
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    return timer.end - timer.start


def raw_loop_seconds(encoder: str, warmup: int, steps: int, batch_size: int) -> float:
    torch.manual_seed(0)
    cli = built(encoder, warmup + steps, batch_size)
    model, data = cli.model, cli.datamodule
    data.setup("fit")
    model.configure_model()
    model.train()
    decayed, not_decayed = parameters_by_decay(model)
    optimizer = torch.optim.AdamW(
        [{"params": decayed, "weight_decay": model.hparams.weight_decay}, {"params": not_decayed, "weight_decay": 0.0}],
        lr=model.hparams.learning_rate,
        eps=model.hparams.adam_epsilon,
    )
    schedule = get_linear_schedule_with_warmup(optimizer, int(0.1 * (warmup + steps)), warmup + steps)
    [(task, loader)] = data.train_dataloader().iterables.items()
    batches = iter(loader)
    start = None
    for step in range(warmup + steps):
        if step == warmup:
            start = time.perf_counter()
        try:
            batch = next(batches)
        except StopIteration:
            batches = iter(loader)
            batch = next(batches)
        loss = model.forward_task(task, batch).loss
        loss.backward()
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--encoder", nargs="+", default=["tiny", "multilingual-e5-small"])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    quiet_third_party_output()
    print(f"{'encoder':<24}{'raw loop steps/s':>18}{'fit steps/s':>13}{'ratio':>7}   (goal >= 0.95)")
    for encoder in args.encoder:
        raw, lightning = [], []
        for _ in range(args.repeats):  # alternate, so drift on a noisy machine hits both sides alike
            raw.append(raw_loop_seconds(encoder, args.warmup, args.steps, args.batch_size))
            lightning.append(lightning_seconds(encoder, args.warmup, args.steps, args.batch_size))
        raw_rate, fit_rate = args.steps / min(raw), args.steps / min(lightning)
        print(f"{encoder:<24}{raw_rate:>18.2f}{fit_rate:>13.2f}{fit_rate / raw_rate:>7.2f}")


if __name__ == "__main__":
    main()
