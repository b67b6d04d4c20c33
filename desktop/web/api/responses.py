"""The JSON shapes ``/api/v1`` answers with, built from repository records (their schemas are
written out in :mod:`desktop.web.api.openapi`)."""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["customer_json", "identity_json", "merge_json", "order_json", "page_json", "product_json"]


def customer_json(customer) -> dict[str, Any]:
    return {"id": customer.id, "name": customer.name, "email": customer.email,
            "phone": customer.phone, "tier": customer.tier, "created_at": customer.created_at,
            "updated_at": customer.updated_at}


def identity_json(identity) -> dict[str, Any]:
    return {"id": identity.id, "customer_id": identity.customer_id, "kind": identity.kind,
            "value": identity.value, "verified": identity.verified, "source": identity.source,
            "created_at": identity.created_at}


def merge_json(merge) -> dict[str, Any]:
    return dataclasses.asdict(merge)


def order_json(order) -> dict[str, Any]:
    return dataclasses.asdict(order)


def product_json(product) -> dict[str, Any]:
    return dataclasses.asdict(product)


def page_json(items: list[dict[str, Any]], next_cursor: str | None) -> dict[str, Any]:
    return {"items": items, "next_cursor": next_cursor}
