"""Command line: LightningCLI subcommands plus the project's own (`tasks`, `encoders`, ...).

python -m lightning_xfer fit --config configs/quickstart.yaml
python -m lightning_xfer test --config configs/quickstart.yaml --ckpt_path last
python -m lightning_xfer tasks
python -m lightning_xfer encoders prepare multilingual-e5-small
"""

from __future__ import annotations

import sys

from lightning_xfer.errors import UserError


def main(argv: list[str] | None = None) -> None:
    from lightning_xfer.commands import COMMANDS, run_command

    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        if arguments and arguments[0] in COMMANDS:
            run_command(arguments[0], arguments[1:])
        else:
            from lightning_xfer.cli import run_lightning_cli

            run_lightning_cli(argv)  # None: LightningCLI reads sys.argv itself
    except UserError as error:
        print(f"lightning_xfer: error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
