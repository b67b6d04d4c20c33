"""One customer, many identities: verified links, merges and unmerges, search.

A merge never moves a row: the merged customer gets ``merged_into`` set and
its visitors, callbacks, timeline and identities are read as part of the
target's record (its *group*) until an unmerge clears it. Every merge and
unmerge writes a :class:`~desktop.repository.models.CustomerMerge` audit row.

Only *verified* identities link records: a site's HMAC-signed user id
(``identify``), the API, an agent. What a visitor merely claims (a name, an
e-mail, a phone) is stored as an unverified hint, shown and searchable, and
never merges anything.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy import func, literal, or_, select, union_all, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from desktop.repository import _rows, timeline_queries
from desktop.repository._store import (
    CUSTOMERS,
    IDENTITIES,
    MERGES,
    VISITORS,
    Store,
    upsert,
)
from desktop.repository.errors import Conflict, NotFound
from desktop.repository.outbox import emit
from desktop.repository.records import (
    IDENTITY_KINDS,
    CustomerRecord,
    IdentityRecord,
    MergeRecord,
    check_phone,
)

__all__ = ["Identities", "canonical_id", "head_customer", "group_ids", "check_identity", "record_hints", "USER_ID",
           "insert_customer", "verified_holder"]

USER_ID = "user_id"
#: A merge chain longer than this is a bug (a cycle), not data.
MAX_MERGE_DEPTH = 64
SEARCH_LIMIT = 20


def check_identity(kind: str, value: str) -> str:
    """``value`` as stored for ``kind`` (e-mails lower-cased), or ``ValueError``."""
    if kind not in IDENTITY_KINDS:
        raise ValueError(f"Unknown identity kind {kind!r}; expected one of {', '.join(IDENTITY_KINDS)}")
    value = value.strip()
    if not value or len(value) > 200:
        raise ValueError(f"An identity's value must have 1 to 200 characters, not {len(value)}")
    if kind == "phone":
        check_phone(value)
    elif kind == "email":
        value = value.lower()
        local, _, domain = value.partition("@")
        if not local or "." not in domain or " " in value:
            raise ValueError(f"{value!r} is not an e-mail address")
    return value


class Identities(Store):
    """Identities, verified linking, merge and unmerge, customer search."""

    async def create_customer(
        self, *, name: str | None = None, email: str | None = None, phone: str | None = None,
        user_id: str | None = None, source: str = "api", site: str = "default", now: float | None = None,
    ) -> CustomerRecord:
        """A new customer of ``site``; ``user_id`` (the site's id) becomes a verified identity.

        Raises :class:`Conflict` if ``user_id`` already belongs to a customer.
        """
        now = time.time() if now is None else now
        return await self._db.write(insert_customer, name, email, phone, user_id, source, now, site)

    async def resolve_customer(self, customer_id: str) -> CustomerRecord | None:
        """The customer whose record ``customer_id`` is part of (itself unless merged)."""
        return await self._db.read_fast(_resolved, customer_id)

    async def identities(self, customer_id: str) -> list[IdentityRecord]:
        """Every identity of the customer's group, visitors included, oldest first."""
        return await self._db.read(_identities, customer_id)

    async def add_identity(
        self, customer_id: str, kind: str, value: str, *, verified: bool, source: str,
        now: float | None = None,
    ) -> IdentityRecord:
        """Attach an identity to the customer (idempotent); return it.

        A verified identity another customer already holds raises
        :class:`Conflict` (merge the two instead). Unknown customer: :class:`NotFound`.
        """
        value = check_identity(kind, value)
        now = time.time() if now is None else now
        return await self._db.write(_add_identity, customer_id, kind, value, verified, source, now)

    async def record_identity_hints(
        self, customer_id: str, *, email: str | None, phone: str | None, source: str = "identify",
        now: float | None = None,
    ) -> None:
        """What a visitor claims, kept as unverified identities; bad values are skipped."""
        now = time.time() if now is None else now
        await self._db.write(record_hints, customer_id, email=email, phone=phone, source=source, now=now)

    async def remove_identity(self, customer_id: str, identity_id: int) -> None:
        """Detach one identity of the customer's group. Raises :class:`NotFound`."""
        await self._db.write(_remove_identity, customer_id, identity_id)

    async def link_verified_user(
        self, visitor_id: str, user_id: str, *, now: float | None = None
    ) -> CustomerRecord:
        """The site vouched (HMAC checked by the caller) that this visitor is ``user_id``.

        The visitor joins the customer holding that verified id; an anonymous
        customer the visitor had is merged into it (audited as ``identify:hmac``).
        A visitor whose customer holds a *different* verified id (a shared
        computer) only moves: nothing is merged. With no holder yet, the
        visitor's customer takes the id. Returns the customer now in charge.
        """
        value = check_identity(USER_ID, user_id)
        now = time.time() if now is None else now
        try:
            return await self._db.write(_link_verified_user, visitor_id, value, now)
        except IntegrityError:
            # Another browser of the same user took the id between our look-up and
            # insert (PostgreSQL; SQLite writes one at a time): now it has a holder.
            return await self._db.write(_link_verified_user, visitor_id, value, now)

    async def merge_customers(
        self, source_id: str, target_id: str, *, actor: str, reason: str = "",
        now: float | None = None,
    ) -> MergeRecord:
        """Read ``source_id``'s record as part of ``target_id``'s from now on (audited).

        Both are resolved to their groups' heads first. Raises :class:`NotFound`
        for an unknown customer and :class:`Conflict` when they are already one.
        """
        now = time.time() if now is None else now
        return await self._db.write(_merge, source_id, target_id, actor, reason[:500], now)

    async def unmerge_customer(
        self, source_id: str, *, actor: str, reason: str = "", now: float | None = None
    ) -> MergeRecord:
        """Undo the merge of ``source_id`` (audited). Raises :class:`Conflict` if not merged."""
        now = time.time() if now is None else now
        return await self._db.write(_unmerge, source_id, actor, reason[:500], now)

    async def merge_history(self, customer_id: str) -> list[MergeRecord]:
        """The audit rows naming the customer or its group, oldest first."""
        return await self._db.read(_merge_history, customer_id)

    async def list_customers(self, *, limit: int = 50, after: str | None = None,
                             site: str | None = None) -> list[CustomerRecord]:
        """Customers that are not merged into another, by id, after the id ``after``
        (only those of ``site`` when given)."""
        statement = select(CUSTOMERS).where(CUSTOMERS.c.merged_into.is_(None)) \
            .order_by(CUSTOMERS.c.id).limit(limit)
        if after is not None:
            statement = statement.where(CUSTOMERS.c.id > after)
        if site is not None:
            statement = statement.where(CUSTOMERS.c.site == site)
        rows = await self._db.read(lambda conn: conn.execute(statement).all())
        return [_rows.customer(row) for row in rows]

    async def search_customers(
        self, query: str, *, default_region: str = "US", limit: int = SEARCH_LIMIT
    ) -> list[CustomerRecord]:
        """Customers matching a name (part of), a phone in any format, an e-mail or an id.

        Merged customers come back as the head of their group; at most ``limit``.
        """
        return await self._db.read_fast(_search, query.strip()[:200], default_region, limit)


# -- groups -------------------------------------------------------------------


def canonical_id(conn: Connection, customer_id: str) -> str | None:
    """The head of the group ``customer_id`` belongs to, or None if it does not exist."""
    current = customer_id
    for _ in range(MAX_MERGE_DEPTH):
        row = conn.execute(
            select(CUSTOMERS.c.merged_into).where(CUSTOMERS.c.id == current)
        ).first()
        if row is None:
            return None
        if row.merged_into is None:
            return current
        current = row.merged_into
    raise RuntimeError(f"Merge chain from customer {customer_id!r} is longer than {MAX_MERGE_DEPTH}")


def head_customer(conn: Connection, customer_id: str) -> CustomerRecord | None:
    """The head of the group as a record (one query unless merged), or None if unknown."""
    current = customer_id
    for _ in range(MAX_MERGE_DEPTH):
        row = conn.execute(select(CUSTOMERS).where(CUSTOMERS.c.id == current)).first()
        if row is None:
            return None
        if row.merged_into is None:
            return _rows.customer(row)
        current = row.merged_into
    raise RuntimeError(f"Merge chain from customer {customer_id!r} is longer than {MAX_MERGE_DEPTH}")


def group_ids(conn: Connection, head_id: str) -> list[str]:
    """``head_id`` and every customer merged into it, directly or not."""
    ids, frontier = [head_id], [head_id]
    for _ in range(MAX_MERGE_DEPTH):
        frontier = list(conn.execute(
            select(CUSTOMERS.c.id).where(CUSTOMERS.c.merged_into.in_(frontier))
        ).scalars())
        if not frontier:
            return ids
        ids.extend(frontier)
    raise RuntimeError(f"Merge tree under customer {head_id!r} is deeper than {MAX_MERGE_DEPTH}")


def _head(conn: Connection, customer_id: str) -> str:
    head = canonical_id(conn, customer_id)
    if head is None:
        raise NotFound(f"No customer with id {customer_id!r}")
    return head


def _customer(conn: Connection, customer_id: str) -> CustomerRecord:
    return _rows.customer(conn.execute(select(CUSTOMERS).where(CUSTOMERS.c.id == customer_id)).one())


def _resolved(conn: Connection, customer_id: str) -> CustomerRecord | None:
    return head_customer(conn, customer_id)


# -- queries --------------------------------------------------------------------


def _identity(row: Any) -> IdentityRecord:
    m = row._mapping
    return IdentityRecord(id=m["id"], customer_id=m["customer_id"], kind=m["kind"],
                          value=m["value"], verified=bool(m["verified"]), source=m["source"],
                          created_at=m["created_at"])


def _insert_identity(conn: Connection, customer_id: str, kind: str, value: str, verified: bool,
                     source: str, now: float) -> None:
    conn.execute(upsert(conn, IDENTITIES).values(
        customer_id=customer_id, kind=kind, value=value, verified=verified, source=source,
        created_at=now,
    ).on_conflict_do_nothing(index_elements=["customer_id", "kind", "value"]))
    if verified:
        conn.execute(update(IDENTITIES).where(
            IDENTITIES.c.customer_id == customer_id, IDENTITIES.c.kind == kind,
            IDENTITIES.c.value == value,
        ).values(verified=True))


def verified_holder(conn: Connection, kind: str, value: str) -> str | None:
    """The customer holding this verified identity, or None."""
    return conn.execute(select(IDENTITIES.c.customer_id).where(
        IDENTITIES.c.kind == kind, IDENTITIES.c.value == value, IDENTITIES.c.verified.is_(True),
    )).scalar()


def insert_customer(conn: Connection, name: str | None, email: str | None, phone: str | None,
                     user_id: str | None, source: str, now: float, site: str = "default") -> CustomerRecord:
    check_phone(phone)
    if email is not None:
        email = check_identity("email", email)
    if user_id is not None:
        user_id = check_identity(USER_ID, user_id)
        if verified_holder(conn, USER_ID, user_id) is not None:
            raise Conflict(f"The user id {user_id!r} already belongs to a customer")
    customer_id = uuid.uuid4().hex
    conn.execute(CUSTOMERS.insert().values(
        id=customer_id, name=name, email=email, phone=phone, tier="standard",
        created_at=now, updated_at=now, site=site,
    ))
    if user_id is not None:
        _insert_identity(conn, customer_id, USER_ID, user_id, True, source, now)
    for kind, value in (("email", email), ("phone", phone)):
        if value:
            _insert_identity(conn, customer_id, kind, value, False, source, now)
    emit(conn, "customer.created", {"customer_id": customer_id, "name": name, "email": email, "phone": phone,
                                    "site": site}, at=now, customer_id=customer_id)
    return _customer(conn, customer_id)


def _identities(conn: Connection, customer_id: str) -> list[IdentityRecord]:
    head = canonical_id(conn, customer_id)
    if head is None:
        return []
    return _group_identities(conn, group_ids(conn, head))


def _group_identities(conn: Connection, group: list[str]) -> list[IdentityRecord]:
    """The group's identities, then its browsers (as ``visitor`` identities): one statement."""
    rows = conn.execute(timeline_queries.identities(len(group) == 1), timeline_queries.group_params(group))
    return [IdentityRecord(id=r.id, customer_id=r.customer_id, kind=r.kind, value=r.value,
                           verified=bool(r.verified), source=r.source, created_at=r.created_at)
            for r in rows]


def _add_identity(conn: Connection, customer_id: str, kind: str, value: str, verified: bool,
                  source: str, now: float) -> IdentityRecord:
    head = _head(conn, customer_id)
    if verified:
        holder = verified_holder(conn, kind, value)
        if holder is not None and canonical_id(conn, holder) != head:
            raise Conflict(f"The {kind} {value!r} is a verified identity of customer {holder!r}; "
                           "merge the two customers instead")
        if holder is not None:
            customer_id = holder
    _insert_identity(conn, customer_id, kind, value, verified, source, now)
    row = conn.execute(select(IDENTITIES).where(
        IDENTITIES.c.customer_id == customer_id, IDENTITIES.c.kind == kind,
        IDENTITIES.c.value == value,
    )).one()
    return _identity(row)


def _remove_identity(conn: Connection, customer_id: str, identity_id: int) -> None:
    head = canonical_id(conn, customer_id)
    group = group_ids(conn, head) if head else []
    deleted = conn.execute(IDENTITIES.delete().where(
        IDENTITIES.c.id == identity_id, IDENTITIES.c.customer_id.in_(group)
    )).rowcount
    if not deleted:
        raise NotFound(f"Customer {customer_id!r} has no identity {identity_id}")


def _has_verified_user(conn: Connection, head: str) -> bool:
    return conn.execute(select(IDENTITIES.c.id).where(
        IDENTITIES.c.customer_id.in_(group_ids(conn, head)), IDENTITIES.c.kind == USER_ID,
        IDENTITIES.c.verified.is_(True),
    ).limit(1)).first() is not None


def _link_verified_user(conn: Connection, visitor_id: str, user_id: str, now: float) -> CustomerRecord:
    visitor_customer = conn.execute(
        select(VISITORS.c.customer_id).where(VISITORS.c.id == visitor_id)
    ).scalar()
    if visitor_customer is None:
        raise NotFound(f"No visitor with id {visitor_id!r}")
    current = _head(conn, visitor_customer)
    holder = verified_holder(conn, USER_ID, user_id)
    if holder is None:
        _insert_identity(conn, current, USER_ID, user_id, True, "identify:hmac", now)
        return _customer(conn, current)
    target = _head(conn, holder)
    if target != current:
        if not _has_verified_user(conn, current):
            # An anonymous record: its history is this person's.
            _merge(conn, current, target, "identify:hmac", f"visitor {visitor_id} signed in", now)
        conn.execute(update(VISITORS).where(VISITORS.c.id == visitor_id).values(customer_id=target))
    return _customer(conn, target)


def _merge_record(row: Any) -> MergeRecord:
    return MergeRecord(**row._mapping)


def _merge(conn: Connection, source_id: str, target_id: str, actor: str, reason: str,
           now: float) -> MergeRecord:
    # Two merges of the same pair in opposite directions must not both pass the
    # "already one" check (a cycle): lock both rows first (PostgreSQL; SQLite
    # writes one at a time), then walk to the heads with what is committed.
    conn.execute(select(CUSTOMERS.c.id).where(CUSTOMERS.c.id.in_([source_id, target_id]))
                 .order_by(CUSTOMERS.c.id).with_for_update())
    source, target = _head(conn, source_id), _head(conn, target_id)
    if source == target:
        raise Conflict(f"Customers {source_id!r} and {target_id!r} are already one customer")
    conn.execute(update(CUSTOMERS).where(CUSTOMERS.c.id == source)
                 .values(merged_into=target, updated_at=now))
    row = conn.execute(MERGES.insert().values(
        action="merge", source_id=source, target_id=target, actor=actor, reason=reason, at=now,
    ).returning(MERGES)).one()
    emit(conn, "customer.merged", {"customer_id": source, "into": target}, at=now, customer_id=source)
    return _merge_record(row)


def _unmerge(conn: Connection, source_id: str, actor: str, reason: str, now: float) -> MergeRecord:
    row = conn.execute(select(CUSTOMERS.c.merged_into).where(CUSTOMERS.c.id == source_id)).first()
    if row is None:
        raise NotFound(f"No customer with id {source_id!r}")
    if row.merged_into is None:
        raise Conflict(f"Customer {source_id!r} is not merged into another")
    conn.execute(update(CUSTOMERS).where(CUSTOMERS.c.id == source_id)
                 .values(merged_into=None, updated_at=now))
    audit = conn.execute(MERGES.insert().values(
        action="unmerge", source_id=source_id, target_id=row.merged_into, actor=actor,
        reason=reason, at=now,
    ).returning(MERGES)).one()
    return _merge_record(audit)


def _merge_history(conn: Connection, customer_id: str) -> list[MergeRecord]:
    head = canonical_id(conn, customer_id)
    ids = set(group_ids(conn, head)) if head else set()
    ids.add(customer_id)
    statement = select(MERGES).where(
        or_(MERGES.c.source_id.in_(ids), MERGES.c.target_id.in_(ids))
    ).order_by(MERGES.c.at, MERGES.c.id)
    return [_merge_record(row) for row in conn.execute(statement)]


def _search(conn: Connection, query: str, default_region: str, limit: int) -> list[CustomerRecord]:
    if not query:
        return []
    c, i = CUSTOMERS.c, IDENTITIES.c
    heads: dict[str, CustomerRecord] = {}

    def add(ids: Any) -> None:
        for customer_id in ids:
            head = head_customer(conn, customer_id)
            if head is not None and head.id not in heads:
                heads[head.id] = head

    exact = [query]
    if "@" in query:
        exact.append(query.lower())
    digits = sum(ch.isdigit() for ch in query)
    if digits >= 5 and all(ch.isdigit() or ch in "+-(). /" for ch in query):
        from desktop.customers.phones import PhoneRejected, normalize_phone

        try:
            exact.append(normalize_phone(query, default_region=default_region))
        except PhoneRejected:
            pass
    # One statement for both exact lookups: the customers' own columns first, then identities.
    own = select(literal(0).label("part"), c.id.label("customer_id")).where(or_(
        c.id == query, c.email.in_(exact), c.phone.in_(exact)
    )).limit(limit).subquery()
    held = select(literal(1).label("part"), i.customer_id).where(
        i.kind.in_(IDENTITY_KINDS), i.value.in_(exact)).limit(limit).subquery()
    exact_matches = union_all(select(own), select(held)).subquery()
    add(conn.execute(select(exact_matches.c.customer_id).order_by(exact_matches.c.part)).scalars())
    if not heads and len(query) >= 2:
        pattern = "%" + query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        for row in conn.execute(  # heads only: their rows are the answer
            select(CUSTOMERS).where(func.lower(c.name).like(pattern, escape="\\"), c.merged_into.is_(None))
            .order_by(c.updated_at.desc()).limit(limit)
        ):
            heads.setdefault(row.id, _rows.customer(row))
    return list(heads.values())[:limit]


def record_hints(conn: Connection, customer_id: str, *, email: str | None, phone: str | None,
                 source: str, now: float) -> None:
    """Store what a visitor claims as unverified identities (never linking anything)."""
    for kind, value in (("email", email), ("phone", phone)):
        if not value:
            continue
        try:
            value = check_identity(kind, value)
        except ValueError:
            continue
        _insert_identity(conn, customer_id, kind, value, False, source, now)

