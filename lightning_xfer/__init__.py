"""lightning_xfer: English intermediate-task training and zero-shot cross-lingual transfer.

The command line (`python -m lightning_xfer`) is the main interface; `XferModule` and
`XferDataModule` are the LightningModule and DataModule it builds, and the task catalogue lives
in `lightning_xfer.tasks`.
"""

__version__ = "0.1.0"
