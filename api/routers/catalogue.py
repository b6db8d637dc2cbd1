"""The indicator library (指标库), the rulesets (规则集) and the re-evaluation samples (再评价抽样).

Each is one small aggregate (the library, the ruleset, a year's sample and its few draws), so reading the aggregate
itself is the read model: it is cached in memory and carries its version as ETag.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from api.auth import Reader
from api.body import LedgerRoute
from api.commands import CommandDep, command, run
from api.deps import LedgerDep
from api.labels import labelled
from api.problems import documented
from api.routers.history import plain
from api.schemas.catalogue import (
    DrawAnnouncement,
    DrawContribution,
    DrawReveal,
    IndicatorCreate,
    IndicatorRetirement,
    IndicatorRevision,
    RulesetAdoption,
    SampleDraw,
)
from api.schemas.common import CommandResult

indicators = APIRouter(prefix="/indicators", tags=["indicators"], route_class=LedgerRoute)
rulesets = APIRouter(prefix="/rulesets", tags=["rulesets"], route_class=LedgerRoute)
samples = APIRouter(prefix="/re-evaluation-samples", tags=["re-evaluation"], route_class=LedgerRoute)

INDICATOR_CODES = {"level1": "level1", "level2": "level2", "operator": "operator"}  # each labelled beside (_zh)
DRAW_CODES = {"status": "draw_status", "missing": "draw_missing"}
FiscalYear = Annotated[int, Path(ge=2000, le=2100)]
IndicatorCode = Annotated[str, Path(min_length=1, max_length=64, examples=["EDU-001"])]


@indicators.get("", responses=documented(401, 403))
def list_indicators(ledger: LedgerDep, principal: Reader, response: Response) -> dict[str, dict[str, Any]]:
    """The library: every indicator's current definition, version and whether it is retired."""
    library = ledger.indicator_library()
    response.headers["ETag"] = f'"{library.version}"'
    return {
        code: labelled(plain(definition), INDICATOR_CODES) for code, definition in sorted(library.indicators.items())
    }


@command(indicators, "", created=True)
async def define_indicator(body: IndicatorCreate, ctx: CommandDep) -> CommandResult:
    """新增指标 by finance: a common or industry core indicator with its standard."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.define_indicator(act, body.code, _definition(body.definition)),
        location=lambda w: f"/indicators/{body.code}",
    )


@command(indicators, "/{code}/revisions", created=True)
async def revise_indicator(code: IndicatorCode, body: IndicatorRevision, ctx: CommandDep) -> CommandResult:
    """修订指标 by finance: a new version of the definition (goals that cite the old one keep it)."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.revise_indicator(act, code, _definition(body.definition)),
        location=lambda w: f"/indicators/{code}",
    )


@command(indicators, "/{code}/retirement")
async def retire_indicator(code: IndicatorCode, body: IndicatorRetirement, ctx: CommandDep) -> CommandResult:
    """停用指标 by finance."""
    return await run(ctx, body, lambda act: ctx.ledger.retire_indicator(act, code))


def _definition(definition: Any) -> dict[str, str]:
    return {
        key: str(value.value if hasattr(value, "value") else value) for key, value in definition.model_dump().items()
    }


@rulesets.get("", responses=documented(401, 403))
def list_rulesets(ledger: LedgerDep, principal: Reader, response: Response) -> dict[str, Any]:
    """Every ruleset version's parameters, each one of them (those added since it was adopted at their defaults),
    and which is current (version 1: the defaults of the source plan)."""
    ruleset = ledger.ruleset()
    response.headers["ETag"] = f'"{ruleset.version}"'
    versions = {version: ruleset.parameters(int(version)).to_dict() for version in ruleset.versions}
    return {"current_version": ruleset.current_version, "versions": plain(versions)}


@command(rulesets, "", created=True)
async def adopt_ruleset(body: RulesetAdoption, ctx: CommandDep) -> CommandResult:
    """采用新规则集 by finance: the next version, from the defaults plus the given changes, with a reason."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.adopt_ruleset(act, body.version, body.parameters),
        location=lambda w: "/rulesets",
    )


@command(samples, "", created=True)
async def draw_sample(body: SampleDraw, ctx: CommandDep) -> CommandResult:
    """The single-party draw (a seed finance chose): retired, refused as ``draw-retired`` — use the announcement, the
    audit office's contribution and the reveal."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.draw_re_evaluation_sample(act, body.fiscal_year, seed=body.seed, size=body.size),
        location=lambda w: f"/re-evaluation-samples/{body.fiscal_year}",
    )


@command(samples, "/{fiscal_year}/announcement", created=True)
async def announce_draw(fiscal_year: FiscalYear, body: DrawAnnouncement, ctx: CommandDep) -> CommandResult:
    """抽查公告 by finance: the commitment (SHA-256 of its secret), the population fixed now; the reveal is due in the
    ruleset's working days. After a failed draw, a new one."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.announce_re_evaluation_draw(act, fiscal_year, body.commitment, body.size),
        location=lambda w: f"/re-evaluation-samples/{fiscal_year}",
    )


@command(samples, "/{fiscal_year}/contribution")
async def contribute_to_draw(fiscal_year: FiscalYear, body: DrawContribution, ctx: CommandDep) -> CommandResult:
    """审计随机数 by the audit office (auditor): its own random bytes, once, after the announcement."""
    return await run(
        ctx, body, lambda act: ctx.ledger.contribute_to_re_evaluation_draw(act, fiscal_year, body.contribution)
    )


@command(samples, "/{fiscal_year}/reveal")
async def reveal_draw(fiscal_year: FiscalYear, body: DrawReveal, ctx: CommandDep) -> CommandResult:
    """揭示 by finance: the secret, checked against the commitment; the seed and the sample follow."""
    return await run(ctx, body, lambda act: ctx.ledger.reveal_re_evaluation_draw(act, fiscal_year, body.secret))


HOW_TO_REPRODUCE = (
    "seed = hex SHA-256('jixiao/re-evaluation-seed/v1' || 0x00 || len(secret) || secret || len(contribution) || "
    "contribution || 32 || population digest), each len a 4-byte big-endian count; population digest = SHA-256("
    "'jixiao/re-evaluation-population/v1' || 0x00 || for each sorted member: len || member UTF-8); rank each "
    "population member by hex SHA-256(seed UTF-8 || 0x00 || member UTF-8); the lowest ranks, as many as the size "
    "announced, sorted, are the sample (ledger.rules.two_party_draw; `jixiao verify` recomputes every draw)"
)
LEGACY_HOW_TO = (
    "rank each population member by hex SHA-256(seed UTF-8 || 0x00 || member UTF-8); "
    "the lowest ranks, as many as selected, sorted, are the sample (ledger.rules.draw_sample)"
)


@samples.get("/{fiscal_year}", responses=documented(401, 403, 404, 422))
def get_sample(fiscal_year: FiscalYear, ledger: LedgerDep, principal: Reader) -> dict[str, Any]:
    """The year's sample as recorded: every draw (announced, contributed, revealed, failed — the failed ones kept)
    with its commitment, population, contribution, secret, seed and selection; the sample the revealed one drew."""
    sample = ledger.re_evaluation_sample(fiscal_year)
    return {
        "id": str(sample.id),
        "fiscal_year": sample.fiscal_year,
        "drawn": sample.is_drawn,
        "seed": sample.seed,
        "population": sample.population,
        "selected": sample.selected,
        "rate": sample.rate,
        "ruleset_version": sample.ruleset_version,
        "draws": [labelled(plain(draw), DRAW_CODES) for draw in sample.draws],
        "how_to_reproduce": HOW_TO_REPRODUCE if sample.draws else LEGACY_HOW_TO,
    }
