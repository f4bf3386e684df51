"""`hotro kb ...` and `hotro eval kb` commands, registered on the CLI's argparse parsers.

bot/cli.py calls:
    add_kb_commands(subparsers)        # hotro kb build | validate | export --out F | import F
    add_eval_kb(eval_subparsers)       # hotro eval kb --corpus C --queries Q [--json]
Every parser sets `func`: `sys.exit(args.func(args))` runs the command; it returns the exit
code (0 success, 1 the corpus/index/evaluation failed, 2 an input file is missing or unreadable).
Also runnable alone: `python -m bot.kb.commands kb build`.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

from bot.embedders import DEFAULT_EMBEDDER
from bot.kb.corpus import CorpusError, Problem, errors, load_corpus, validate_corpus
from bot.kb.corpus_writer import export_csv, import_sheet

EXIT_OK, EXIT_FAILED, EXIT_INPUT = 0, 1, 2


def _settings() -> Dict[str, Any]:
    from bot.settings import load_settings

    return load_settings()


def _kb(settings: Dict[str, Any]) -> Dict[str, Any]:
    return dict(settings.get("kb") or {})


def _corpus_dir(args) -> Path:
    from bot.settings import project_path

    return Path(args.corpus) if args.corpus else project_path(_kb(_settings()).get("corpus_dir", "knowledge_base"))


def _add_corpus(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", metavar="DIR", help="work on this YAML directory instead of the FAQ store "
                                                   "(default with kb.source: files: kb.corpus_dir)")


def _from_store(args) -> bool:
    """kb.source: store and no --corpus: the command works on the FAQ store (bot/kb/store.py)."""
    return not getattr(args, "corpus", None) and _kb(_settings()).get("source", "files") == "store"


def _store():
    from bot.db import database_url
    from bot.kb.store import FaqStore

    return FaqStore(database_url(_settings()))


def _seeded_store():
    """The store, seeded from kb.corpus_dir when it is empty (as the servers do on first start)."""
    from bot.settings import project_path

    store = _store()
    if store.is_empty():
        corpus = project_path(_kb(_settings()).get("corpus_dir", "knowledge_base"))
        if store.seed(load_corpus(corpus), str(corpus)):
            print(f"the FAQ store was empty: seeded from {corpus}")
    return store


def _read_entries(path: str):
    """Entries of a spreadsheet (.xlsx, CSV) or a YAML corpus directory, and the advice about them."""
    from bot.kb.corpus import read_sheet_entries

    if os.path.isdir(path):
        problems = validate_corpus(path)
        if errors(problems):
            raise CorpusError(problems)
        return load_corpus(path), [p for p in problems if p.severity != "error"]
    entries, problems = read_sheet_entries(path)
    if errors(problems):
        raise CorpusError(problems)
    return entries, [p for p in problems if p.severity != "error"]


def add_kb_commands(subparsers) -> argparse.ArgumentParser:
    kb = subparsers.add_parser("kb", help="FAQ knowledge base: index, validate, CSV export/import",
                               description="FAQ knowledge base: index, validate, CSV export/import")
    sub = kb.add_subparsers(dest="kb_command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("build", help="validate the corpus and (re)build the search index",
                       description="Validate the corpus and build the search index; entries whose text "
                                   "did not change keep their vectors. A bad corpus leaves the old index.")
    _add_corpus(p)
    p.add_argument("--index", metavar="DIR", help="index directory (default: kb.index_dir)")
    p.add_argument("--embedder", help="embedder spec (default: embedder in hotro.yml)")
    p.add_argument("--force", action="store_true", help="write a new index even if nothing changed")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("validate", help="check the corpus; prints each problem as file:line: message")
    _add_corpus(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("export", help="write the corpus to one CSV file, or (store) YAML topic files")
    _add_corpus(p)
    p.add_argument("--out", required=True, metavar="FILE|DIR",
                   help="CSV file to write, or a directory for YAML topic files (e.g. knowledge_base)")
    p.add_argument("--published", action="store_true", help="store: the published version, not the latest saves")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("import", help="replace the corpus with a spreadsheet (.xlsx, CSV) or YAML directory "
                                      "(validated first)",
                       description="Replace the corpus with the entries of a spreadsheet, Excel .xlsx (its first "
                                   "sheet) or CSV UTF-8 (or, into the store, a YAML "
                                   "directory such as knowledge_base/). Nothing is written if it has problems. "
                                   "Into the store: changed entries become new versions, missing ones are "
                                   "deleted (restorable), and the result is published.")
    _add_corpus(p)
    p.add_argument("file", metavar="FILE|DIR", help=".xlsx or CSV file (or YAML directory) to import")
    p.add_argument("--author", default=None, help="who the new versions are by (default: $USER)")
    p.add_argument("--no-publish", action="store_true", help="store: save the versions, publish later")
    p.set_defaults(func=cmd_import)
    return kb


def add_eval_kb(eval_subparsers) -> argparse.ArgumentParser:
    p = eval_subparsers.add_parser(
        "kb", help="measure FAQ search on a labelled query set",
        description="Build an in-memory index of CORPUS (id,question,answer) and score QUERIES "
                    "(query,expected_id; empty expected_id = should not be answered).")
    p.add_argument("--corpus", required=True, metavar="CSV", help="corpus CSV: id,question,answer")
    p.add_argument("--queries", required=True, metavar="CSV", help="queries CSV: query,expected_id")
    p.add_argument("--embedder", help="embedder spec (default: embedder in hotro.yml)")
    p.add_argument("--json", action="store_true", help="print the metrics as one JSON object on the last line")
    p.set_defaults(func=cmd_eval_kb)
    return p


# --- commands ---------------------------------------------------------------------------


def _print_advice(advice: List[Problem], shown: int = 10) -> None:
    """Advice is worth reading but must not drown the output of a 500-entry import."""
    for problem in advice[:shown]:
        print(problem)
    if len(advice) > shown:
        print(f"... and {len(advice) - shown} more pieces of advice (`hotro kb validate` lists them all)")


def cmd_validate(args) -> int:
    if _from_store(args):
        from bot.kb.corpus import check_entries

        entries = _seeded_store().entries()
        problems = check_entries(entries)
        for problem in problems:
            print(problem.message if problem.severity == "error" else f"advice: {problem.message}")
        found = errors(problems)
        if found:
            print(f"{len(found)} error(s) in the FAQ store", file=sys.stderr)
            return EXIT_FAILED
        print(f"FAQ store: {len(entries)} entries, no errors")
        return EXIT_OK
    corpus = _corpus_dir(args)
    problems = validate_corpus(corpus)
    for problem in problems:  # errors and advice ("advice: ..."), in file and line order
        print(problem)
    found = errors(problems)
    if found:
        print(f"{len(found)} error(s) in {corpus}", file=sys.stderr)
        return EXIT_FAILED
    n = len(load_corpus(corpus))
    print(f"{corpus}: {n} entries, no errors")
    return EXIT_OK


def cmd_build(args) -> int:
    from bot.kb.index import IndexParams
    from bot.kb.index_store import KBIndexError, build_index
    from bot.kb.search import fit_index_decision
    from bot.settings import project_path

    settings = _settings()
    kb = _kb(settings)
    corpus = _corpus_dir(args)
    index = Path(args.index) if args.index else project_path(kb.get("index_dir", "var/kb_index"))
    entries = None
    if _from_store(args):  # the published version, as the servers serve it
        try:
            pub, entries = _seeded_store().published_entries()
        except CorpusError as exc:
            for problem in exc.problems:
                print(problem)
            return EXIT_FAILED
        if pub is None:
            print("error: nothing is published in the FAQ store", file=sys.stderr)
            return EXIT_FAILED
        corpus = f"store v{pub.version}"
    try:
        report = build_index(corpus, index, args.embedder or settings.get("embedder") or DEFAULT_EMBEDDER,
                             progress=not args.quiet and sys.stderr.isatty(),
                             exact_index_max=int(kb.get("exact_index_max", 10_000)),
                             params=IndexParams.from_settings(kb), force=args.force,
                             decision=lambda data: fit_index_decision(data, settings), entries=entries)
    except CorpusError as exc:
        for problem in exc.problems:
            print(problem)
        print(f"{len(exc.problems)} problem(s) in {corpus}: the index was not changed", file=sys.stderr)
        return EXIT_FAILED
    except (KBIndexError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # noqa: BLE001 - e.g. the embedder cannot load: say so, exit 1
        logging.getLogger(__name__).debug("kb build failed", exc_info=True)
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(report.summary())
    return EXIT_OK


def _export_store(args) -> int:
    from bot.kb.corpus_writer import export_yaml

    store = _seeded_store()
    entries = store.published_entries()[1] if args.published else store.entries()
    if args.out.lower().endswith(".csv"):
        export_csv(entries, args.out)
        print(f"wrote {len(entries)} entries to {args.out}")
    else:
        result = export_yaml(entries, args.out)
        print(f"wrote {len(entries)} entries to {len(result['written'])} topic file(s) in {args.out}"
              + (f", removed {', '.join(result['removed'])}" if result["removed"] else ""))
    return EXIT_OK


def _import_store(args) -> int:
    from bot.kb.store import EntryInvalid

    if not os.path.exists(args.file):
        print(f"error: {args.file}: no such file", file=sys.stderr)
        return EXIT_INPUT
    try:
        entries, advice = _read_entries(args.file)
    except CorpusError as exc:
        for problem in exc.problems:
            print(problem)
        print(f"{len(exc.problems)} problem(s): nothing was imported", file=sys.stderr)
        return EXIT_FAILED
    if not entries:
        print("error: no entries: refusing to empty the FAQ", file=sys.stderr)
        return EXIT_FAILED
    store = _store()
    author = args.author or os.environ.get("USER") or "import"
    try:
        result = store.import_entries(entries, author, note=f"import {os.path.basename(args.file.rstrip('/'))}")
        pub = None if args.no_publish else store.publish(author)
    except EntryInvalid as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    _print_advice(advice)
    print(f"imported {len(entries)} entries into the FAQ store: {len(result['added'])} added, "
          f"{len(result['changed'])} changed, {len(result['removed'])} deleted, "
          f"{len(result['unchanged'])} unchanged")
    if pub is not None:
        print(f"published store version {pub.version}: running servers answer from it within seconds")
    else:
        print("not published: the servers keep the published version until a publish")
    return EXIT_OK


def cmd_export(args) -> int:
    if _from_store(args):
        return _export_store(args)
    corpus = _corpus_dir(args)
    try:
        entries = load_corpus(corpus)
    except CorpusError as exc:
        for problem in exc.problems:
            print(problem)
        print("fix the corpus before exporting it", file=sys.stderr)
        return EXIT_FAILED
    export_csv(entries, args.out)
    print(f"wrote {len(entries)} entries to {args.out}")
    return EXIT_OK


def cmd_import(args) -> int:
    if _from_store(args):
        return _import_store(args)
    corpus = _corpus_dir(args)
    if not os.path.isfile(args.file):
        print(f"error: {args.file}: no such file", file=sys.stderr)
        return EXIT_INPUT
    try:
        result = import_sheet(args.file, corpus)
    except CorpusError as exc:
        for problem in exc.problems:
            print(problem)
        print(f"{len(exc.problems)} problem(s): nothing was imported", file=sys.stderr)
        return EXIT_FAILED
    _print_advice(result["advice"])
    print(f"imported {result['entries']} entries into {corpus}: "
          f"{len(result['written'])} topic file(s) written"
          + (f", removed {', '.join(result['removed'])}" if result["removed"] else ""))
    print("run `hotro kb build` to update the search index (a running bot picks it up by itself)")
    return EXIT_OK


def cmd_eval_kb(args) -> int:
    from bot.kb.evaluate import METRIC_KEYS, evaluate_kb

    for path in (args.corpus, args.queries):
        if not os.path.isfile(path):
            print(f"error: {path}: no such file", file=sys.stderr)
            return EXIT_INPUT
    try:
        result = evaluate_kb(args.corpus, args.queries, embedder_spec=args.embedder)
    except (ValueError, KeyError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except Exception as exc:  # noqa: BLE001
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    keys: List[str] = METRIC_KEYS + [k for k in result if k not in METRIC_KEYS]
    width = max(len(k) for k in keys)
    for key in keys:
        value = result[key]
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        print(f"{key:<{width}}  {shown}")
    if args.json:
        print(json.dumps(result, ensure_ascii=False, sort_keys=True))
    return EXIT_OK


def main(argv: Optional[List[str]] = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="python -m bot.kb.commands")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    add_kb_commands(sub)
    ev = sub.add_parser("eval", help="evaluations")
    ev_sub = ev.add_subparsers(dest="eval_command", metavar="WHAT")
    ev_sub.required = True
    add_eval_kb(ev_sub)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
