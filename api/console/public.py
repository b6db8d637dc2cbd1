"""The public pages (公开信息): no token needed."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from api.console.pages import Viewer, render, router


@router.get("/public")
async def public_home(request: Request, reader: Viewer) -> HTMLResponse:
    """What anyone may read: disclosed goals and results, the blacklist, the latest signed checkpoint."""
    return render(request, "public.html")
