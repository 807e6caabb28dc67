"""Readers for the benchmarks' original file formats.

Each reader takes a path (and the language, where a format needs it) and returns examples as
plain dicts in the schema of their task family (each family's docstring in
`lightning_xfer.families` gives it). A file that does not match its format raises
`DataFormatError` with the line where it broke.
"""
