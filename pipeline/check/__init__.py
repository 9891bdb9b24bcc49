"""Stage 4, check: every computed cell and prose claim against the printed chapter, split by provenance."""
