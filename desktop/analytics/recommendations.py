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
#: Up to this many products the similarity is held dense (8,000² float32 = 256 MB).
_DENSE_PRODUCTS = 8000


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
    if len(products) <= _DENSE_PRODUCTS:  # sparse x dense is many times faster than sparse x sparse
        similarity = similarity.toarray().astype(np.float32)
    names = products
    out: dict[str, list[Recommendation]] = {}
    for start in range(0, len(customers), _CHUNK):
        block = bought[start:start + _CHUNK]
        scores = block @ similarity
        scores = scores.toarray() if sparse.issparse(scores) else np.asarray(scores)
        scores[block.toarray() > 0] = 0.0  # never what they own
        k = min(limit, scores.shape[1])
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        top_scores = np.take_along_axis(scores, top, axis=1)
        # Best first; columns are in product order, so ties go to the first product by name.
        # (A tie at the k-th place may have lost a product that sorts earlier: rare, harmless.)
        order = np.lexsort((top, -top_scores))
        top = np.take_along_axis(top, order, axis=1).tolist()
        top_scores = np.take_along_axis(top_scores, order, axis=1).tolist()
        for offset, (columns, values) in enumerate(zip(top, top_scores)):
            out[customers[start + offset]] = [Recommendation(names[c], v)
                                              for c, v in zip(columns, values) if v > 0]
    return out
