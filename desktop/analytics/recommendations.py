"""Product-to-customer association: what this customer is likely to want next.

Item-item collaborative filtering: two products are similar when the same
customers buy both (cosine of their buyer sets); a customer's score for a
product is the sum of its similarity to what they already bought, and what
they own is never recommended. It needs no training loop and explains itself
("people who bought X also bought Y"); ``implicit``'s ALS would add a compiled
dependency for a gain that only shows at catalogues far larger than a shop's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy import sparse

__all__ = ["Recommendation", "recommend"]

#: Customers scored at a time, which bounds memory to chunk x products floats.
_CHUNK = 4096


@dataclass(frozen=True, slots=True)
class Recommendation:
    product: str
    score: float


def recommend(owned: Mapping[str, Iterable[str]], *, limit: int = 5) -> dict[str, list[Recommendation]]:
    """The top ``limit`` products for each customer in ``owned`` (customer -> products bought).

    A customer whose products nobody else bought gets an empty list.
    """
    customers = sorted(owned)
    products = sorted({p for items in owned.values() for p in items})
    if not customers or not products or limit < 1:
        return {cid: [] for cid in customers}
    column = {p: j for j, p in enumerate(products)}
    rows, cols = [], []
    for i, cid in enumerate(customers):
        for p in set(owned[cid]):
            rows.append(i)
            cols.append(column[p])
    bought = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                               shape=(len(customers), len(products)))
    co = (bought.T @ bought).tocsr()  # products x products: customers buying both
    norms = np.sqrt(co.diagonal())
    norms[norms == 0] = 1.0
    inverse = sparse.diags(1.0 / norms)
    similarity = (inverse @ co @ inverse).tocsr()
    similarity.setdiag(0)
    similarity.eliminate_zeros()
    names = np.array(products)
    out: dict[str, list[Recommendation]] = {}
    for start in range(0, len(customers), _CHUNK):
        block = bought[start:start + _CHUNK]
        scores = (block @ similarity).toarray()
        scores[block.toarray() > 0] = 0.0  # never what they own
        # Columns are in product order, so a stable sort breaks ties by product.
        top = np.argsort(-scores, axis=1, kind="stable")[:, :limit]
        for offset, candidates in enumerate(top):
            row = scores[offset]
            out[customers[start + offset]] = [
                Recommendation(str(names[c]), float(row[c])) for c in candidates if row[c] > 0]
    return out
