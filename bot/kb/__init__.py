"""FAQ knowledge base: corpus loading and validation, embedders, FAISS index, search."""
