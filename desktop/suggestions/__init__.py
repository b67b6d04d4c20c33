"""The desk side of the business rules: suggestions on the card, the agent's feedback, the results.

:mod:`.attribution` and :mod:`.results` are pure (interactions and orders in,
figures out); :mod:`.live` matches the live catalogue against a contact's
snapshot within a budget; :mod:`.feedback` takes the agent's presented /
accepted / declined on the agent socket.
"""
