"""CSV and Excel downloads of the read models: their tables (tables) and Chinese headers (labels)."""
