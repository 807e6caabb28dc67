"""The official scores of XTREME and XTREME-R, one metric per module.

Every function takes predictions and references keyed by example id (and the language, for
metrics that depend on it) and returns the benchmark's key names with values x100. The training
loop logs these same functions, and `python -m lightning_xfer score` calls them on submission
files, so the two always agree on the same predictions.

Each has a `*_by_example` twin that returns, per example id, the values the corpus score adds up
(a 0/1 `correct`, a question's EM and F1, a sentence's chunk counts, ...) and `score`, the example's
primary metric in points; added up the official way they give the corpus score to the last bit.
BUCC's mined pair set has no examples, so `bucc_scores` has no twin.
"""
