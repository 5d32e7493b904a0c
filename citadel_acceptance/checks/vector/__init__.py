"""The vector store (Qdrant): search latency, recall, concurrency, embeddings."""
