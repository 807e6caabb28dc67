"""The DataModule and the loading of a task's splits (local files, the hub, or a generator)."""

import datasets

datasets.disable_progress_bars()  # one bar per language and split drowns the training log
