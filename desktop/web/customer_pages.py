"""The desk's customer search and customer page (data from ``/api/v1`` with the session)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from desktop.web.pages import staff_page

__all__ = ["routes"]


async def customers(request: Request) -> Response:
    return await staff_page(request, "customers.html", ("agent", "supervisor", "admin"))


routes = [
    Route("/desk/customers", customers),
    Route("/desk/customers/{customer_id}", customers),
]
