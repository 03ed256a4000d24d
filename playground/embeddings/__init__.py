"""Embeddings search: corpus loading and chunking, batched and cached embedding, search,
2-D maps and exports. No streamlit here."""
