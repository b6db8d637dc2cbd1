"""Run Python code in a process that refuses to import a database driver, the event-sourcing library or a web
framework: what runs there is the offline verifier alone (standard library and ``cryptography``)."""

from __future__ import annotations

REFUSED = (
    "psycopg",
    "psycopg_pool",
    "eventsourcing",
    "fastapi",
    "starlette",
    "pydantic",
    "pydantic_settings",
    "uvicorn",
    "httpx",
    "msgspec",
    "apscheduler",
    "nats",
)

PRELUDE = f"""
import sys


class _Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {REFUSED!r}:
            raise ImportError(f"the offline verifier may not import {{name}}")
        return None


sys.meta_path.insert(0, _Refuse())
"""


def standalone(code: str) -> str:
    """``code`` preceded by the import guard."""
    return PRELUDE + "\n" + code
