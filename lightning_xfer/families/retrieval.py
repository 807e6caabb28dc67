"""Sentence retrieval: Tatoeba (nearest neighbour), BUCC (margin mining), LAReQA and Mewsli-X
(ranking a candidate pool).

Evaluation embeds every sentence of both sides with the retrieval head (pooled, L2-normalised
states of one layer) and searches in `decode`: each `source` example is a query, the `target`
examples are the index it searches. Training, for the dual-encoder tasks, pairs each query with
its target and uses the other targets of the batch as negatives.

Examples carry `side` (`source` or `target`), `index` (line number) and, by mode, `relevant`
(pool: the target ids that answer a source) or `gold` and `split` (margin: BUCC's aligned target
ids, and `dev`/`test`; the dev half only tunes the mining threshold).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, NamedTuple, TypedDict

import torch
from torch import Tensor, nn

from lightning_xfer.families.bitext_mining import best_threshold, mine
from lightning_xfer.families.family import (
    FeatureSettings,
    TaskFamily,
    collate_inputs,
    column,
    map_examples,
    pad_sequences,
)
from lightning_xfer.heads import Head, HeadOutput, RetrievalHead
from lightning_xfer.heads.pooling import Pooling
from lightning_xfer.metrics.ranking import CUTOFF
from lightning_xfer.readers.bucc import missing_test_gold
from lightning_xfer.readers.mewslix import missing_mention_labels


def middle_layer(num_layers: int) -> int:
    """XTREME's retrieval layer as a `transformers` `hidden_states` index: 8 of 12 layers, 14 of 24.

    XTREME (`evaluate_retrieval.py`) keeps the last `num_layers` entries of the hidden states,
    dropping the embedding output, and reads `--specific_layer` 7 (13 for large models) of those:
    the output of transformer layer 8 (14), which is `hidden_states[8]` (`[14]`). In general
    `num_layers // 2 + 2`, capped at the last layer for encoders too shallow to have it.
    """
    return min(num_layers // 2 + 2, num_layers)


XTREME_KEPT_LAYERS = 12
"""`evaluate_retrieval.py`'s default `--num_layers`: how many of the last hidden states it keeps."""
XTREME_SPECIFIC_LAYER = 7
"""`evaluate_retrieval.py`'s default `--specific_layer`: the index it reads among those kept."""


def xtreme_layer(num_layers: int, kept: int = XTREME_KEPT_LAYERS, specific_layer: int = XTREME_SPECIFIC_LAYER) -> int:
    """The `hidden_states` index `evaluate_retrieval.py` reads on an encoder of `num_layers` layers.

    It keeps the last `kept` of the `num_layers + 1` hidden states (`all_layer_outputs[-kept:]`)
    and reads `specific_layer` of those. `run_bucc2018.sh` sets `NLAYER=24` for XLM-R but never
    passes `--num_layers`, so the defaults (12, 7) apply: `hidden_states[8]` of 12 layers, but
    `[20]` of 24, six layers above the middle layer that Tatoeba reads (`middle_layer`). Capped
    at the last layer for encoders too shallow to have it (where XTREME would fail).
    """
    return min(max(num_layers + 1 - kept, 0) + specific_layer, num_layers)


class Side(NamedTuple):
    """One side of a retrieval set, in example order."""

    ids: list[str]
    indices: list[int]
    texts: list[str]
    embeddings: Tensor


class RetrievalExample(TypedDict, total=False):
    """One sentence of a retrieval task: a query (`source`) or a candidate (`target`)."""

    id: str
    text: str
    side: str
    """`source` or `target`."""
    index: int
    """The line number: `nearest` pairs a source with the target of its line (Tatoeba)."""
    relevant: list[str] | None
    """`pool` mode: the target ids that answer a source; None: withheld (Mewsli-X's test)."""
    gold: list[str] | None
    """`margin` mode: BUCC's aligned target ids; None: no gold file (BUCC's test)."""
    split: str
    """`margin` mode: `dev` (tunes the mining threshold) or `test`."""


@dataclass(frozen=True)
class Retrieval(TaskFamily):
    """Examples: `RetrievalExample`; predictions by `mode`, keyed by source (query) id:

    - `nearest`: the `index` of each source's nearest target (Tatoeba);
    - `pool`: each source's top-20 target ids (LAReQA, Mewsli-X);
    - `margin`: the mined (source id, target id) pairs, {"pairs": set} (BUCC).
    """

    pooling: Pooling = "mean"
    """How a sentence becomes one vector; the task's own choice, not the encoder's `pooling`."""
    mode: Literal["nearest", "pool", "margin"] = "nearest"
    encoder_layer: Literal["middle", "last", "xtreme-defaults"] = "middle"
    """The layer read unless a task config's `head_layer` names one: `middle` is XTREME's layer for
    an encoder used untrained (`hidden_states[8]` of 12 layers, see `middle_layer`); `last` is the
    final layer, which XTREME-R's dual encoders (`BertForRetrieval`) train and encode with;
    `xtreme-defaults` is what `evaluate_retrieval.py` reads when a script passes no `--num_layers`
    (BUCC: `hidden_states[20]` of 24, see `xtreme_layer`)."""
    neighbours: int = 4
    """k of the ratio margin (`margin` mode)."""
    search_batch: int = 4096
    """Source rows scored against all targets at once; bounds memory for large corpora."""
    pooler: bool = False
    """Pass the first token's state through the encoder's pooler (dense + tanh, its pretrained
    weights where the checkpoint has them), as XTREME-R's `BertForRetrieval` encodes."""
    logit_scale: float = 20.0
    """Initial scale (learned) of the dual encoder's in-batch cosine scores: XTREME-R's is 100."""
    lower_case_xlmr: bool = False
    """Lower-case every input when the tokenizer has XLM-R's vocabulary, as XTREME-R's LAReQA and
    Mewsli-X scripts do (`--do_lower_case` for xlm-roberta, which transformers 2.x's `tokenize`
    applies to any tokenizer's text)."""
    query_max_length: int | None = None
    """Tokens per query (source side and training queries); None: the task's `max_length`."""
    embed_in_fp32: bool = True
    """Embed and score in float32 even under a mixed-precision trainer, as XTREME embeds."""
    ours: dict[str, Any] | None = field(default=None, compare=False)
    """The fields a task config's `protocol: ours` replaces (our choice where XTREME's differs)."""

    def with_protocol(self, protocol: str) -> Retrieval:
        if protocol == "ours":
            return replace(self, embed_in_fp32=False, **(self.ours or {}), ours=None)
        return self

    def evaluates_in_fp32(self) -> bool:
        return self.embed_in_fp32

    def feature_fingerprint(self) -> str:
        return f"Retrieval(lower_case_xlmr={self.lower_case_xlmr}, query_max_length={self.query_max_length})"

    def default_layer(self, encoder_config) -> int | None:
        if self.encoder_layer == "last":
            return -1
        if self.encoder_layer == "xtreme-defaults":
            return xtreme_layer(encoder_config.num_hidden_layers)
        return middle_layer(encoder_config.num_hidden_layers)

    def build_head(self, task, encoder: nn.Module, dropout: float, layer: int, pooling: Pooling) -> Head:
        config = encoder.config
        return RetrievalHead(
            pooling=self.pooling,
            layer=layer,
            temperature=1 / self.logit_scale,
            pooler_size=config.hidden_size if self.pooler else None,
            initializer_range=getattr(config, "initializer_range", 0.02),
        )

    def featurize(self, examples, task, tokenizer, settings: FeatureSettings, training, cache_file=None):
        lower = self.lower_case_xlmr and has_xlmr_vocabulary(tokenizer)
        query_length = self.query_max_length or settings.max_length

        def tokens(texts: list[str], max_length: int) -> list[list[int]]:
            texts = [text.lower() for text in texts] if lower else texts
            return tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]

        def encode(batch: dict[str, list], indices: list[int]) -> dict[str, list]:
            if training:
                return {
                    "input_ids": tokens(batch["query"], query_length),
                    "target_input_ids": tokens(batch["target"], settings.max_length),
                    "example_index": indices,
                }
            # XTREME-R cuts LAReQA's questions at --max_query_length, its candidates at --max_answer_length.
            ids: list = [None] * len(indices)
            for is_query, length in ((True, query_length), (False, settings.max_length)):
                rows = [r for r, side in enumerate(batch["side"]) if side.endswith("source") == is_query]
                if not rows:
                    continue
                for row, row_ids in zip(rows, tokens([batch["text"][r] for r in rows], length), strict=True):
                    ids[row] = row_ids
            return {"input_ids": ids, "example_index": indices}

        return map_examples(examples, encode, task.name, cache_file)

    def collate(self, features: Sequence[dict[str, Any]], tokenizer, training: bool = False) -> dict[str, Tensor]:
        batch = collate_inputs(features, tokenizer.pad_token_id)
        if "target_input_ids" in features[0]:
            targets = [f["target_input_ids"] for f in features]
            batch["target_input_ids"] = pad_sequences(targets, tokenizer.pad_token_id)
            batch["target_attention_mask"] = pad_sequences([[1] * len(t) for t in targets], 0)
        return batch

    def collect(
        self, batch: dict[str, Tensor], output: HeadOutput, settings: FeatureSettings | None = None
    ) -> dict[str, Tensor]:
        return {"feature_index": batch["feature_index"].cpu(), "embedding": output.logits.float().cpu()}

    def embeddings(self, examples, features, collected) -> dict[str, Side]:
        """Per side (`source`, `target`, BUCC's `dev-source`, `dev-target`), in example order."""
        example_of_feature = column(features, "example_index")
        rows = sorted(
            range(len(collected["feature_index"])),
            key=lambda r: example_of_feature[int(collected["feature_index"][r])],
        )
        ids, sides, indices = column(examples, "id"), column(examples, "side"), column(examples, "index")
        texts = column(examples, "text")
        grouped: dict[str, tuple[list, list, list, list]] = {}
        for row in rows:
            example = example_of_feature[int(collected["feature_index"][row])]
            side = grouped.setdefault(sides[example], ([], [], [], []))
            side[0].append(ids[example])
            side[1].append(indices[example])
            side[2].append(texts[example])
            side[3].append(collected["embedding"][row])
        return {name: Side(i, x, t, torch.stack(v)) for name, (i, x, t, v) in grouped.items()}

    def decode(self, task, examples, features, collected, settings) -> dict[str, Any]:
        sides = self.embeddings(examples, features, collected)
        if self.mode == "margin":
            return self._mine(examples, sides)
        queries, index = sides["source"], sides["target"]
        predictions = {}
        for start in range(0, len(queries.ids), self.search_batch):
            scores = queries.embeddings[start : start + self.search_batch] @ index.embeddings.T
            if self.mode == "nearest":
                for row, column in enumerate(scores.argmax(-1).tolist(), start=start):
                    predictions[queries.ids[row]] = index.indices[column]
            else:
                top = scores.topk(min(CUTOFF, scores.shape[1]), dim=-1).indices.tolist()
                for row, columns in enumerate(top, start=start):
                    predictions[queries.ids[row]] = [index.ids[c] for c in columns]
        return predictions

    def _mine(self, examples, sides: dict[str, Side]) -> dict[str, set]:
        """BUCC: tune the margin threshold on the dev half's gold pairs, then mine the test half.

        As XTREME's `bucc_eval`, a pair is kept when its score is at least the threshold.
        """
        gold = self._gold(examples)
        threshold = 0.0
        if "dev-source" in sides and gold["dev"]:
            dev = self._mined(sides["dev-source"], sides["dev-target"])
            threshold = best_threshold(dev, gold["dev"])
        test = self._mined(sides["source"], sides["target"])
        return {"pairs": {(s, t) for score, s, t in test if score >= threshold}}

    def _mined(self, source: Side, target: Side) -> list[tuple[float, str, str]]:
        """Mined (score, source id, target id) pairs, best first, over distinct sentences.

        XTREME's `utils_retrieve` mines distinct texts only (`text_load_unify`), so a sentence
        repeated in a corpus is one candidate and does not crowd its own neighbourhood; it then maps
        mined texts back to ids through `read_sent2id`, which drops every text that occurs more
        than once, so a repeated sentence is never predicted (its gold pairs still count).
        """
        source_ids, source_rows = _distinct(source)
        target_ids, target_rows = _distinct(target)
        matched = mine(
            source.embeddings[source_rows], target.embeddings[target_rows], k=self.neighbours, block=self.search_batch
        )
        return [
            (score, source_ids[s], target_ids[t])
            for score, s, t in matched
            if source_ids[s] is not None and target_ids[t] is not None
        ]

    def _gold(self, examples) -> dict[str, set]:
        gold = {"dev": set(), "test": set()}
        for identifier, side, aligned in zip(
            column(examples, "id"), column(examples, "side"), column(examples, "gold"), strict=True
        ):
            if side.endswith("source"):
                gold["dev" if side.startswith("dev") else "test"].update((identifier, t) for t in aligned or ())
        return gold

    def complete_unlabelled(self, example: RetrievalExample, labelled: bool, path: Path) -> None:
        """BUCC's sources without a test gold file (`margin` mode: `gold` None), Mewsli-X's test
        mentions (`pool` mode: labels withheld, `relevant` None); `nearest` (Tatoeba) pairs by line."""
        if self.mode == "nearest" or not example.get("side", "").endswith("source"):
            return
        key = "gold" if self.mode == "margin" else "relevant"
        if example.get(key, []) is not None:
            return
        if labelled:
            if key == "gold":
                raise missing_test_gold(path.with_name(path.name.rsplit(".", 1)[0] + ".gold"))
            raise missing_mention_labels(path, example["id"])
        example[key] = []

    def references(self, task, examples) -> dict[str, Any]:
        if self.mode == "margin":
            return {"pairs": self._gold(examples)["test"]}
        sources = [i for i, side in enumerate(column(examples, "side")) if side == "source"]
        ids = column(examples, "id")
        if self.mode == "pool":
            relevant = column(examples, "relevant")
            return {ids[i]: relevant[i] for i in sources if relevant[i]}  # none: labels withheld
        index = column(examples, "index")
        return {ids[i]: index[i] for i in sources}


def has_xlmr_vocabulary(tokenizer) -> bool:
    """Whether `tokenizer` is XLM-R's SentencePiece vocabulary (250,002 pieces, `<s>` first): XLM-R's
    own tokenizers and encoders that reuse it (multilingual-e5)."""
    return len(tokenizer) == XLMR_VOCABULARY_SIZE and tokenizer.cls_token == "<s>"


XLMR_VOCABULARY_SIZE = 250_002


def _distinct(side: Side) -> tuple[list[str | None], list[int]]:
    """The row of each distinct text of a side, and the id it stands for (None: a repeated text).

    Texts repeat exactly as lines do in XTREME's files; whether a text is repeated is judged on the
    stripped text, as `read_sent2id` does.
    """
    first: dict[str, int] = {}
    for row, text in enumerate(side.texts):
        first.setdefault(text, row)
    counts = Counter(text.strip() for text in side.texts)
    rows = list(first.values())
    ids = [side.ids[r] if counts[side.texts[r].strip()] == 1 else None for r in rows]
    return ids, rows
