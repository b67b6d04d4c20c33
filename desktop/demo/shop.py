"""The demo shop: a few pages with the widget's script tag, to show the flows.

A customer browses products, fills a cart (kept in the browser's
localStorage by ``static/shop/shop.js``) and reaches a checkout whose payment
always "fails", the moment the seeds say customers give up, and so the moment
to click "Call me". Nothing here is stored on the server.

**Demo sign-in** (``/account``): a shopper may sign in as one of the demo
customers (no password: it is a demo). The shop then does what a real site
does for a logged-in customer: its server computes the identity HMAC with the
site's secret (``OTODESK_IDENTITY_SECRET``; ``otodesk demo`` makes one) and the
page calls ``otodesk.identify({id, name, email, phone, hmac})``. The widget then
links this browser to that customer (so a returning customer's visits meet on
one timeline, whichever browser) and shows "My data". Signing in is a signed
cookie naming the demo account; nothing else is kept.

Pages are rendered with ``request.app.state.templates`` (a Jinja2Templates).
``request.app.state.widget_src`` may point the script tag at another host;
it defaults to this app's ``/widget.js``. ``?locale=zh-TW`` on any page shows a site that
names its widget's language on the tag (``data-locale``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from desktop.customers.identity import user_hash
from desktop.demo.seed import DEMO_CUSTOMERS, DEMO_USER_IDS
from desktop.settings import WIDGET_LOCALES

__all__ = ["Product", "PRODUCTS", "ShopAccount", "SHOP_ACCOUNTS", "routes"]


@dataclasses.dataclass(frozen=True, slots=True)
class Product:
    slug: str
    name: str
    price: float
    category: str
    description: str
    #: A CSS gradient and a line icon stand in for product photos.
    art: str
    #: A name from static/common/icons.js (emoji show as empty boxes without a colour emoji font).
    icon: str


PRODUCTS: tuple[Product, ...] = (
    Product(
        slug="aurora-laptop-14", name="Aurora Laptop 14", price=1299.00, category="Laptops",
        description="A 1.2 kg laptop with a 14-inch matte screen, 16 GB of memory and a battery "
        "that lasts a working day and an evening.",
        art="linear-gradient(135deg, #6366f1, #22d3ee)", icon="laptop",
    ),
    Product(
        slug="nimbus-headphones", name="Nimbus Headphones", price=249.00, category="Audio",
        description="Over-ear headphones with active noise cancelling, 30 hours of battery and a "
        "microphone clear enough for calls from a train.",
        art="linear-gradient(135deg, #f472b6, #fb923c)", icon="headphones",
    ),
    Product(
        slug="pixel-pro-camera", name="Pixel Pro Camera", price=899.00, category="Cameras",
        description="A mirrorless camera with a 24 MP sensor, in-body stabilisation and a 24-70 mm "
        "kit lens. Weather sealed.",
        art="linear-gradient(135deg, #34d399, #3b82f6)", icon="camera",
    ),
    Product(
        slug="orbit-smartwatch", name="Orbit Smartwatch", price=329.00, category="Wearables",
        description="Heart rate, sleep and GPS tracking with a week of battery; answers calls from "
        "your wrist.",
        art="linear-gradient(135deg, #facc15, #f97316)", icon="watch",
    ),
    Product(
        slug="terra-home-hub", name="Terra Home Hub", price=149.00, category="Smart home",
        description="One hub for lights, heating and locks, with a speaker good enough for the "
        "kitchen radio.",
        art="linear-gradient(135deg, #a78bfa, #ec4899)", icon="home",
    ),
    Product(
        slug="swift-e-bike", name="Swift E-Bike", price=2190.00, category="Mobility",
        description="A city e-bike with a 90 km range, hydraulic brakes and a removable battery "
        "that charges in four hours.",
        art="linear-gradient(135deg, #4ade80, #14b8a6)", icon="bike",
    ),
    Product(
        slug="voyager-laptop-bag", name="Voyager Laptop Bag", price=89.00, category="Accessories",
        description="A padded bag for laptops up to 14 inches, with a pocket for the charger and a "
        "strap that slides over a suitcase handle.",
        art="linear-gradient(135deg, #94a3b8, #0ea5e9)", icon="bag",
    ),
)

_BY_SLUG = {product.slug: product for product in PRODUCTS}


@dataclasses.dataclass(frozen=True, slots=True)
class ShopAccount:
    """A demo shopper one can sign in as: the site's own user id and what the shop knows."""

    user_id: str
    name: str
    email: str
    phone: str


#: The demo customers (``desktop.demo.seed``), as the shop's accounts.
SHOP_ACCOUNTS: tuple[ShopAccount, ...] = tuple(
    ShopAccount(DEMO_USER_IDS[visitor_id], name, email, phone)
    for visitor_id, name, email, phone, _tier in DEMO_CUSTOMERS
)
_ACCOUNTS = {account.user_id: account for account in SHOP_ACCOUNTS}
ACCOUNT_COOKIE = "nova_account"
ACCOUNT_MAX_AGE = 30 * 24 * 3600  # seconds


def _account_signer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.settings.secret_key, salt="nova.shop.account")


def _signed_in(request: Request) -> ShopAccount | None:
    token = request.cookies.get(ACCOUNT_COOKIE)
    if not token:
        return None
    try:
        user_id = _account_signer(request).loads(token, max_age=ACCOUNT_MAX_AGE)
    except BadSignature:
        return None
    return _ACCOUNTS.get(user_id) if isinstance(user_id, str) else None


def _identify(request: Request, account: ShopAccount | None) -> dict[str, Any] | None:
    """What the page passes to ``otodesk.identify``: computed here, where the secret lives."""
    secret = request.app.state.settings.identity_secret
    if account is None or not secret:
        return None
    return {"id": account.user_id, "name": account.name, "email": account.email,
            "phone": account.phone, "hmac": user_hash(secret, account.user_id)}


def _render(request: Request, template: str, context: dict) -> Response:
    widget_src = getattr(request.app.state, "widget_src", None) or "/widget.js"
    account = _signed_in(request)
    locale = request.query_params.get("locale")
    return request.app.state.templates.TemplateResponse(
        request,
        f"shop/{template}",
        {"products": PRODUCTS, "widget_src": widget_src, "account": account,
         "widget_locale": locale if locale in WIDGET_LOCALES else None,
         "identify": _identify(request, account), **context},
    )


async def home(request: Request) -> Response:
    categories = sorted({product.category for product in PRODUCTS})
    return _render(request, "home.html", {"title": "Home", "categories": categories})


async def product(request: Request) -> Response:
    item = _BY_SLUG.get(request.path_params["slug"])
    if item is None:
        raise HTTPException(404, "No such product")
    related = [other for other in PRODUCTS if other.slug != item.slug][:3]
    return _render(request, "product.html", {"title": item.name, "product": item, "related": related})


async def cart(request: Request) -> Response:
    return _render(request, "cart.html", {"title": "Your cart"})


async def checkout(request: Request) -> Response:
    return _render(request, "checkout.html", {"title": "Checkout"})


async def plans(request: Request) -> Response:
    """Care plans: a table, a form, a web font, a shadow DOM component, an iframe, a canvas."""
    return _render(request, "plans.html", {"title": "Care plans"})


async def plans_delivery(request: Request) -> Response:
    """The same-origin page the care-plans page frames."""
    return request.app.state.templates.TemplateResponse(request, "shop/plans_delivery.html", {})


async def account(request: Request) -> Response:
    return _render(request, "account.html", {
        "title": "Your account", "accounts": SHOP_ACCOUNTS,
        "verifying": bool(request.app.state.settings.identity_secret),
        "erased": "erased" in request.query_params,
    })


def _same_origin(request: Request) -> bool:
    # A form posted from another site must not sign this browser in (login CSRF).
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.url.netloc}"


async def sign_in(request: Request) -> Response:
    if not _same_origin(request):
        raise HTTPException(403, "Sign in from this shop's own page")
    form = await request.form()
    chosen = _ACCOUNTS.get(str(form.get("user_id", "")))
    if chosen is None:
        raise HTTPException(400, "No such demo account")
    response = RedirectResponse("/account", status_code=303)
    response.set_cookie(ACCOUNT_COOKIE, _account_signer(request).dumps(chosen.user_id),
                        max_age=ACCOUNT_MAX_AGE, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https")
    return response


async def sign_out(request: Request) -> Response:
    if not _same_origin(request):
        raise HTTPException(403, "Sign out from this shop's own page")
    response = RedirectResponse("/account?signed_out=1", status_code=303)
    response.delete_cookie(ACCOUNT_COOKIE)
    return response


routes = [
    Route("/", home, name="shop_home"),
    Route("/account", account, name="shop_account"),
    Route("/account/sign-in", sign_in, methods=["POST"], name="shop_sign_in"),
    Route("/account/sign-out", sign_out, methods=["POST"], name="shop_sign_out"),
    Route("/product/{slug}", product, name="shop_product"),
    Route("/cart", cart, name="shop_cart"),
    Route("/checkout", checkout, name="shop_checkout"),
    Route("/plans", plans, name="shop_plans"),
    Route("/plans/delivery", plans_delivery, name="shop_plans_delivery"),
]
