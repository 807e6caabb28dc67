"""The official scores of XTREME and XTREME-R, one metric per module.

Every function takes predictions and references keyed by example id (and the language, for
metrics that depend on it) and returns the benchmark's key names with values x100. The training
loop logs these same functions, and `python -m lightning_xfer score` calls them on submission
files, so the two always agree on the same predictions.
"""
