"""The benchmarks' submission layout: `<task>/test-<lang>.<ext>`, one format per task.

`formats` reads and writes predictions and reads gold labels in each format; `writer` is the
callback that writes a run's predictions; `score` is the `score` command that reads a predictions
folder and a labels folder and applies the same metric functions the training loop logs.
"""
