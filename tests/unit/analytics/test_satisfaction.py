"""The reports' ratings and reopens table: sums per queue and agent in, rates out."""

from __future__ import annotations

from desktop.analytics.satisfaction import satisfaction_table


def test_rates_per_queue_and_agent_and_in_all():
    rows = [
        {"queue": "sales", "agent_id": "a1", "contacts": 4, "summaries": 2, "rated": 2, "rating_sum": 9, "reopened": 1},
        {"queue": "support", "agent_id": "a1", "contacts": 1, "summaries": 0, "rated": 0, "rating_sum": 0, "reopened": 0},
        {"queue": "sales", "agent_id": "a2", "contacts": 2, "summaries": 1, "rated": 1, "rating_sum": 2, "reopened": 1},
    ]
    table = satisfaction_table(rows, queue_titles={"support": "Support", "sales": "Sales"},
                               agent_names={"a1": "Zoe", "a2": "Adam"})
    got = {(row["by"], row["name"]): row for row in table["rows"]}
    assert [key for key in got] == [("Queue", "Support"), ("Queue", "Sales"), ("Agent", "Adam"), ("Agent", "Zoe"),
                                    ("All", "All contacts")]
    sales = got[("Queue", "Sales")]
    assert (sales["contacts"], sales["rated"], sales["average_rating"]) == (6, 3, 3.67)
    assert sales["rated_share"] == 1.0 and sales["reopen_rate"] == 2 / 6
    # Nobody asked, nobody rated: no figure rather than a zero that reads as "rated 0".
    support = got[("Queue", "Support")]
    assert support["rated_share"] is None and support["average_rating"] is None and support["reopen_rate"] == 0
    assert got[("All", "All contacts")]["contacts"] == 7
    assert {column["key"] for column in table["columns"]} >= set(sales)


def test_no_contacts_no_rows_but_the_total():
    table = satisfaction_table([], queue_titles={"sales": "Sales"}, agent_names={})
    assert [row["name"] for row in table["rows"]] == ["All contacts"]
    assert table["rows"][0]["reopen_rate"] is None
