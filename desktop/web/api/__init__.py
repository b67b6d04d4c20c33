"""The REST API of the Customer Contact Repository (``/api/v1``): its routes."""

from desktop.web.api.customers import routes

__all__ = ["routes"]
