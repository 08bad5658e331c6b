"""Offline retrieval core of the RAG service: PDF ingestion, local embeddings, hybrid search.

Importing this package is cheap; numpy, faiss, bm25s and onnxruntime load only when an
embedder, an index or a retriever is built.
"""
