"""Staff sign-in through the company's OpenID Connect provider (authlib as the client).

``/login/sso`` sends the browser to the provider with the authorization-code flow, PKCE
(S256), a ``state`` and a ``nonce`` kept in a signed cookie good for ten minutes;
``/login/sso/callback`` exchanges the code, checks the ID token with joserfc (signature
against the provider's published keys, issuer, audience, expiry, nonce) and opens a staff session exactly
as a password sign-in does. The person's role comes from their groups (``OTODESK_OIDC_ROLES``:
``group=role`` pairs; someone in none of them is refused) and their skills from a claim, both
applied again at every sign-in, so the directory stays the source of truth. Local passwords
remain as a fallback.
"""

from __future__ import annotations

import logging
import secrets
import time
import warnings
from urllib.parse import urlencode

import httpx
import authlib.deprecate  # noqa: F401  (it installs an "always" filter on import; ours must come after)
from authlib.common.security import generate_token

with warnings.catch_warnings():
    # authlib 1.x warns at import that it will move to httpx2 in 2.0; the client is unchanged.
    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from desktop.auth.agents import takes_calls
from desktop.auth.staff import sign_in
from desktop.auth.tokens import SESSION_COOKIE
from desktop.repository.errors import DuplicateUser

__all__ = ["routes", "SsoConfig", "role_from_groups", "SSO_ERRORS"]

log = logging.getLogger(__name__)

FLOW_COOKIE = "otodesk_sso"
FLOW_MAX_AGE = 600  # seconds from leaving for the provider to coming back
METADATA_MAX_AGE = 3600  # seconds the provider's configuration and keys are kept
#: From least to most: a person in several mapped groups gets the most.
ROLE_ORDER = ("agent", "planner", "supervisor", "admin")
ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]


def role_from_groups(groups, mapping: dict[str, str]) -> str | None:
    """The highest role any of the person's groups maps to, or None."""
    roles = {mapping[group] for group in groups or () if isinstance(group, str) and group in mapping}
    ranked = [role for role in ROLE_ORDER if role in roles]
    return ranked[-1] if ranked else None


class SsoConfig:
    """The provider's published configuration and keys, fetched on first need and kept an hour."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer.rstrip("/")
        self._metadata: dict | None = None
        self._keys = None
        self._fetched_at = 0.0

    async def load(self) -> tuple[dict, object]:
        if self._metadata is None or time.monotonic() - self._fetched_at > METADATA_MAX_AGE:
            async with httpx.AsyncClient(timeout=10) as http:
                metadata = (await http.get(f"{self.issuer}/.well-known/openid-configuration")).raise_for_status().json()
                keys = (await http.get(metadata["jwks_uri"])).raise_for_status().json()
            if metadata.get("issuer", "").rstrip("/") != self.issuer:
                raise ValueError(f"the provider says its issuer is {metadata.get('issuer')!r}, not {self.issuer!r}")
            self._metadata, self._keys = metadata, KeySet.import_key_set(keys)
            self._fetched_at = time.monotonic()
        return self._metadata, self._keys


def _flows(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.settings.secret_key, salt="otodesk-sso-flow")


def _callback_url(request: Request) -> str:
    settings = request.app.state.settings
    base = settings.public_origins[0] if settings.public_origins else str(request.base_url).rstrip("/")
    return f"{base}/login/sso/callback"


def _client(request: Request) -> AsyncOAuth2Client:
    settings = request.app.state.settings
    return AsyncOAuth2Client(settings.oidc_client_id, settings.oidc_client_secret, scope="openid profile email",
                             redirect_uri=_callback_url(request), code_challenge_method="S256", timeout=10)


#: What the sign-in page says for each way SSO can fail (a code in the URL, never free text:
#: a crafted link must not put words of its choosing on our page).
SSO_ERRORS = {
    "unreachable": "The company sign-in is unreachable right now; sign in with your password.",
    "expired": "This sign-in link expired or was not started here; try again.",
    "refused": "The company sign-in refused; try again.",
    "disabled": "This account is disabled; ask an administrator.",
    "failed": "The company sign-in could not be completed; try again.",
    "no_role": "Your company account has no access to otodesk; ask your administrator.",
    "taken": "A local account already has your username; ask your administrator.",
}


def _back_to_login(code: str) -> Response:
    return RedirectResponse("/login?" + urlencode({"sso_error": code}), status_code=303)


def _not_configured() -> Response:
    return Response("single sign-on is not configured", status_code=404, media_type="text/plain")


async def start(request: Request) -> Response:
    state = request.app.state
    if state.sso is None:
        return _not_configured()
    try:
        metadata, _keys = await state.sso.load()
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        log.warning("sso: the provider's configuration could not be read: %s", exc)
        return _back_to_login("unreachable")
    flow = {"state": generate_token(32), "nonce": generate_token(32), "verifier": generate_token(64)}
    async with _client(request) as client:
        url, _ = client.create_authorization_url(metadata["authorization_endpoint"], state=flow["state"],
                                                 nonce=flow["nonce"], code_verifier=flow["verifier"])
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(FLOW_COOKIE, _flows(request).dumps(flow), max_age=FLOW_MAX_AGE, httponly=True,
                        samesite="lax", secure=request.url.scheme == "https", path="/login/sso")
    return response


async def callback(request: Request) -> Response:
    state = request.app.state
    if state.sso is None:
        return _not_configured()
    try:
        flow = _flows(request).loads(request.cookies.get(FLOW_COOKIE, ""), max_age=FLOW_MAX_AGE)
    except BadSignature:
        return _back_to_login("expired")
    params = request.query_params
    if "error" in params:
        log.info("sso: the provider refused: %s", params.get("error_description") or params["error"])
        return _back_to_login("refused")
    if not secrets.compare_digest(params.get("state", ""), flow["state"]):
        return _back_to_login("expired")
    settings = state.settings
    try:
        metadata, keys = await state.sso.load()
        async with _client(request) as client:
            token = await client.fetch_token(metadata["token_endpoint"], code=params.get("code", ""),
                                             code_verifier=flow["verifier"])
        claims = jwt.decode(token["id_token"], keys, algorithms=ID_TOKEN_ALGORITHMS).claims
        jwt.JWTClaimsRegistry(leeway=60, iss={"essential": True, "value": metadata["issuer"]},
                              aud={"essential": True, "value": settings.oidc_client_id},
                              sub={"essential": True}, exp={"essential": True},
                              nonce={"essential": True, "value": flow["nonce"]}).validate(claims)
    except (httpx.HTTPError, JoseError, KeyError, ValueError) as exc:
        log.warning("sso: sign-in failed: %s", exc)
        return _back_to_login("failed")

    role = role_from_groups(claims.get(settings.oidc_groups_claim), settings.oidc_roles)
    username = str(claims.get("preferred_username") or claims.get("email") or claims["sub"])[:100]
    if role is None:
        log.info("sso: %s has no otodesk role in their groups", username)
        return _back_to_login("no_role")
    skills = [s for s in claims.get(settings.oidc_skills_claim) or () if isinstance(s, str)][:50]
    try:
        agent = await state.repo.sign_in_by_sso(username, f"{metadata['issuer']}#{claims['sub']}",
                                                display_name=str(claims.get("name") or username)[:200],
                                                role=role, skills=skills)
    except DuplicateUser:
        return _back_to_login("taken")
    if agent.disabled_at is not None:  # an admin disabled this account: the provider's word is not enough
        return _back_to_login("disabled")
    response = RedirectResponse("/desk" if takes_calls(agent) else "/supervisor", status_code=303)
    response.set_cookie(SESSION_COOKIE, await sign_in(request, agent.id), max_age=int(settings.session_max_age),
                        httponly=True, samesite="lax", secure=request.url.scheme == "https")
    response.delete_cookie(FLOW_COOKIE, path="/login/sso")
    return response


routes = [Route("/login/sso", start), Route("/login/sso/callback", callback)]
