"""The demo shop: a few pages with the widget's script tag, to show the flows.

A customer browses products, fills a cart (kept in the browser's
localStorage by ``static/shop/shop.js``) and reaches a checkout whose payment
always "fails", the moment the seeds say customers give up, and so the moment
to click "Call me". Nothing here is stored on the server.

Pages are rendered with ``request.app.state.templates`` (a Jinja2Templates).
``request.app.state.widget_src`` may point the script tag at another host;
it defaults to this app's ``/widget.js``.
"""

from __future__ import annotations

import dataclasses

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

__all__ = ["Product", "PRODUCTS", "routes"]


@dataclasses.dataclass(frozen=True, slots=True)
class Product:
    slug: str
    name: str
    price: float
    category: str
    description: str
    #: A CSS gradient and an emoji stand in for product photos.
    art: str
    emoji: str


PRODUCTS: tuple[Product, ...] = (
    Product(
        slug="aurora-laptop-14", name="Aurora Laptop 14", price=1299.00, category="Laptops",
        description="A 1.2 kg laptop with a 14-inch matte screen, 16 GB of memory and a battery "
        "that lasts a working day and an evening.",
        art="linear-gradient(135deg, #6366f1, #22d3ee)", emoji="💻",
    ),
    Product(
        slug="nimbus-headphones", name="Nimbus Headphones", price=249.00, category="Audio",
        description="Over-ear headphones with active noise cancelling, 30 hours of battery and a "
        "microphone clear enough for calls from a train.",
        art="linear-gradient(135deg, #f472b6, #fb923c)", emoji="🎧",
    ),
    Product(
        slug="pixel-pro-camera", name="Pixel Pro Camera", price=899.00, category="Cameras",
        description="A mirrorless camera with a 24 MP sensor, in-body stabilisation and a 24-70 mm "
        "kit lens. Weather sealed.",
        art="linear-gradient(135deg, #34d399, #3b82f6)", emoji="📷",
    ),
    Product(
        slug="orbit-smartwatch", name="Orbit Smartwatch", price=329.00, category="Wearables",
        description="Heart rate, sleep and GPS tracking with a week of battery; answers calls from "
        "your wrist.",
        art="linear-gradient(135deg, #facc15, #f97316)", emoji="⌚",
    ),
    Product(
        slug="terra-home-hub", name="Terra Home Hub", price=149.00, category="Smart home",
        description="One hub for lights, heating and locks, with a speaker good enough for the "
        "kitchen radio.",
        art="linear-gradient(135deg, #a78bfa, #ec4899)", emoji="🏠",
    ),
    Product(
        slug="swift-e-bike", name="Swift E-Bike", price=2190.00, category="Mobility",
        description="A city e-bike with a 90 km range, hydraulic brakes and a removable battery "
        "that charges in four hours.",
        art="linear-gradient(135deg, #4ade80, #14b8a6)", emoji="🚲",
    ),
)

_BY_SLUG = {product.slug: product for product in PRODUCTS}


def _render(request: Request, template: str, context: dict) -> Response:
    widget_src = getattr(request.app.state, "widget_src", None) or "/widget.js"
    return request.app.state.templates.TemplateResponse(
        request,
        f"shop/{template}",
        {"products": PRODUCTS, "widget_src": widget_src, **context},
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


routes = [
    Route("/", home, name="shop_home"),
    Route("/product/{slug}", product, name="shop_product"),
    Route("/cart", cart, name="shop_cart"),
    Route("/checkout", checkout, name="shop_checkout"),
]
