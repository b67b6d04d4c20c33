"""CSV import of the site's customers, orders and products: all rows or none.

Every row is checked first (then against the database, inside the one write
transaction); if any row is bad, :class:`ImportFailed` lists each bad row
with its line number and nothing is written. Columns (a header row first):

customers
    ``user_id`` (the site's id, required), ``name``, ``email``, ``phone``.
    An existing ``user_id`` updates that customer; e-mail and phone become
    unverified identities.
orders
    ``order_id``, ``user_id``, ``placed_at`` (ISO 8601 or epoch seconds),
    ``total`` (major units, ``12.50``), ``currency`` (ISO 4217), optional
    ``status`` and ``items`` (``sku:quantity;sku:quantity``). The customer must
    exist (imported or identified); each customer's tier is refreshed.
products
    ``sku``, ``name``, ``price``, ``currency``, optional ``category``.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import io
import re
import time
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from desktop.customers.phones import PhoneRejected, normalize_phone
from desktop.repository._store import CUSTOMERS, ORDERS, Store
from desktop.repository.commerce import ORDER_STATUSES, insert_order, refresh_tier, write_product
from desktop.repository.errors import RepositoryError
from desktop.repository.identities import (
    USER_ID,
    canonical_id,
    check_identity,
    insert_customer,
    record_hints,
    verified_holder,
)

__all__ = ["Imports", "ImportFailed", "RowError", "KINDS", "MAX_ROWS"]

KINDS = ("customers", "orders", "products")
MAX_ROWS = 100_000
_CURRENCY = re.compile(r"[A-Z]{3}")
_COLUMNS = {
    "customers": ({"user_id"}, {"name", "email", "phone"}),
    "orders": ({"order_id", "user_id", "placed_at", "total", "currency"}, {"status", "items"}),
    "products": ({"sku", "name", "price", "currency"}, {"category"}),
}


@dataclasses.dataclass(frozen=True)
class RowError:
    #: 1-based line in the file (the header is line 1).
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ImportFailed(RepositoryError, ValueError):
    """Nothing was imported; ``errors`` says which rows are wrong and why."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        shown = "; ".join(str(e) for e in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"{len(errors)} bad row(s), nothing imported: {shown}{more}")


class Imports(Store):
    async def import_csv(self, kind: str, text: str, *, default_region: str = "US",
                         now: float | None = None) -> int:
        """Import ``text`` (CSV with a header) as ``kind``; return the rows written.

        Raises :class:`ImportFailed` (nothing written) or ``ValueError`` for an unknown kind.
        """
        if kind not in KINDS:
            raise ValueError(f"Unknown import {kind!r}; expected one of {', '.join(KINDS)}")
        rows = _parse(kind, text, default_region)
        now = time.time() if now is None else now
        return await self._db.write(_write, kind, rows, now)


def _parse(kind: str, text: str, region: str) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    required, optional = _COLUMNS[kind]
    header = {(name or "").strip() for name in (reader.fieldnames or [])}
    missing, unknown = required - header, header - required - optional
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(sorted(missing))}")
        if unknown:
            parts.append(f"unknown column(s) {', '.join(sorted(unknown))}")
        raise ImportFailed([RowError(1, "; ".join(parts))])
    parsed, errors = [], []
    for number, raw in enumerate(reader, start=2):
        if number > MAX_ROWS + 1:
            errors.append(RowError(number, f"more than {MAX_ROWS} rows; split the file"))
            break
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        if None in raw:
            errors.append(RowError(number, "more fields than columns"))
            continue
        try:
            parsed.append((number, _check(kind, row, region)))
        except ValueError as error:
            errors.append(RowError(number, str(error)))
    if errors:
        raise ImportFailed(errors)
    return parsed


def _money(text: str, column: str) -> int:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{column} {text!r} is not an amount like 12.50") from None
    if not value.is_finite() or value < 0 or value > Decimal("1e12") or value != value.quantize(Decimal("0.01")):
        raise ValueError(f"{column} {text!r} must be between 0 and 10^12 with at most 2 decimals")
    return int(value * 100)


def _time(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        try:
            moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"placed_at {text!r} is neither ISO 8601 nor epoch seconds") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.timezone.utc)
        value = moment.timestamp()
    if not 0 <= value < 4102444800:  # 2100-01-01
        raise ValueError(f"placed_at {text!r} is out of range")
    return value


def _text(row: dict[str, str], column: str, *, required: bool = True, limit: int = 200) -> str | None:
    value = row.get(column) or ""
    if "\x00" in value:
        raise ValueError(f"{column} contains a NUL character")
    if len(value) > limit:
        raise ValueError(f"{column} is longer than {limit} characters")
    if not value:
        if required:
            raise ValueError(f"{column} is empty")
        return None
    return value


def _check(kind: str, row: dict[str, str], region: str) -> dict[str, Any]:
    if kind == "customers":
        out: dict[str, Any] = {"user_id": _text(row, "user_id"), "name": _text(row, "name", required=False)}
        email = _text(row, "email", required=False)
        out["email"] = check_identity("email", email) if email else None
        phone = _text(row, "phone", required=False)
        try:
            out["phone"] = normalize_phone(phone, default_region=region) if phone else None
        except PhoneRejected as error:
            raise ValueError(f"phone {phone!r}: {error}") from None
        return out
    if kind == "orders":
        currency = _text(row, "currency").upper()
        if not _CURRENCY.fullmatch(currency):
            raise ValueError(f"currency {currency!r} is not a 3-letter ISO 4217 code")
        status = (_text(row, "status", required=False) or "placed").lower()
        if status not in ORDER_STATUSES:
            raise ValueError(f"status {status!r} is not one of {', '.join(ORDER_STATUSES)}")
        items = []
        for part in filter(None, (p.strip() for p in (_text(row, "items", required=False, limit=5000) or "").split(";"))):
            sku, _, quantity = part.partition(":")
            if not sku.strip() or not quantity.strip().isdigit() or int(quantity) < 1:
                raise ValueError(f"item {part!r} is not sku:quantity")
            items.append({"sku": sku.strip(), "quantity": int(quantity)})
        return {"id": _text(row, "order_id"), "user_id": _text(row, "user_id"),
                "placed_at": _time(_text(row, "placed_at")), "total_cents": _money(_text(row, "total"), "total"),
                "currency": currency, "status": status, "items": items}
    currency = _text(row, "currency").upper()
    if not _CURRENCY.fullmatch(currency):
        raise ValueError(f"currency {currency!r} is not a 3-letter ISO 4217 code")
    return {"sku": _text(row, "sku"), "name": _text(row, "name"),
            "price_cents": _money(_text(row, "price"), "price"), "currency": currency,
            "category": _text(row, "category", required=False) or ""}


def _write(conn: Connection, kind: str, rows: list[tuple[int, dict[str, Any]]], now: float) -> int:
    errors: list[RowError] = []
    if kind == "customers":
        seen: dict[str, int] = {}
        for line, row in rows:
            if row["user_id"] in seen:
                errors.append(RowError(line, f"user_id {row['user_id']!r} repeats line {seen[row['user_id']]}"))
                continue
            seen[row["user_id"]] = line
            holder = verified_holder(conn, USER_ID, row["user_id"])
            if holder is None:
                insert_customer(conn, row["name"], row["email"], row["phone"], row["user_id"], "import", now)
                continue
            head = canonical_id(conn, holder)
            given = {k: row[k] for k in ("name", "email", "phone") if row[k]}
            if given:
                conn.execute(update(CUSTOMERS).where(CUSTOMERS.c.id == head).values(**given, updated_at=now))
            record_hints(conn, head, email=row["email"], phone=row["phone"], source="import", now=now)
    elif kind == "orders":
        touched: set[str] = set()
        seen = {}
        for line, row in rows:
            holder = verified_holder(conn, USER_ID, row.pop("user_id"))
            if row["id"] in seen:
                errors.append(RowError(line, f"order_id {row['id']!r} repeats line {seen[row['id']]}"))
                continue
            seen[row["id"]] = line
            if holder is None:
                errors.append(RowError(line, "no customer has this user_id; import the customers first"))
                continue
            if conn.execute(select(ORDERS.c.id).where(ORDERS.c.id == row["id"])).first() is not None:
                errors.append(RowError(line, f"order_id {row['id']!r} is already imported"))
                continue
            if errors:
                continue  # the transaction is lost anyway: only look for more errors
            insert_order(conn, {**row, "customer_id": holder}, now, refresh=False)
            touched.add(holder)
        if not errors:
            for customer_id in touched:
                refresh_tier(conn, customer_id, now)
    else:
        seen = {}
        for line, row in rows:
            if row["sku"] in seen:
                errors.append(RowError(line, f"sku {row['sku']!r} repeats line {seen[row['sku']]}"))
                continue
            seen[row["sku"]] = line
            write_product(conn, row, now)
    if errors:
        raise ImportFailed(errors)  # rolls the whole transaction back
    return len(rows)
