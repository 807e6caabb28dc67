"""What a trainer tells its study about how it ended: finished, interrupted (and saved), or alive.

A study must never take a run for complete because its process exited 0: Lightning turns Ctrl-C and
SIGTERM (`scancel`, preemption) into a clean shutdown. So the trainer itself writes, in its run
directory:

- `finished.json` when `fit` ran to its end (its `max_steps`, or its early-stopping rule), after it
  saved the final weights as `checkpoints/final.ckpt`, whatever `checkpoint_every` says: the test
  that follows scores exactly these weights, the same ones exported for the next phase;
- `interrupted.json` when a signal stopped it (SIGINT, SIGTERM, SIGUSR2: SLURM's warning before a
  time limit or preemption), after it saved `checkpoints/last.ckpt` at the step it reached, so the
  resumed run loses nothing;
- `heartbeat.json`, at most every `heartbeat_every` seconds while batches go by (fit and test): the
  time and step of the last progress, which `study status` shows and which tells a run whose host
  died from one that is still working.

Its `state_dict` (saved in every checkpoint) holds the random number generators' states, so a run
resumed from a checkpoint draws the same dropout masks as a run that was never stopped; with the
training order's position (`TaskSampledLoader.state_dict`) that makes a resumed run equal an
uninterrupted one.

It also holds `trainer.lock` (filelock, an OS lock released when the process dies) for as long as it
runs: no two trainers ever write one run directory, whichever runner or job started them.
"""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch
from filelock import FileLock, Timeout
from pytorch_lightning.callbacks import Callback
from pytorch_lightning.utilities.exceptions import SIGTERMException

from lightning_xfer.errors import UserError

FINISHED, INTERRUPTED, HEARTBEAT, TRAINER_LOCK = "finished.json", "interrupted.json", "heartbeat.json", "trainer.lock"


def write_record(path: Path, record: dict) -> None:
    """Write-then-rename, so a reader sees the whole record or none of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(record, indent=2))
    os.replace(temporary, path)


class RunState(Callback):
    """Final weights, an interruption record and a heartbeat in `dirpath` (a study run's directory)."""

    def __init__(self, dirpath: str, heartbeat_every: float = 30.0, lock_wait: float = 300.0):
        """
        Args:
            dirpath: The run directory (its `checkpoints/` folder holds final.ckpt and last.ckpt).
            heartbeat_every: Seconds between heartbeats while batches go by.
            lock_wait: Seconds to wait for another trainer of this directory to finish saving (a
                requeued job can start while the job it replaces still writes its checkpoint).
        """
        self.dirpath = Path(dirpath)
        self.heartbeat_every = heartbeat_every
        self.lock_wait = lock_wait
        self._lock: FileLock | None = None
        self._last_beat = 0.0

    # -- one trainer per directory -------------------------------------------------------------------
    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if not trainer.is_global_zero:
            return
        self.dirpath.mkdir(parents=True, exist_ok=True)
        if stage == "fit":
            for name in (FINISHED, INTERRUPTED):
                (self.dirpath / name).unlink(missing_ok=True)
        # SLURM sends SIGUSR2 before a time limit or preemption (`--signal`): save as for SIGTERM
        # instead of dying with the default action and losing the steps since the last checkpoint.
        # Lightning's own SIGTERM handling then stops at the next batch and raises SIGTERMException.
        main_thread = threading.current_thread() is threading.main_thread()
        if main_thread and signal.getsignal(signal.SIGUSR2) in (signal.SIG_DFL, None):
            signal.signal(signal.SIGUSR2, lambda *_: os.kill(os.getpid(), signal.SIGTERM))
        self._lock = FileLock(self.dirpath / TRAINER_LOCK)
        try:
            self._lock.acquire(timeout=self.lock_wait)
        except Timeout:
            raise UserError(f"{self.dirpath}: another trainer has been writing this run directory for over "
                            f"{self.lock_wait:.0f} s ({TRAINER_LOCK} is held); two trainers never share one "
                            "run directory") from None  # fmt: skip

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    # -- random state, saved and restored with each checkpoint ------------------------------------------
    def state_dict(self) -> dict:
        numpy_state = np.random.get_state()
        state = {"torch": torch.get_rng_state(), "numpy_keys": torch.from_numpy(numpy_state[1].astype(np.int64)),
                 "numpy_position": [int(numpy_state[2]), int(numpy_state[3]), float(numpy_state[4])],
                 "python": list(random.getstate()[1])}  # fmt: skip
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state["cuda"] = torch.cuda.get_rng_state_all()
        return state

    def load_state_dict(self, state: dict) -> None:
        if not state:
            return
        torch.set_rng_state(state["torch"])
        position, gauss, cached = state["numpy_position"]
        np.random.set_state(("MT19937", state["numpy_keys"].numpy().astype(np.uint32), position, gauss, cached))
        random.setstate((3, tuple(state["python"]), None))
        if "cuda" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda"])

    # -- progress ------------------------------------------------------------------------------------
    def _beat(self, trainer: pl.Trainer) -> None:
        now = time.time()
        if trainer.is_global_zero and now - self._last_beat >= self.heartbeat_every:
            self._last_beat = now
            write_record(self.dirpath / HEARTBEAT, {"time": now, "step": trainer.global_step, "pid": os.getpid(),
                                                    "stage": str(trainer.state.stage)})  # fmt: skip

    def on_train_batch_end(self, trainer: pl.Trainer, *args) -> None:
        self._beat(trainer)

    def on_test_batch_end(self, trainer: pl.Trainer, *args) -> None:
        self._beat(trainer)

    def on_validation_batch_end(self, trainer: pl.Trainer, *args) -> None:
        self._beat(trainer)

    # -- how fit ended ---------------------------------------------------------------------------------
    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.interrupted:
            return
        final = self.dirpath / "checkpoints" / "final.ckpt"
        trainer.save_checkpoint(final)  # collective under sharded strategies: every rank calls it
        if trainer.is_global_zero:
            reason = "max_steps" if trainer.max_steps > 0 and trainer.global_step >= trainer.max_steps else "stopped"
            write_record(self.dirpath / FINISHED, {"step": trainer.global_step, "max_steps": trainer.max_steps,
                                                   "reason": reason, "checkpoint": str(final),
                                                   "time": time.time()})  # fmt: skip

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        if not isinstance(exception, KeyboardInterrupt | SIGTERMException):
            return
        reason = "SIGINT" if isinstance(exception, KeyboardInterrupt) else "SIGTERM or SIGUSR2"
        saved = None
        if trainer.state.fn == "fit" and trainer.global_step > 0:
            saved = self.dirpath / "checkpoints" / "last.ckpt"
            trainer.save_checkpoint(saved)
        if trainer.is_global_zero:
            write_record(self.dirpath / INTERRUPTED, {"reason": reason, "step": trainer.global_step,
                                                      "stage": str(trainer.state.fn), "saved": str(saved) if saved
                                                      else None, "time": time.time()})  # fmt: skip
