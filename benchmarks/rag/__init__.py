"""RAG retrieval benchmark: ``python -m benchmarks.rag`` (or ``python benchmarks/rag``)."""
