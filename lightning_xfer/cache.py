"""Where the project keeps what it builds: offline encoders and tokenised features.

`LIGHTNING_XFER_CACHE` overrides the location (CI and tests point it at a temporary or shared
directory); the default follows the XDG convention so a user's runs share one cache.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    """The cache root (or a sub-directory of it), created on first use."""
    root = os.environ.get("LIGHTNING_XFER_CACHE")
    if root:
        base = Path(root)
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "lightning_xfer"
    path = base.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
