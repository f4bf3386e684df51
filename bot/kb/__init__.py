"""FAQ knowledge base: corpus loading and validation, embedders, FAISS index, search.

Modules (import what you need; nothing heavy is imported here):
  corpus     Entry, load_corpus, validate_corpus (Problem "file:line: message"), CorpusError,
             export_csv / import_csv
  embedders  the sentence embedders shared with NLU
  index      build_index (incremental, atomic) and load_index of the FAISS index in kb.index_dir
  lexical    BM25 and diacritic restoration
  search     KnowledgeBase.search / .decide -> Hit, Decision (answer | suggest | abstain)
  service    get_knowledge_base(), answer(text, language), answer_by_id(entry_id, language)
  evaluate   evaluate_kb(corpus_csv, queries_csv)
  commands   `hotro kb ...` and `hotro eval kb` argparse commands
"""
