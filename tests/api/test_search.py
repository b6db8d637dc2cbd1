"""Projects and agencies found by part of their name (``?q=``), in any spelling, through an index."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from ledger.domain.values import key
from projections import search
from tests.api.conftest import Service
from tests.api.world import World, build
from tests.credit_codes import code_of

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def world(shared_service: Service) -> World:
    return build(shared_service)


def names(s: Service, who: str | None, path: str, q: str) -> list[str]:
    response = s.get(who, path, q=q)
    assert response.status_code == 200, response.text
    body = response.json()
    return sorted(row["name"] for row in (body["items"] if isinstance(body, dict) else body))


def test_projects_by_part_of_their_name(shared_service: Service, world: World) -> None:
    assert names(shared_service, "finance", "/projects", "营养") == ["营养改善"]
    assert names(shared_service, "finance", "/projects", "改善") == ["营养改善"]
    assert names(shared_service, "finance", "/projects", "养") == ["营养改善"]  # one character
    assert names(shared_service, "finance", "/projects", "公共卫生") == ["基本公共卫生服务"]
    assert names(shared_service, "finance", "/projects", "无此项目") == []


def test_search_keeps_to_the_readers_scope(shared_service: Service, world: World) -> None:
    assert names(shared_service, "health", "/projects", "营养") == []  # 教育局's project
    assert names(shared_service, "education", "/projects", "营养") == ["营养改善"]
    assert names(shared_service, None, "/projects", "营养") == ["营养改善"]  # its goals were disclosed
    assert names(shared_service, None, "/projects", "卫生") == []  # nothing of it disclosed


def test_agencies_by_part_of_their_name_in_any_spelling(shared_service: Service, world: World) -> None:
    assert names(shared_service, "finance", "/agencies", "评估") == ["另一评估公司", "某咨询评估有限公司"]
    assert names(shared_service, "finance", "/agencies", "咨询") == ["某咨询评估有限公司"]
    assert names(shared_service, "finance", "/agencies", " 咨询 ") == ["某咨询评估有限公司"]
    assert names(shared_service, "finance", "/agencies", "另一") == ["另一评估公司"]
    refused = shared_service.get("finance", "/agencies", q=" ")
    assert refused.status_code == 422
    assert refused.json()["field"] == "query.q"


def test_a_name_with_every_pair_of_the_search_yet_not_the_search_is_not_found(
    shared_service: Service, world: World
) -> None:
    body = {
        "name": "评估评价评估中心",
        "credentials": "乙级",
        "credit_code": code_of("评估评价评估中心"),
        "effective_on": "2020-08-01",
    }
    position = shared_service.post("finance", "/agencies", body).json()["position"]
    assert shared_service.get("finance", "/readyz", min_position=position).status_code == 200
    # 估评 and 评估 are both pairs of the name, but 估评估 is not in it
    assert names(shared_service, "finance", "/agencies", "估评估") == []
    assert names(shared_service, "finance", "/agencies", "估评价") == ["评估评价评估中心"]


@pytest.mark.parametrize(
    ("table", "q"), [("project_status", "营养"), ("project_status", "养"), ("blacklist_agencies", "咨询评估")]
)
def test_the_search_reads_the_index(shared_service: Service, world: World, table: str, q: str) -> None:
    with psycopg.connect(shared_service.app.state.settings.database_url) as conn:
        conn.execute("SET enable_seqscan = off")  # a handful of rows: make the planner show what it can use
        plan = "\n".join(
            row[0]
            for row in conn.execute(
                sql.SQL("EXPLAIN SELECT name FROM {} WHERE {}").format(
                    sql.Identifier(table), search.contains("name_grams", "name_key")
                ),
                [search.query_grams(key(q)), key(q)],
            )
        )
    assert f"{table}_name_grams_idx" in plan, plan
