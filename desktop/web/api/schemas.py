"""The request bodies of the REST API (``/api/v1``): msgspec structs that both validate what
:mod:`desktop.web.api` receives and generate the OpenAPI document's schemas
(:mod:`desktop.web.api.openapi`), so the two cannot drift apart."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

__all__ = ["CustomerIn", "CustomerPatch", "IdentityIn", "EventIn", "MergeIn", "UnmergeIn", "OrderItem", "OrderIn",
           "ProductIn"]

LATEST = 4102444800.0  # 2100-01-01, the latest time accepted

Text = Annotated[str, msgspec.Meta(max_length=200)]
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Epoch = Annotated[float, msgspec.Meta(ge=0, le=LATEST)]
Cents = Annotated[int, msgspec.Meta(ge=0, le=10**14)]
Currency = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")]


class CustomerIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Text | None = None
    email: Text | None = None
    phone: Text | None = None
    user_id: Id | None = None


class CustomerPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Text | None = None
    email: Text | None = None
    phone: Text | None = None


class IdentityIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: Literal["phone", "email", "user_id"]
    value: Id
    verified: bool = False


class EventIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: Literal["note", "email", "inbound_call", "chat", "store_visit", "meeting"]
    at: Epoch | None = None
    channel: Annotated[str, msgspec.Meta(min_length=1, max_length=40)] | None = None
    summary: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    data: dict[str, Any] = {}


class MergeIn(msgspec.Struct, forbid_unknown_fields=True):
    source_id: Id
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""


class UnmergeIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""


class OrderItem(msgspec.Struct, forbid_unknown_fields=True):
    sku: Id
    quantity: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 1
    price_cents: Cents | None = None


class OrderIn(msgspec.Struct, forbid_unknown_fields=True):
    id: Id
    customer_id: Id
    placed_at: Epoch
    total_cents: Cents
    currency: Currency
    status: Literal["placed", "paid", "shipped", "delivered", "cancelled", "refunded"] = "placed"
    items: Annotated[list[OrderItem], msgspec.Meta(max_length=500)] = []


class ProductIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    price_cents: Cents
    currency: Currency
    category: Text = ""
