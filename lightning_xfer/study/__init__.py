"""The study: a grid of encoders x intermediate conditions x targets x seeds, expanded into a
dependency graph of plain LightningCLI runs, run on this machine or on SLURM, resumable, with one
results table (`python -m lightning_xfer study show|run|status|results FILE`)."""
