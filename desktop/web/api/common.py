"""What every ``/api/v1`` handler shares: who the caller is (an API key or a desk login) and what
they may do, the request's JSON body and parameters, and errors as JSON (see the package's
docstring for the rules)."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from desktop.auth.staff import BadCsrf, NotSignedIn, require_staff
from desktop.customers.phones import PhoneRejected, normalize_phone
from desktop.repository.apikeys import ALL_SITES, API_SCOPES
from desktop.repository.errors import Conflict, NotFound
from desktop.web.client import MAX_BODY, ApiError, error_response, json_body

__all__ = ["MAX_BODY", "MAX_LIMIT", "ApiError", "Caller", "check_visible", "checked_phone", "endpoint",
           "error_response", "json_body", "limit_param"]

MAX_LIMIT = 200


@dataclasses.dataclass(frozen=True)
class Caller:
    #: ``api:<key id>`` or ``agent:<agent id>``: what the audit records.
    actor: str
    #: ``api``, or the agent's role.
    role: str
    agent_id: str | None = None
    #: What the caller may do (an API key's scopes; every scope for the desk).
    scopes: tuple[str, ...] = API_SCOPES
    #: The only site whose customers the caller sees; None for every site.
    site: str | None = None

    def sees(self, customer) -> bool:
        return self.site is None or customer.site == self.site


async def _caller(request: Request) -> Caller:
    repo = request.app.state.repo
    authorization = request.headers.get("authorization", "")
    if authorization:
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise ApiError(401, "unauthorized", "use 'Authorization: Bearer <API key>'")
        record = await repo.check_api_key(key.strip())
        if record is None:
            raise ApiError(401, "unauthorized", "unknown or revoked API key")
        return Caller(actor=f"api:{record.id}", role="api", scopes=record.scopes,
                      site=None if record.site == ALL_SITES else record.site)
    try:
        session = await require_staff(request, csrf=request.method not in ("GET", "HEAD"))
    except NotSignedIn:
        raise ApiError(401, "unauthorized", "an API key (Authorization: Bearer) or a desk login is needed") from None
    except BadCsrf:
        raise ApiError(403, "csrf", "a desk request that changes something needs X-CSRF-Token") from None
    agent = session.agent
    return Caller(actor=f"agent:{agent.id}", role=agent.role, agent_id=agent.id)


def limit_param(request: Request) -> int:
    text = request.query_params.get("limit")
    if text is None:
        return 50
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise ApiError(422, "invalid", f"limit must be an integer from 1 to {MAX_LIMIT}")
    return int(text)


def checked_phone(request: Request, value: str | None) -> str | None:
    """``value`` in E.164 (the site's default region for a local number); ApiError 422 if it is no phone."""
    if not value:
        return None
    try:
        return normalize_phone(value, default_region=request.app.state.settings.default_region)
    except PhoneRejected as exc:
        raise ApiError(422, exc.code, f"phone: {exc}") from None


Handler = Callable[[Request, Caller], Awaitable[Response]]


def endpoint(handler: Handler, *, scope: str, admin: bool = False,
             all_sites: bool = False) -> Callable[[Request], Awaitable[Response]]:
    """Authenticate, check the caller may (``scope``; ``admin`` for desk users; ``all_sites``
    for what no one site owns) and sees the path's customer, run ``handler``, and turn every
    expected failure into a JSON 4xx."""

    async def run(request: Request) -> Response:
        try:
            for value in (request.url.path, *request.query_params.values(), *request.path_params.values()):
                if "\x00" in str(value):
                    raise ApiError(400, "bad_request", "NUL characters are not accepted")
            caller = await _caller(request)
            if admin and caller.role not in ("api", "admin"):
                raise ApiError(403, "forbidden", "only an admin (or an API key) may do this")
            if scope not in caller.scopes:
                raise ApiError(403, "forbidden", f"this API key lacks the {scope!r} scope "
                               f"(it has: {', '.join(caller.scopes) or 'none'})")
            if all_sites and caller.site is not None:
                raise ApiError(403, "forbidden", "this is shared by every site: use a key made "
                               "for every site (otodesk apikey create NAME)")
            if "customer_id" in request.path_params:
                await check_visible(request, caller, request.path_params["customer_id"])
            return await handler(request, caller)
        except ApiError as exc:
            return error_response(exc.status, exc.code, exc.message)
        except NotFound as exc:
            return error_response(404, "not_found", str(exc))
        except Conflict as exc:
            return error_response(409, "conflict", str(exc))
        except ValueError as exc:
            return error_response(422, "invalid", str(exc))

    return run


async def check_visible(request: Request, caller: Caller, customer_id: str) -> None:
    """NotFound unless the caller's site holds this customer (another site's are not there)."""
    if caller.site is None:
        return
    customer = await request.app.state.repo.resolve_customer(customer_id)
    if customer is None or not caller.sees(customer):
        raise NotFound(f"No customer with id {customer_id!r}")
