"""``jixiao witness``: a C2SP tlog-witness an independent party runs for itself (the audit office, 人大).

Its data folder holds everything it is: ``witness.key`` (its Ed25519 signing key, mode 0600), ``logs.json`` (the logs
it watches: origin and verifier keys) and ``state/`` (the latest checkpoint it cosigned per log, written durably
before it answers; ``state/evidence.jsonl`` keeps signed requests it refused, which may prove a log misbehaved).

The server is the standard library's threaded HTTP server: one endpoint, ``POST /add-checkpoint``, plus
``GET /`` that names the witness. It needs no database and nothing of the ledger's but :mod:`ledger.witness`.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ledger.log.checkpoint import VerifierKey
from ledger.log.witness import MAX_REQUEST_BYTES, WitnessError, WitnessSigningKey
from ledger.log.witness_core import Answer, LogEntry, Witness, WitnessState

logger = logging.getLogger(__name__)

KEY_FILE = "witness.key"
LOGS_FILE = "logs.json"


@dataclass(frozen=True)
class WitnessHome:
    """A witness's data folder."""

    folder: Path

    @property
    def key_file(self) -> Path:
        return self.folder / KEY_FILE

    @property
    def logs_file(self) -> Path:
        return self.folder / LOGS_FILE

    def init(self, name: str) -> WitnessSigningKey:
        """Make the witness's key (refusing to replace one: a witness with a new key is a new witness)."""
        if self.key_file.exists():
            raise WitnessError(f"{self.key_file} exists: this folder is already a witness")
        key = WitnessSigningKey.generate(name)
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(key.to_string() + "\n")
            stream.flush()
            os.fsync(stream.fileno())
        if not self.logs_file.exists():
            self._write_logs([])
        return key

    def key(self) -> WitnessSigningKey:
        if not self.key_file.exists():
            raise WitnessError(
                f"no witness in {self.folder}: run `jixiao witness init --name NAME --data {self.folder}` first"
            )
        mode = self.key_file.stat().st_mode & 0o777
        if mode & 0o077:
            raise WitnessError(f"{self.key_file} is open to group or others (mode {mode:04o}); chmod 600 it")
        return WitnessSigningKey.from_string(self.key_file.read_text(encoding="utf-8"))

    def logs(self) -> list[LogEntry]:
        if not self.logs_file.exists():
            return []
        data = json.loads(self.logs_file.read_text(encoding="utf-8"))
        return [LogEntry(item["origin"], tuple(VerifierKey.from_string(k) for k in item["keys"])) for item in data]

    def add_log(self, origin: str, key: VerifierKey) -> None:
        """Watch a log (or trust one more key of a log already watched)."""
        self.key()  # refuse on a folder that is not a witness
        logs = {entry.origin: list(entry.keys) for entry in self.logs()}
        keys = logs.setdefault(origin, [])
        if key not in keys:
            keys.append(key)
        self._write_logs([LogEntry(o, tuple(k)) for o, k in logs.items()])

    def _write_logs(self, logs: list[LogEntry]) -> None:
        data = [{"origin": log.origin, "keys": [key.to_string() for key in log.keys]} for log in logs]
        temporary = self.logs_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        os.replace(temporary, self.logs_file)

    def witness(self) -> Witness:
        return Witness(self.key(), self.logs(), WitnessState(self.folder / "state"))


class _Handler(BaseHTTPRequestHandler):
    server: WitnessServer
    protocol_version = "HTTP/1.1"  # keep-alive, as the protocol recommends

    def do_POST(self) -> None:
        if self.path.rstrip("/").rsplit("/", 1)[-1] != "add-checkpoint":
            self._answer(Answer(404, "not found\n"))
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._answer(Answer(411, "a Content-Length is required\n"))
            return
        if not 0 <= length <= MAX_REQUEST_BYTES:
            self._answer(Answer(413, "the request is too large\n"))
            return
        answer = self.server.witness.add_checkpoint(self.rfile.read(length))
        logger.info("add-checkpoint from %s: %d", self.client_address[0], answer.status)
        self._answer(answer)

    def do_GET(self) -> None:
        self._answer(Answer(200, f"{self.server.witness.key.verifier.to_string()}\n"))

    def _answer(self, answer: Answer) -> None:
        data = answer.body.encode("utf-8")
        self.send_response(answer.status, HTTPStatus(answer.status).phrase)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        logger.debug(format, *args)


class WitnessServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], witness: Witness) -> None:
        self.witness = witness
        super().__init__(address, _Handler)

    def start(self) -> threading.Thread:
        """Serve on a thread of its own (tests, benchmarks); ``shutdown()`` stops it."""
        thread = threading.Thread(target=self.serve_forever, name="jixiao-witness", daemon=True)
        thread.start()
        return thread
