"""How the process logs: readable lines by default, one JSON object per line with
``OTODESK_LOG_FORMAT=json`` (for a log shipper), both carrying the request id."""

from __future__ import annotations

import json
import logging
import time

from desktop.web.request_ids import RequestIdFilter

__all__ = ["configure_logging", "ForwardedClientFilter", "JsonFormatter"]

#: LogRecord's own attributes: everything else on a record came as ``extra`` (callback_id, ...).
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "request_id",
                                                                        "color_message"}  # uvicorn's ANSI copy


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "at": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if getattr(record, "request_id", ""):
            entry["request_id"] = record.request_id
        entry.update({key: value for key, value in vars(record).items()
                      if key not in _STANDARD and not key.startswith("_")})
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class ForwardedClientFilter(logging.Filter):
    """uvicorn writes a request's client as ``host:port`` (its access lines and its WebSocket
    lines, ``'%s - "...'``). Behind a trusted proxy the client is taken from X-Forwarded-For,
    which has no port: uvicorn puts 0 and the line read ``127.0.0.1:0``. Such a client is
    written as the bare address; a real peer (never port 0 on TCP) keeps its port."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if (isinstance(record.msg, str) and record.msg.startswith('%s - "') and isinstance(args, tuple)
                and args and isinstance(args[0], str) and args[0].endswith(":0")):
            record.args = (args[0][:-2], *args[1:])
        return True


def configure_logging(log_format: str) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    # A host that set up logging already (pytest running `main()` in-process) keeps its own
    # handlers: replacing them left records written to a stream it had closed.
    if not root.handlers:
        root.addHandler(handler)
    logging.captureWarnings(True)  # a library's warnings become log records too, not raw stderr
    root.setLevel(logging.INFO)
    # uvicorn's own loggers go through the same handler (serve passes log_config=None).
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    for name in ("uvicorn.error", "uvicorn.access"):  # the WebSocket lines, the access lines
        logger = logging.getLogger(name)
        if not any(isinstance(each, ForwardedClientFilter) for each in logger.filters):
            logger.addFilter(ForwardedClientFilter())
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # seven lines of set-up per start
