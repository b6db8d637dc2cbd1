"""The read models as tables (数据表)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from api.console.pages import SignedIn, render, router


@router.get("/tables")
async def table_list(request: Request, principal: SignedIn) -> HTMLResponse:
    """Every table the reader may open."""
    return render(request, "tables.html")
