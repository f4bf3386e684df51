"""FAQ knowledge base: the corpus, the FAISS index, search and the answer decision.

Modules (import what you need; nothing heavy is imported here):
  corpus         Entry, load_corpus, validate_corpus, read_sheet_entries: reading and checking
                 (Problem "file:line: message", CorpusError)
  spreadsheet    the rows of an Excel workbook (.xlsx), read like a CSV's
  corpus_writer  render_topic_yaml, export_csv / import_sheet / export_yaml: writing the corpus
  store          FaqStore: the versioned entries in the SQL database, conflicts, publishing
  lexical        BM25 and diacritic restoration
  index          what is embedded for each entry, IndexData, the FAISS index in memory
  index_store    build_index (incremental, atomic) and load_index: the versioned index in kb.index_dir
  calibration    the answer / suggest / abstain model each index fits for its own corpus
  search         KnowledgeBase.query / .search / .decide -> SearchQuery, Hit, Decision
  service        get_knowledge_base(), answer(text, language), answer_by_id(entry_id, language);
                 with kb.source: store, follows the store's published version
  evaluate       evaluate_kb(corpus_csv, queries_csv)
  commands       `hotro kb ...` and `hotro eval kb` argparse commands
The embedders are in bot/embedders.py, shared with NLU.
"""
