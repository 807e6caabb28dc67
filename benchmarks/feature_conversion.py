"""QA windows per second on real XQuAD: batched fast tokenisation, one example at a time, and the cache.

Span QA turns each (question, context) into overlapping 384-token windows with offsets (the part
of feature conversion that XTREME's `run_squad` does per example in Python). Side by side in one
run, through the DataModule, on the same examples:

- *batched* (ours): `datasets.map` hands the fast tokenizer 1,000 examples per call;
- *per example*: the same code with one example per call (`MAP_BATCH_SIZE = 1`), as a
  per-example converter does; the features must be identical;
- *cached*: a second run whose encoder is another folder holding a copy of the tokenizer (what a
  study's target run after an intermediate run sees: the exported encoder) reads the features the
  first run wrote, because the cache key is the tokenizer's content, not its path.

    python benchmarks/feature_conversion.py [--encoder multilingual-e5-small] [--languages en de]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from lightning_xfer.data.datamodule import XferDataModule
from lightning_xfer.encoder.loading import load_tokenizer, resolve_encoder
from lightning_xfer.encoder.spec import EncoderSpec
from lightning_xfer.families import family
from lightning_xfer.tasks.config import TaskConfig


def featurised(encoder: str, data: str, languages: list[str], cache: bool) -> tuple[float, list]:
    """Seconds to build the test features of XQuAD in `languages`, and the features."""
    config = TaskConfig(name="xquad", data_dir=data, languages=languages)
    module = XferDataModule([config], encoder=EncoderSpec(name=encoder), cache_features=cache)
    module.tokenizer = load_tokenizer(module.encoder)  # not timed: every arm loads it alike
    start = time.perf_counter()
    module.setup("test")
    return time.perf_counter() - start, [s.features for s in module.eval_sets["test"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--encoder", default="multilingual-e5-small")
    parser.add_argument("--languages", nargs="+", default=["en", "de"])
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "xquad"))
    args = parser.parse_args()
    source = resolve_encoder(args.encoder)
    work = Path(tempfile.mkdtemp(prefix="lightning_xfer_features_"))
    os.environ["LIGHTNING_XFER_CACHE"] = str(work / "cache")  # a cold feature cache
    exported = work / "exported-encoder"  # a tokenizer copy in another folder
    exported.mkdir()
    for name in os.listdir(source):
        if "token" in name or name.endswith(".model") or name == "config.json":
            shutil.copy(Path(source) / name, exported / name)

    featurised(source, args.data, args.languages, cache=False)  # warm-up: file reads, imports
    batched_s, batched = featurised(source, args.data, args.languages, cache=False)
    family.MAP_BATCH_SIZE, default = 1, family.MAP_BATCH_SIZE
    single_s, single = featurised(source, args.data, args.languages, cache=False)
    family.MAP_BATCH_SIZE = default
    assert [f.to_dict() for f in batched] == [f.to_dict() for f in single], "per-example features differ"
    write_s, _ = featurised(source, args.data, args.languages, cache=True)
    read_s, cached = featurised(str(exported), args.data, args.languages, cache=True)
    assert [f.to_dict() for f in batched] == [f.to_dict() for f in cached], "cached features differ"
    windows = sum(len(f) for f in batched)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"XQuAD {' '.join(args.languages)}: {windows:,} windows of 384 tokens (peak RSS {peak:,.0f} MiB)")
    print(f"{'way':<44}{'seconds':>9}{'windows/s':>11}{'vs per example':>16}")
    for name, took in [("per example (MAP_BATCH_SIZE=1)", single_s), ("batched (ours)", batched_s),
                       ("batched, writing the cache", write_s),
                       ("cache hit from a copied tokenizer folder", read_s)]:  # fmt: skip
        print(f"{name:<44}{took:>9.2f}{windows / took:>11,.0f}{single_s / took:>15.1f}x")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
