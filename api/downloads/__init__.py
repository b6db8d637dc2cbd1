"""CSV and Excel downloads of every read model's list routes (api.downloads.routes), their tables (tables) and
Chinese headers (labels)."""

from api.downloads.routes import Download, download_of, download_routes, downloadable

__all__ = ["Download", "download_of", "download_routes", "downloadable"]
