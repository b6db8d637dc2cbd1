"""``jixiao verify``: every re-evaluation draw recomputed from the log (再评价抽查复核).

The hashes prove the events are the ones appended; they cannot prove a draw's selection follows from its inputs,
since whoever appends (the operator, with the service's role) could append a reveal naming any projects. So verify
reads each fiscal year's sample (its id follows from the year: a few primary-key reads, not a scan of the log),
replays it through the domain code, and recomputes every revealed draw from what it records — the commitment from
the secret, the population's digest, the seed from the secret, the contribution and the digest, the selection from
the seed — failing on any that differs (:meth:`ledger.domain.draw.ReEvaluationSample.verify_revealed`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import psycopg
from eventsourcing.persistence import Mapper, StoredEvent

from ledger.domain.draw import ReEvaluationSample, sample_id
from ledger.domain.values import FIRST_FISCAL_YEAR, LAST_FISCAL_YEAR
from ledger.log.verifier import CheckOutcome
from ledger.store.reads import events_of
from ledger.store.tables import EVENTS
from ledger.store.transcodings import ledger_mapper


@dataclass
class DrawReport(CheckOutcome):
    events: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)
    samples: int = 0  # the fiscal years with a sample (or a draw under way)
    revealed: int = 0  # the two-party draws revealed, each recomputed
    failed: int = 0  # the draws recorded as failed


def check_draws(database_url: str) -> DrawReport:
    """Replay every fiscal year's re-evaluation sample and recompute each revealed draw."""
    started = time.perf_counter()
    mapper: Mapper[Any] = ledger_mapper()
    report = DrawReport()
    ids = [sample_id(year) for year in range(FIRST_FISCAL_YEAR, LAST_FISCAL_YEAR + 1)]
    samples: dict[Any, Any] = {}
    with psycopg.connect(database_url, client_encoding="UTF8") as conn, conn.transaction():
        for originator_id, version, topic, state in events_of(conn, EVENTS, ids):
            report.events += 1
            if samples.get(originator_id, 0) is None:
                continue  # its replay failed (reported)
            try:
                event = mapper.to_domain_event(StoredEvent(originator_id, version, topic, state))
                samples[originator_id] = event.mutate(samples.get(originator_id))  # type: ignore[attr-defined]
            except Exception as error:  # the event itself is what is wrong: say which, and go on with the others
                report.failures.append(
                    f"re-evaluation sample {originator_id} version {version}: the event cannot be replayed "
                    f"({type(error).__name__}: {error})"
                )
                samples[originator_id] = None
    for sample in samples.values():
        if not isinstance(sample, ReEvaluationSample):
            continue
        report.samples += 1
        report.revealed += sum(1 for draw in sample.draws if draw["status"] == "revealed")
        report.failed += sum(1 for draw in sample.draws if draw["status"] == "failed")
        report.failures.extend(sample.verify_revealed())
    report.seconds = time.perf_counter() - started
    return report
