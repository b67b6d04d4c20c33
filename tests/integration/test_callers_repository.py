"""Who is phoning: a caller's number against the customers' identities (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from desktop.repository import Repository

NUMBER = "+447700900461"


async def test_a_verified_number_names_its_customer_even_when_others_claim_it(repo: Repository) -> None:
    quinn = await repo.create_customer(name="Quinn", source="test")
    await repo.add_identity(quinn.id, "phone", NUMBER, verified=True, source="test")
    await repo.create_customer(name="Someone else", phone=NUMBER, source="test")  # a mere hint
    caller = await repo.caller(NUMBER)
    assert caller.customer.id == quinn.id and caller.match == "verified" and caller.known


async def test_one_customer_with_the_number_is_taken_for_the_caller_and_a_merge_shows_its_head(repo: Repository):
    pat = await repo.create_customer(name="Pat", phone=NUMBER, source="test")
    head = await repo.create_customer(name="Pat (business)", source="test")
    assert (await repo.caller(NUMBER)).customer.id == pat.id
    await repo.merge_customers(pat.id, head.id, actor="test", reason="same person")
    caller = await repo.caller(NUMBER)
    assert caller.customer.id == head.id and caller.match == "claimed"


async def test_an_unknown_number_makes_a_record_the_next_call_finds(repo: Repository) -> None:
    first = await repo.caller(NUMBER, now=1000.0)
    assert first.match == "new" and not first.known and first.customer.phone == NUMBER
    again = await repo.caller(NUMBER, now=2000.0)
    assert again.customer.id == first.customer.id and again.match == "claimed"


async def test_a_shared_number_is_nobody_in_particular_and_a_withheld_one_no_number(repo: Repository) -> None:
    await repo.create_customer(name="A", phone=NUMBER, source="test")
    await repo.create_customer(name="B", phone=NUMBER, source="test")
    shared = await repo.caller(NUMBER)
    assert shared.match == "ambiguous" and shared.customer.name is None
    withheld = await repo.caller(None)
    assert withheld.match == "withheld" and withheld.customer.phone is None
    with pytest.raises(ValueError):
        await repo.caller("07700 900461")  # the caller's number is normalised before it gets here
