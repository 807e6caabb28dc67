"""User mistakes end in one clear line (file, line or key, and what was expected), exit code 2."""

import json

import pytest
from conftest import PROJECT

from lightning_xfer.__main__ import main

QUICKSTART = str(PROJECT / "configs" / "quickstart.yaml")


def run_main(capsys, *args):
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    error = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2
    assert error and error[-1].startswith("lightning_xfer: error: ")
    assert "Traceback" not in "\n".join(error)
    return error[-1]


def test_unknown_task_names_close_matches(capsys, tmp_path):
    message = run_main(capsys, "fit", "--config", QUICKSTART, '--data.tasks=[{"name": "pan-x"}]')
    assert "unknown task 'pan-x'; did you mean 'panx'" in message


def test_unknown_encoder_says_what_was_tried(capsys, tmp_path):
    message = run_main(capsys, "fit", "--config", QUICKSTART, "--model.encoder.name=xlm-roberta-lage")
    assert "cannot load encoder 'xlm-roberta-lage'" in message and "offline preset" in message


def test_unknown_language_lists_the_tasks_languages(capsys, tmp_path):
    message = run_main(
        capsys,
        "test",
        "--config",
        QUICKSTART,
        f"--trainer.default_root_dir={tmp_path}",
        '--data.tasks=[{"name": "synthetic-topic", "languages": ["en", "xz"]}]',
    )
    assert "task synthetic-topic has no language 'xz'" in message and "en, xa, xb, xc" in message


def test_missing_file_names_the_path_and_the_fix(capsys, tmp_path):
    message = run_main(
        capsys,
        "test",
        "--config",
        QUICKSTART,
        f"--trainer.default_root_dir={tmp_path}",
        f'--data.tasks=[{{"name": "synthetic-topic", "data_dir": "{tmp_path}", "languages": ["en"]}}]',
    )
    assert f"{tmp_path}/test-en.tsv does not exist" in message and "languages" in message


def test_label_outside_the_label_set_names_file_and_line(capsys, tmp_path):
    (tmp_path / "test-en.tsv").write_text("a sentence\tsports\nanother one\tpolitics\n")
    message = run_main(
        capsys,
        "test",
        "--config",
        QUICKSTART,
        f"--trainer.default_root_dir={tmp_path}",
        f'--data.tasks=[{{"name": "synthetic-topic", "data_dir": "{tmp_path}", "languages": ["en"]}}]',
    )
    assert "test-en.tsv" in message and "line 2" in message and "'politics' is not one of" in message


def test_malformed_line_names_file_and_line(capsys, tmp_path):
    """A row with extra columns is a format error, not a label error on whatever lands in the label column."""
    (tmp_path / "test-en.tsv").write_text("a sentence\tsports\n\tno\tgood\tline\n")
    message = run_main(
        capsys,
        "test",
        "--config",
        QUICKSTART,
        f"--trainer.default_root_dir={tmp_path}",
        f'--data.tasks=[{{"name": "synthetic-topic", "data_dir": "{tmp_path}", "languages": ["en"]}}]',
    )
    assert message.endswith(f"{tmp_path}/test-en.tsv:2: 4 tab-separated columns; expected 'text<TAB>label' rows")


def test_qa_question_without_answers_names_file_and_question(capsys, tmp_path):
    """Scored with "" as its gold answer before; now the run stops before any work, naming it."""
    qas = [{"id": "q1", "question": "Who?", "answers": [{"text": "Ann", "answer_start": 0}]},
           {"id": "q2", "question": "Why?"}]  # fmt: skip
    paragraph = {"context": "Ann came home.", "qas": qas}
    (tmp_path / "xquad.de.json").write_text(json.dumps({"data": [{"title": "t", "paragraphs": [paragraph]}]}))
    message = run_main(
        capsys,
        "test",
        "--config",
        QUICKSTART,
        f"--trainer.default_root_dir={tmp_path}",
        f'--data.tasks=[{{"name": "xquad", "data_dir": "{tmp_path}", "languages": ["de"]}}]',
    )
    assert message.startswith(f"lightning_xfer: error: {tmp_path}/xquad.de.json: question q2 has no gold answer; ")
    assert 'expected every question of a labelled split to have "answers": [{"text"' in message


def test_validation_holdout_outside_zero_to_one_names_the_key(capsys, tmp_path):
    message = run_main(
        capsys,
        "test",
        "--config",
        QUICKSTART,
        f"--trainer.default_root_dir={tmp_path}",
        '--data.tasks=[{"name": "synthetic-topic", "languages": ["en"], "validation_holdout": 1.5}]',
    )
    assert "task synthetic-topic: validation_holdout is 1.5; expected a share of the training file between 0 and 1" in (
        message
    )


def test_empty_split_is_named(capsys, tmp_path):
    (tmp_path / "test-en.tsv").write_text("")
    message = run_main(
        capsys,
        "test",
        "--config",
        QUICKSTART,
        f"--trainer.default_root_dir={tmp_path}",
        f'--data.tasks=[{{"name": "synthetic-topic", "data_dir": "{tmp_path}", "languages": ["en"]}}]',
    )
    assert "test-en.tsv" in message and "empty" in message


def test_checkpoint_alias_without_a_run(capsys, tmp_path):
    message = run_main(
        capsys, "test", "--config", QUICKSTART, f"--trainer.default_root_dir={tmp_path}", "--ckpt_path=best"
    )
    assert "no run under" in message and str(tmp_path) in message and "checkpoint" in message
