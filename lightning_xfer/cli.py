"""`python -m lightning_xfer {fit,validate,test,predict}`: LightningCLI with the run's links.

The encoder is written once under `model.encoder` and handed whole to the DataModule (its
tokenizer, at the same revision); the tasks are written once under `data.tasks`, resolved once by
the DataModule, and the resolved tasks are handed to the model, so nothing is said or looked up twice.
"""

from __future__ import annotations

from pytorch_lightning.cli import LightningArgumentParser, LightningCLI

from lightning_xfer.checkpoints import resolve_checkpoint
from lightning_xfer.data.datamodule import XferDataModule
from lightning_xfer.export import ExportEncoder
from lightning_xfer.model import XferModule
from lightning_xfer.results import ResultsWriter
from lightning_xfer.submission.writer import SubmissionWriter


class XferCLI(LightningCLI):
    """LightningCLI for XferModule and XferDataModule, with results and encoder export built in."""

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.link_arguments("model.encoder", "data.encoder")
        parser.link_arguments("data", "model.tasks", compute_fn=lambda data: data.run_tasks, apply_on="instantiate")
        parser.add_lightning_class_args(ResultsWriter, "results")
        parser.add_lightning_class_args(ExportEncoder, "export")
        parser.add_lightning_class_args(SubmissionWriter, "submission")

    def _prepare_subcommand_parser(self, klass, subcommand: str, **kwargs) -> LightningArgumentParser:
        parser = super()._prepare_subcommand_parser(klass, subcommand, **kwargs)
        if subcommand in ("validate", "test"):
            # Lightning's table repeats every language's metrics once per dataloader; the
            # ResultsWriter prints one compact table per task instead. `--verbose true` restores it.
            parser.set_defaults(verbose=False)
        return parser

    def _resolve_checkpoint_alias(self) -> None:
        arguments = self.config_init[self.subcommand]
        if arguments.get("ckpt_path") in ("best", "last"):
            arguments["ckpt_path"] = resolve_checkpoint(arguments["ckpt_path"], self.trainer.default_root_dir)

    def before_validate(self) -> None:
        self._resolve_checkpoint_alias()

    def before_test(self) -> None:
        self._resolve_checkpoint_alias()

    def before_predict(self) -> None:
        self._resolve_checkpoint_alias()


def run_lightning_cli(args: list[str] | None = None) -> XferCLI:
    return XferCLI(
        XferModule,
        XferDataModule,
        trainer_defaults={"default_root_dir": "runs"},
        save_config_kwargs={"overwrite": True},
        args=args,
    )
