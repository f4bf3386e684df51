"""Everyday forms of a customer's question, end to end.

Each answerable message of bench/e2e_eval.py's sets is rewritten in one form and sent
through the real stack as the first message of a new conversation (bot/e2e.py), like
bench/e2e_eval.py, and scored the same way. Forms:

  identifier  a phone number, an email or (on the sample shop) an order number added, in a
              sentence picked by a seeded draw per message (`with_identifier`): "phí ship
              bao nhiêu, sđt của mình là 0912 345 678"; without diacritics for messages
              typed without them, in English for English ones
  capitals    the whole message in capital letters: "PHÍ SHIP BAO NHIÊU"
  emoji       an emoji before or after it: "phí ship bao nhiêu 😍😍"

  .venv/bin/python bench/message_forms.py [--forms identifier,capitals,emoji] [--sets sample,ewallet]
                                          [--label after] [--labels before,after]

"before" is the code before a form's fix (identifier: bot/nlu/identifiers.py; capitals and
emoji: bot/text/prepared.py reading a shouted message in lower case, and without emoji),
run from a checkout of it with this file copied in (`--results` pointing here). Results are kept per form and label
in bench/results/forms_<form>_<label>_<set>.json; it prints one table per form and writes
bench/message_forms.md.
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import zlib
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(BENCH))

from bot.e2e import evaluate_e2e  # noqa: E402
from bot.kb.evaluate import read_queries_csv  # noqa: E402
from bot.text import fold  # noqa: E402
from e2e_eval import SETS, part_summaries, variant_lines  # noqa: E402

CONTACT_VI = [
    "{q}, sđt của mình là {phone}",
    "{q}. Email mình: {email}",
    "sdt em {phone}, {q}",
    "{q} - liên hệ mình qua {phone}",
    "mình là Lan, email {email}. {q}",
]
ORDER_VI = ["{q}, đơn {order}", "đơn hàng {order}: {q}"]
CONTACT_EN = ["{q} My phone number is {phone}.", "{q}, email me at {email}"]
ORDER_EN = ["Order {order}: {q}"]


def with_identifier(text: str, variant: str, orders: bool) -> str:
    """`text` with a phone number, an email or (`orders`) an order number added."""
    rng = random.Random(zlib.crc32(text.encode("utf-8")))
    english = variant == "english"
    templates = (CONTACT_EN + (ORDER_EN if orders else [])) if english else \
        (CONTACT_VI + (ORDER_VI if orders else []))
    template = rng.choice(templates)
    if variant == "no_diacritics":
        template = fold(template)
    digits = f"{rng.randint(0, 99_999_999):08d}"
    phone = rng.choice([f"09{digits}", f"09{digits[:2]} {digits[2:5]} {digits[5:]}",
                        f"+84 9{digits[:2]} {digits[2:5]} {digits[5:]}", f"09{digits[:2]}.{digits[2:5]}.{digits[5:]}"])
    email = f"lan.nguyen{rng.randint(1, 99)}@gmail.com"
    order = rng.choice([f"HT{rng.randint(100_000, 999_999)}", f"#{rng.randint(100_000, 999_999)}"])
    return template.format(q=text.rstrip(" ?.!"), phone=phone, email=email, order=order)


EMOJI = ["😊", "😍😍", "🥰", "🙏", "❤️", "😭", "🤔", "😂😂😂", "👍", "😡"]


def with_emoji(text: str) -> str:
    """`text` with an emoji after it (or, one time in three, before it), by a seeded draw."""
    rng = random.Random(zlib.crc32(text.encode("utf-8")))
    emoji = rng.choice(EMOJI)
    return f"{emoji} {text}" if rng.random() < 1 / 3 else f"{text} {emoji}"


FORMS = {
    "identifier": lambda text, variant, name: with_identifier(text, variant, name == "sample"),
    "capitals": lambda text, variant, name: text.upper(),
    "emoji": lambda text, variant, name: with_emoji(text),
}


def queries_csv(form: str, name: str, results: Path) -> Path:
    """The set's answerable messages in `form`, as a queries CSV."""
    out = results / f"forms_{form}_queries_{name}.csv"
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["query", "expected_id", "variant", "original"])
        for q in read_queries_csv(SETS[name][1]):
            if q.expected_id:
                writer.writerow([FORMS[form](q.text, q.variant, name), q.expected_id, q.variant, q.text])
    return out


def run(form: str, label: str, names, results: Path) -> None:
    results.mkdir(exist_ok=True)
    for name in names:
        corpus = SETS[name][0]
        result = evaluate_e2e(str(queries_csv(form, name, results)), corpus_csv=str(corpus) if corpus else None)
        (results / f"forms_{form}_{label}_{name}.json").write_text(
            json.dumps(result, ensure_ascii=False), encoding="utf-8")
        print(f"{form} {label} {name}: right {result['answerable_answered_right']:.3f}, "
              f"wrong {result['all_answered_wrong']:.3f}", file=sys.stderr)


def _originals(form: str, results: Path, name: str) -> dict:
    """rewritten message -> the set's message it was made from (the sample's halves)."""
    with (results / f"forms_{form}_queries_{name}.csv").open(encoding="utf-8") as handle:
        return {row["query"]: row["original"] for row in csv.DictReader(handle)}


def table(form: str, results: Path, labels) -> str:
    head = "| set | part | variant | n |" + "".join(
        f" {lab}: right | {lab}: wrong | {lab}: suggested right |" for lab in labels)
    lines = [head, "|" + "---|" * (4 + 3 * len(labels))]
    for name in SETS:
        found = {lab: json.loads((results / f"forms_{form}_{lab}_{name}.json").read_text(encoding="utf-8"))
                 for lab in labels if (results / f"forms_{form}_{lab}_{name}.json").exists()}
        if not found:
            continue
        original = _originals(form, results, name)
        for res in found.values():  # the sample's halves are those of the messages they came from
            for row in res["rows"]:
                row["query"] = original.get(row["query"], row["query"])
        for part, sums in part_summaries(name, found):
            lines += variant_lines(name, part, sums, labels, 3, lambda v: (
                f" {v['answered_right']:.3f} | {v['answered_wrong']:.3f} | {v['suggested_right']:.3f} |"))
    return "\n".join(lines)


TITLES = {
    "identifier": "A phone number, an email or an order number added",
    "capitals": "The whole message in capital letters",
    "emoji": "An emoji before or after the message",
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--forms", default=",".join(FORMS), help="comma-separated: " + ",".join(FORMS))
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated: " + ",".join(SETS))
    parser.add_argument("--label", default="after")
    parser.add_argument("--labels", help="comma-separated labels the tables show (default: before,after)")
    parser.add_argument("--results", default=str(BENCH / "results"), help="where results are kept")
    parser.add_argument("--table-only", action="store_true")
    args = parser.parse_args(argv)
    results = Path(args.results)
    forms = [f for f in args.forms.split(",") if f]
    if not args.table_only:
        for form in forms:
            run(form, args.label, [s for s in args.sets.split(",") if s], results)
    labels = (args.labels or "before,after").split(",")
    text = "\n\n".join(f"## {TITLES[form]} ({form})\n\n{table(form, results, labels)}" for form in FORMS)
    (BENCH / "message_forms.md").write_text(
        "# Everyday forms of a question, end to end\n\n"
        "Produced by `bench/message_forms.py` (see its docstring): each answerable message of "
        "bench/e2e_eval.py's sets rewritten in one form, sent as the first message of a new "
        "conversation over REST to the real stack serving that set's corpus. Shares of the row's "
        "messages: answered right, answered wrong, suggested right (buttons that include the "
        "expected entry).\n\n" + text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
