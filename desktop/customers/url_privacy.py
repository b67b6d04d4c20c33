"""Page URLs as agents may see them: query parameters that carry what a customer typed.

A shop's search box puts the words in the URL (``/search?q=divorce+lawyer``), a sign-up
link the email (``?email=…``), a reset link a token. Those URLs reach the agent in the
browsing trail (stored) and in the co-browse mirror. The site chooses (``OTODESK_URL_QUERY``):

- ``mask`` (default): the values of the listed parameters become ``***``
  (``OTODESK_URL_PRIVATE_PARAMS``, known names by default; names compare case-insensitively);
- ``strip``: the whole query string goes;
- ``keep``: URLs are shown as they are.

The widget applies the same rule to the mirror (``maskUrl`` in static/widget/privacy.js,
tests/js/privacy.test.mjs). Pure functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import unquote_plus

__all__ = ["KNOWN_PRIVATE_PARAMS", "URL_QUERY_MODES", "private_url"]

URL_QUERY_MODES = ("mask", "strip", "keep")

#: Parameters that usually hold a search, a person's details or a secret.
KNOWN_PRIVATE_PARAMS = (
    "q", "query", "search", "s", "k", "keyword", "keywords", "term", "terms", "text", "search_query",
    "email", "mail", "phone", "tel", "mobile", "name", "firstname", "lastname", "first_name",
    "last_name", "address", "zip", "postcode", "postal_code", "dob", "birthdate",
    "token", "access_token", "id_token", "refresh_token", "auth", "code", "key", "api_key", "apikey",
    "password", "pass", "pwd", "secret", "session", "sessionid", "sid", "ssn", "card", "cc", "iban",
)

MASK = "***"


def private_url(url: str, *, query: str = "mask", params: Iterable[str] = KNOWN_PRIVATE_PARAMS) -> str:
    """``url`` with its query masked or stripped as ``query`` (a URL_QUERY_MODES) says.

    Everything else is left byte for byte (no re-encoding); the fragment too.
    """
    if query == "keep" or "?" not in url:
        return url
    head, _, rest = url.partition("?")
    search, hash_mark, fragment = rest.partition("#")
    if query == "strip":
        return head + hash_mark + fragment
    names = {name.lower() for name in params}
    masked = []
    for pair in search.split("&"):
        name, equals, value = pair.partition("=")
        if equals and value and unquote_plus(name).strip().lower() in names:
            pair = f"{name}={MASK}"
        masked.append(pair)
    return f"{head}?{'&'.join(masked)}{hash_mark}{fragment}"
