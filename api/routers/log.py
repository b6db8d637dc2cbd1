"""The transparency log (RFC 9162 + C2SP checkpoints): what an auditor needs to check the ledger without us.

Checkpoints, the verifier key and proofs are public — they reveal hashes, not contents — as a transparency log's
are. Leaf contents and audit bundles are for finance, auditors and the project's own department.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response
from fastapi.responses import PlainTextResponse

from api.auth import Overseer, Reader
from api.body import LedgerRoute
from api.config.settings import Settings
from api.deps import LedgerDep, LogDep, SettingsDep
from api.problems import EdgeProblem, documented
from api.schemas.log import CheckpointOut, ConsistencyProofOut, InclusionProofOut, KeyOut, KeyRotationOut, KeysOut
from ledger.domain.errors import Forbidden, InvalidInput, NotFound
from ledger.domain.values import Role
from ledger.log.audit import dumps_bundle
from ledger.log.checkpoint import CheckpointError, StoredCheckpoint
from ledger.log.rotation import KeyRotation
from ledger.store.tlog import BundleUnavailable, TransparencyLog
from ledger.store.tree import ProofUnavailable

router = APIRouter(prefix="/log", tags=["log"], route_class=LedgerRoute)
bundles = APIRouter(tags=["audit"], route_class=LedgerRoute)

Size = Annotated[int, Query(ge=0, le=2**62)]


def _verifier(log: TransparencyLog) -> str:
    if log.signing_key is None:
        raise EdgeProblem("internal-error", "no signing key configured")
    return log.signing_key.verifier.to_string()


def _out(log: TransparencyLog, stored: StoredCheckpoint) -> CheckpointOut:
    return CheckpointOut(
        origin=stored.checkpoint.origin,
        tree_size=stored.column_size,
        root_hash=base64.b64encode(stored.column_root).decode("ascii"),
        signed_at=stored.signed_at,
        note=log.cosigned_note(stored),
        witnesses=sorted({name for name, _ in log.cosigners(stored.column_size)}),
    )


Witnesses = Annotated[
    int,
    Query(
        ge=0,
        le=100,
        description="The newest checkpoint cosigned by at least this many witnesses (0: the newest checkpoint)",
    ),
]


def _latest(log: TransparencyLog, witnesses: int = 0) -> StoredCheckpoint:
    if witnesses:
        witnessed = log.latest_witnessed(witnesses)
        if witnessed is None:
            raise NotFound(f"no checkpoint is cosigned by {witnesses} witnesses yet", code="object-not-found")
        return witnessed
    latest = log.latest_checkpoint()
    if latest is None:
        latest = log.sign_checkpoint() or log.latest_checkpoint()
    if latest is None:
        raise NotFound("no checkpoint has been signed yet", code="object-not-found")
    return latest


@router.get("/key")
def verifier_key(log: LogDep) -> KeyOut:
    """The verifier key to pin: publish it where auditors can find it; every check below uses it."""
    return KeyOut(verifier_key=_verifier(log), origin=log.origin)


@router.get("/keys")
def key_rotations(log: LogDep) -> KeysOut:
    """The log's signing keys over time: every key rotation it records, signed by the key retired and by its
    successor, with the event's bytes to prove it in a checkpoint's tree (an auditor follows the chain from the key
    it first pinned, as `jixiao audit` does)."""
    rotations = []
    for number, recorded in enumerate(log.key_rotations(), start=1):
        statement, old, new = "", None, None
        with suppress(CheckpointError):  # served as recorded: an auditor's verifier says what is wrong with it
            statement = recorded.note
            rotation = KeyRotation.parse_body(statement.partition("\n\n")[0] + "\n")
            old, new = rotation.old.to_string(), rotation.new.to_string()
        rotations.append(
            KeyRotationOut(number=number, statement=statement, old_key=old, new_key=new, **recorded.to_json())
        )
    return KeysOut(origin=log.origin, verifier_key=_verifier(log), rotations=rotations)


@router.get("/checkpoint", responses=documented(404))
def latest_checkpoint(log: LogDep, witnesses: Witnesses = 0) -> CheckpointOut:
    """The latest signed checkpoint: origin, tree size, root hash, signing time and the signed note."""
    return _out(log, _latest(log, witnesses))


@router.get(
    "/checkpoint/note",
    response_class=PlainTextResponse,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "A C2SP signed note"},
        **documented(404),
    },
)
def latest_checkpoint_note(log: LogDep, witnesses: Witnesses = 0) -> PlainTextResponse:
    """The latest checkpoint as a C2SP signed note (text/plain), with its witnesses' cosignatures, as tlog clients
    fetch it."""
    return PlainTextResponse(log.cosigned_note(_latest(log, witnesses)))


@router.get("/checkpoints", responses=documented(422))
def checkpoints(
    log: LogDep,
    after: Size = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[CheckpointOut]:
    """Every signed checkpoint above a tree size, oldest first (hold one, ask for consistency with a later one)."""
    return [_out(log, item) for item in log.checkpoints() if item.column_size > after][:limit]


def _size_or_latest(log: TransparencyLog, size: int | None) -> int:
    """The tree size a proof is asked for: as given, or by default the latest checkpoint's."""
    return size if size is not None else _latest(log).column_size


@contextmanager
def _unavailable_is_invalid(field: str) -> Iterator[None]:
    """A proof the log cannot give (sizes out of range, the wrong way round) is the client's invalid ``field``."""
    try:
        yield
    except ProofUnavailable as error:
        raise InvalidInput(str(error), field=field) from None


def _covering_size(log: TransparencyLog, settings: Settings, leaf_index: int) -> int:
    """The latest checkpoint's size, when it covers ``leaf_index``; else a problem that says when one will and how to
    have one signed now (an event recorded a moment ago is not in any signed tree yet)."""
    size = _latest(log).column_size
    if leaf_index < size:
        return size
    leaves = log.log_size()
    if leaf_index >= leaves:
        raise InvalidInput(f"the log has no leaf {leaf_index}: it holds {leaves} leaves", field="leaf_index")
    how = "由运维人员立即签署一个（`jixiao checkpoint`），或取该项目的审计包（它带有覆盖其全部事件的检查点）"
    how_en = "have the operator sign one now (`jixiao checkpoint`), or fetch the project's audit bundle (it carries a "
    how_en += "checkpoint covering all its events)"
    headers = None
    if settings.checkpoint_interval > 0:
        wait = math.ceil(settings.checkpoint_interval)
        when = f"{wait} 秒内将自动签署覆盖它的检查点，届时再请求；或{how}"
        when_en = f"one covering it is signed within {wait} s (Retry-After): ask again then, or {how_en}"
        headers = {"Retry-After": str(wait)}
    else:
        when = f"此处检查点只按需签署（JIXIAO_CHECKPOINT_INTERVAL=0）：请{how}"
        when_en = f"checkpoints are signed only on demand here (JIXIAO_CHECKPOINT_INTERVAL=0): {how_en}"
    raise EdgeProblem(
        "not-yet-checkpointed",
        f"叶 {leaf_index} 记录于最新的签名检查点（树大小 {size}）之后；{when}。"
        f" Leaf {leaf_index} was recorded after the newest signed checkpoint (tree size {size}); {when_en}.",
        headers=headers,
    )


@router.get("/proofs/inclusion", responses=documented(404, 409, 422))
def inclusion_proof(
    log: LogDep,
    settings: SettingsDep,
    leaf_index: Size,
    tree_size: Annotated[int | None, Query(ge=1, le=2**62, description="Default: the latest checkpoint's size")] = None,
) -> InclusionProofOut:
    """RFC 9162 inclusion proof of a leaf in the tree of a given size (verify against a signed root). Without
    ``tree_size``, in the latest checkpoint's tree: a leaf recorded after it is 409 not-yet-checkpointed, saying
    when a checkpoint covering it comes."""
    size = tree_size if tree_size is not None else _covering_size(log, settings, leaf_index)
    with _unavailable_is_invalid("leaf_index"):
        proof = log.inclusion_proof(leaf_index, size)
        root = log.root(size)
    leaf = log.leaf_hash(leaf_index)
    return InclusionProofOut(
        leaf_index=leaf_index,
        tree_size=size,
        leaf_hash=leaf.hex(),
        proof=[node.hex() for node in proof],
        root_hash=root.hex(),
    )


@router.get("/proofs/consistency", responses=documented(404, 422))
def consistency_proof(
    log: LogDep,
    first: Size,
    second: Annotated[int | None, Query(ge=0, le=2**62, description="Default: the latest checkpoint's size")] = None,
) -> ConsistencyProofOut:
    """RFC 9162 consistency proof: the tree of size ``second`` extends the tree of size ``first``."""
    size = _size_or_latest(log, second)
    with _unavailable_is_invalid("first"):
        proof = log.consistency_proof(first, size)
        roots = log.root(first), log.root(size)
    return ConsistencyProofOut(
        first=first,
        second=size,
        proof=[node.hex() for node in proof],
        first_root=roots[0].hex(),
        second_root=roots[1].hex(),
    )


@router.get("/leaves/{leaf_index}", responses=documented(401, 403, 404, 422))
def leaf(leaf_index: int, log: LogDep, principal: Overseer) -> dict[str, Any]:
    """One stored event exactly as hashed: id, version, topic, state (base64) and its leaf and chain hashes."""
    row = log.leaf(leaf_index)
    if row is None:
        raise NotFound(f"the log has no leaf {leaf_index}", code="object-not-found")
    return row


@bundles.get(
    "/projects/{project_id}/bundle",
    responses={
        200: {
            "content": {"application/json": {}},
            "description": "An audit bundle; check it with `jixiao verify --bundle`",
        },
        **documented(401, 403, 404, 422),
    },
)
def audit_bundle(project_id: UUID, principal: Reader, ledger: LedgerDep, log: LogDep) -> Response:
    """离线审计包: the project's events with inclusion proofs, a signed checkpoint and the verifier key."""
    own_department = principal.role == Role.DEPARTMENT and principal.acts_for(ledger.project(project_id).department)
    if principal.role not in (Role.FINANCE, Role.AUDITOR) and not own_department:
        raise Forbidden("audit bundles are for finance, auditors and the project's department", code="role-not-allowed")
    if log.signing_key is None:
        raise EdgeProblem("internal-error", "no signing key configured")
    try:
        bundle = log.export_bundle(log.signing_key.verifier, project_id)
    except BundleUnavailable as error:
        raise NotFound(str(error), code="project-not-found") from None
    return Response(
        dumps_bundle(bundle),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="bundle-{project_id}.json"'},
    )
