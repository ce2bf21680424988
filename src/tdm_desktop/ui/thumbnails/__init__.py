"""Thumbnails: the loader (fetch, decode, memory caches), where bytes come from, loading status."""
