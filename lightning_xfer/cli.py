"""`python -m lightning_xfer {fit,validate,test,predict}`: LightningCLI with the run's links.

The encoder is written once under `model.encoder` and handed whole to the DataModule (its
tokenizer, at the same revision); the tasks are written once under `data.tasks`, resolved once by
the DataModule, and the resolved tasks are handed to the model, so nothing is said or looked up twice.

Before anything trains, the run is checked (`preflight`): a mistake that would surface after an
epoch, or as a tokenizer traceback, is a one-line error naming the key. `--ckpt_path best|last`
means a checkpoint of one run (see `checkpoints`), and `fit --ckpt_path` continues that run in its
own directory.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import warnings
from pathlib import Path

from pytorch_lightning.callbacks import ModelCheckpoint
from pytorch_lightning.cli import LightningArgumentParser, LightningCLI

from lightning_xfer.checkpoints import ALIASES, check_complete, resolve_checkpoint, run_directories
from lightning_xfer.data.datamodule import XferDataModule
from lightning_xfer.encoder.loading import HALF_PRECISION, load_tokenizer
from lightning_xfer.errors import UserError, command_line_error, notice
from lightning_xfer.export import ExportEncoder
from lightning_xfer.families.span_qa import SpanQA
from lightning_xfer.model import XferModule
from lightning_xfer.results import ResultsWriter
from lightning_xfer.submission.writer import SubmissionWriter
from lightning_xfer.tasks import phase_of


class XferArgumentParser(LightningArgumentParser):
    """LightningCLI's parser, whose command-line errors are one line like the project's own
    (`command_line_error`: the fix, not a hundred lines of usage above it)."""

    def error(self, message: str, ex: Exception | None = None):
        if not self.exit_on_error or os.environ.get("JSONARGPARSE_DEBUG"):  # a nested parse, or debugging
            return super().error(message, ex)
        command_line_error(message, getattr(self, "subcommand", None))


class XferCLI(LightningCLI):
    """LightningCLI for XferModule and XferDataModule, with results and encoder export built in."""

    def init_parser(self, **kwargs) -> LightningArgumentParser:
        # `--trainer.max_step 7` must not quietly mean `--trainer.max_steps`: no prefix matching.
        kwargs.setdefault("allow_abbrev", False)
        return super().init_parser(**kwargs)

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.link_arguments("model.encoder", "data.encoder")
        parser.link_arguments("data", "model.tasks", compute_fn=lambda data: data.run_tasks, apply_on="instantiate")
        parser.add_lightning_class_args(ResultsWriter, "results")
        parser.add_lightning_class_args(ExportEncoder, "export")
        parser.add_lightning_class_args(SubmissionWriter, "submission")

    def parse_arguments(self, parser: LightningArgumentParser, args) -> None:
        # A W&B sweep agent writes each parameter as `--key={value}` with Python's str(), so a null
        # arrives as `--key=None`, which YAML (and so LightningCLI) reads as the string "None".
        if isinstance(args, dict) or hasattr(args, "as_dict"):  # a dict or Namespace: not a command line
            return super().parse_arguments(parser, args)
        argv = sys.argv[1:] if args is None else list(args)
        self.config = parser.parse_args([re.sub(r"^(--[^=\s]+)=None$", r"\1=null", arg) for arg in argv])

    def _prepare_subcommand_parser(self, klass, subcommand: str, **kwargs) -> LightningArgumentParser:
        parser = super()._prepare_subcommand_parser(klass, subcommand, **kwargs)
        # A checkpoint is data, never code: the model saves plain hyperparameters only.
        parser.set_defaults(weights_only=True)
        if subcommand in ("validate", "test"):
            # Lightning's table repeats every language's metrics once per dataloader; the
            # ResultsWriter prints one compact table per task instead. `--verbose true` restores it.
            parser.set_defaults(verbose=False)
        return parser

    # -- which checkpoint, which run ------------------------------------------------------------------
    def _parse_ckpt_path(self) -> None:
        # Resolved before Lightning reads the checkpoint's hyperparameters back into `model`, so
        # `best`/`last` and an explicit file behave the same.
        subcommand = self.config.get("subcommand")
        if subcommand:
            arguments = self.config[subcommand]
            arguments["ckpt_path"] = self._concrete_checkpoint(subcommand, arguments)
        super()._parse_ckpt_path()

    def _concrete_checkpoint(self, subcommand: str, arguments) -> str | None:
        checkpoint = arguments.get("ckpt_path")
        if checkpoint is None or checkpoint in ("hpc", "registry") or str(checkpoint).startswith("registry:"):
            return checkpoint
        if checkpoint not in ALIASES:
            if not Path(checkpoint).exists():
                raise UserError(f"--ckpt_path: {checkpoint} does not exist")
            check_complete(checkpoint)
            return str(checkpoint)
        root = arguments.trainer.default_root_dir
        run = named_run(arguments.trainer.logger)
        if subcommand == "fit" and run is None and not run_directories(root):
            notice(f"--ckpt_path {checkpoint}: no run under {root} to resume; starting a new run")
            return None
        resolved = resolve_checkpoint(checkpoint, root, run)
        check_complete(resolved)
        return resolved

    def _continue_run_in_place(self) -> None:
        """`fit --ckpt_path <run>/checkpoints/x.ckpt` logs and checkpoints into `<run>` again, so the
        global step, the checkpoints and the logs continue in one directory."""
        checkpoint = self.config_init[self.subcommand].get("ckpt_path")
        if not checkpoint or Path(checkpoint).parent.name != "checkpoints":
            return
        run = Path(checkpoint).resolve().parent.parent
        logger = self.trainer.logger
        versioned = getattr(logger, "_version", "") is None and hasattr(logger, "root_dir")  # TensorBoard, CSV
        if versioned and Path(logger.root_dir).resolve() == run.parent:
            logger._version = run.name  # the version folder to write into, instead of the next free one
            warnings.filterwarnings("ignore", message=r"Checkpoint directory .* exists and is not empty")
            return
        callback = self.trainer.checkpoint_callback
        if callback is None or callback.dirpath is None:  # an explicit `dirpath` already names the folder
            notice(f"resuming from {checkpoint}, outside {self.trainer.default_root_dir}: it continues in a new run")

    # -- before each subcommand ------------------------------------------------------------------------
    def _prepare_run(self) -> None:
        arguments, instances = self.config[self.subcommand], self.config_init[self.subcommand]
        results: ResultsWriter = instances["results"]
        checkpoint = instances.get("ckpt_path")
        outputs = {"trainer.default_root_dir": self.trainer.default_root_dir}
        if results.path:
            outputs["results.path"] = str(Path(results.path).parent)
        elif self.subcommand != "fit" and checkpoint and Path(checkpoint).parent.name == "checkpoints":
            outputs["results.path (default: the checkpoint's run)"] = str(Path(checkpoint).parent.parent)
        if instances["submission"].dirpath:
            outputs["submission.dirpath"] = instances["submission"].dirpath
        if self.subcommand == "fit" and instances["export"].enabled and instances["export"].dirpath:
            outputs["export.dirpath"] = instances["export"].dirpath
        for callback in self.trainer.callbacks:  # a checkpoint folder it cannot write fails after the first epoch
            directory = getattr(callback, "dirpath", None)
            if directory and (self.subcommand == "fit" or not isinstance(callback, ModelCheckpoint)):
                outputs[f"trainer.callbacks.dirpath ({type(callback).__name__})"] = directory
        for key, directory in outputs.items():
            check_writable(key, directory)
        init_from = arguments.model.init_encoder_from
        if init_from and not Path(init_from).exists():
            raise UserError(f"model.init_encoder_from: {init_from} does not exist")
        check_doc_stride(self.datamodule)
        check_weight_dtype(self.model.encoder_spec.dtype, str(self.trainer.precision))

        seed = arguments.get("seed_everything")
        results.seed = None if seed is None or isinstance(seed, bool) else int(seed)
        results.phase = results.phase or phase_of([run_task.task for run_task in self.datamodule.run_tasks])
        if self.subcommand != "fit":
            quiet_evaluation_warnings()
            if checkpoint is None and any(r.task.needs_training for r in self.datamodule.run_tasks):
                spec = self.model.encoder_spec
                weights = f"{init_from}'s encoder" if init_from else f"the pretrained encoder {spec.name!r}"
                notice(
                    f"{self.subcommand} without --ckpt_path scores {weights} with untrained task heads, "
                    "not a trained run; pass --ckpt_path best, last or a checkpoint file"
                )

    def before_fit(self) -> None:
        self._prepare_run()
        self._continue_run_in_place()

    def before_validate(self) -> None:
        self._prepare_run()

    def before_test(self) -> None:
        self._prepare_run()

    def before_predict(self) -> None:
        self._prepare_run()


def named_run(logger) -> Path | None:
    """The run directory a logger config names with an explicit version (`--trainer.logger
    TensorBoardLogger --trainer.logger.init_args.version my-run`), else None."""
    if not str(getattr(logger, "class_path", "")).endswith(("TensorBoardLogger", "CSVLogger")):
        return None  # other loggers lay their folders out differently (W&B: <save_dir>/<project>/<id>)
    init_args = logger.init_args
    version = getattr(init_args, "version", None)
    if version is None or getattr(init_args, "save_dir", None) is None:
        return None
    folder = f"version_{version}" if isinstance(version, int) else str(version)
    return Path(init_args.save_dir) / (getattr(init_args, "name", None) or "") / folder


def check_writable(key: str, directory: str | Path) -> None:
    """`directory` exists as a writable folder, or can be made inside one."""
    directory = Path(directory).resolve()
    existing = next(p for p in (directory, *directory.parents) if p.exists())
    if not existing.is_dir():
        raise UserError(f"{key}: cannot write into {directory}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"{key}: cannot write into {directory}: {existing} is not writable")


def check_weight_dtype(dtype: str | None, precision: str) -> None:
    """Half-precision weights (`model.encoder.dtype`, configs/tuning/lora.yaml's frozen bf16 weights)
    need autocast: under full precision the heads' and adapters' float32 activations meet bf16
    weights and the first matrix product fails, after the data and model have loaded."""
    if dtype in HALF_PRECISION and not precision.startswith(("bf16", "16")):
        raise UserError(
            f"model.encoder.dtype={dtype} needs mixed precision, but trainer.precision is {precision}: set "
            "trainer.precision=bf16-mixed (configs/trainer/gpu.yaml does; it works on CPU too) or load the "
            "weights in float32 (model.encoder.dtype=float32, e.g. after configs/tuning/lora.yaml on a CPU)"
        )


def check_doc_stride(datamodule: XferDataModule) -> None:
    """`data.doc_stride` fits every span-QA task's windows.

    A window holds the question (at most the task's `qa.max_query_length` tokens), the special
    tokens and a slice of the context; consecutive slices overlap by `doc_stride`, so the overlap
    must be shorter than the slice, or the tokenizer fails while building features.
    """
    qa_tasks = [(r, r.task.family) for r in datamodule.run_tasks if isinstance(r.task.family, SpanQA)]
    if not qa_tasks:
        return
    if datamodule.tokenizer is None:
        datamodule.tokenizer = load_tokenizer(datamodule.encoder)
    special = datamodule.tokenizer.num_special_tokens_to_add(pair=True)
    for run_task, family in qa_tasks:
        settings = datamodule.settings(run_task.task, run_task.config)
        query_length = family.qa.max_query_length
        context = settings.max_length - query_length - special
        if not 0 <= settings.doc_stride < context:
            raise UserError(
                f"data.doc_stride={settings.doc_stride} does not fit task {run_task.name}: a window of "
                f"max_length={settings.max_length} tokens keeps {context} context tokens after a question of "
                f"qa.max_query_length={query_length} (data.tasks[].qa) and {special} special tokens, and "
                f"doc_stride must be below that (set data.doc_stride < {max(context, 0)}, e.g. 128 of 384)"
            )


class _DropTips(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("💡 Tip")


def quiet_third_party_output() -> None:
    """Keep what a newcomer reads to our tables and Lightning's progress: no advertisements, no
    deprecation warnings about code that is not ours."""
    for name in ("pytorch_lightning.utilities.rank_zero", "lightning_fabric.utilities.rank_zero"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropTips) for f in logger.filters):
            logger.addFilter(_DropTips())
    # Lightning 2.6's own `_pytree` helper still uses torch's deprecated LeafSpec.
    warnings.filterwarnings(
        "ignore", message=r"`isinstance\(treespec, LeafSpec\)` is deprecated", category=FutureWarning
    )


def quiet_evaluation_warnings() -> None:
    # An evaluation logs into a new version folder, so ModelCheckpoint notes that the checkpoint's
    # folder differs; nothing is saved during evaluation, so the note only alarms.
    warnings.filterwarnings("ignore", message=r"The dirpath has changed from")


def run_lightning_cli(args: list[str] | None = None) -> XferCLI:
    quiet_third_party_output()
    return XferCLI(
        XferModule,
        XferDataModule,
        parser_class=XferArgumentParser,
        trainer_defaults={"default_root_dir": "runs"},
        save_config_kwargs={"overwrite": True},
        args=args,
    )
