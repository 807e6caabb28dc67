"""Data: readers of the benchmarks' file formats, task families, and the DataModule."""

import datasets

datasets.disable_progress_bars()  # one bar per language and split drowns the training log
