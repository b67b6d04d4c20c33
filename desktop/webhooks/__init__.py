"""Webhooks: events queued in the database with the change they tell of, sent signed.

``signing`` (the signature header, pure), ``backoff`` (when to try again, pure),
``targets`` (which receiver URLs are allowed), ``sender`` (the task every process runs:
claim due deliveries, POST them, log the attempt). Events are queued by
``desktop.repository.outbox``; subscriptions are managed in the admin API
(``desktop/web/admin_webhooks.py``). The receiver's side: docs/operations.md, "Webhooks".
"""
