"""Knowledge packs: an office's documents and glossary, chunked along Japanese structure, searched hybrid."""

from kogata.knowledge.chunk import Chunk, chunk_pages, chunk_text
from kogata.knowledge.ingest import Document, read_document
from kogata.knowledge.retrieve import Hit, Retriever, search
from kogata.knowledge.store import AddResult, Pack, add, list_packs, load, remove

__all__ = [
    "AddResult",
    "Chunk",
    "Document",
    "Hit",
    "Pack",
    "Retriever",
    "add",
    "chunk_pages",
    "chunk_text",
    "list_packs",
    "load",
    "read_document",
    "remove",
    "search",
]
