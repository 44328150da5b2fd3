"""One logging setup for the app, the API and the commands: JSON lines, redacted, to stderr and a file.

:func:`setup_logging` (called once per process by ``churn-studio``, ``python -m api`` and the
app) puts two handlers on the root logger:

* stderr, and
* ``<log_dir>/<component>.log`` (settings ``log_dir``, default ``data/logs/``; rotated at
  ``log_max_bytes``, ``log_backup_count`` old files kept; the file 0600, the folder 0700).

Every line is one JSON object (python-json-logger's ``JsonFormatter``)::

    {"time": "2026-11-23T18:25:08.123456+00:00", "level": "ERROR", "component": "api",
     "logger": "api.main", "message": "...", "run_id": "3f2a9c1e7b4d", "model_version": "...",
     "route": "/v1/predict", "exception": "Traceback ..."}

``run_id`` and ``model_version`` (and any other field) come from :func:`log_context`, a
context manager over a :mod:`contextvars` variable, so they follow a request or a command
through threads started with a copied context (FastAPI's thread pool); they are ``null``
outside one. ``exception`` is there when the record carries one (``logger.exception``).

Nothing personal or secret is written (:class:`RedactFilter` on every handler, and the
formatter redacts the finished fields once more, including the traceback): e-mail
addresses, phone numbers (E.164 ``+82 10 …`` and Korean ``010-…``, ``02-…``), API keys
(``cs_…``, stored ``hmac-sha256:`` digests, any ``X-API-Key`` value), signed unsubscribe
tokens (and any ``token=`` / ``password=`` / ``secret=`` value in text), the settings' secret
values (Kakao key, Twilio token, SMTP password, unsubscribe key), and every ``extra`` field
whose name says password, secret, token, key, credential, authorization or cookie become
``[redacted]``. Customer names are never passed to a logger in the first place.

The command line keeps printing its human lines (rich) to stdout; the JSON lines go to stderr
and the file. Several processes of one component share its file; rotation is per process
(a rotation by one may be missed by another until it reopens: size bounds are approximate).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import logging
import logging.handlers
import os
import re
import sys
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from churn_core.config import Settings, get_settings

__all__ = [
    "REDACTED",
    "JsonLineFormatter",
    "RedactFilter",
    "bind_log_context",
    "current_log_context",
    "log_context",
    "new_run_id",
    "redact",
    "reset_logging",
    "setup_logging",
    "uvicorn_log_config",
]

#: What replaces a personal or secret value.
REDACTED = "[redacted]"
#: Fields every line has, in this order (``null`` when unknown).
FIELDS = ("time", "level", "component", "logger", "message", "run_id", "model_version")

_CONTEXT: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "churn_log_context", default=MappingProxyType({})
)
_HANDLER_MARK = "_churn_studio_log"
_configured: tuple | None = None

# Values ------------------------------------------------------------------------------------------
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
# E.164 (+82 10 1234 5678, +821012345678) and Korean national numbers (010-1234-5678, 02-123-4567,
# 01012345678, 080-000-0000); not inside longer digit or word runs (ids, hashes, timestamps).
_PHONE = re.compile(
    r"(?<![\w+])\+\d{1,3}[ .\-]?(?:\(0\))?\d{1,4}[ .\-]?\d{3,4}[ .\-]?\d{4}(?!\w)"
    r"|(?<![\w.\-])0\d{1,2}[ .\-)]?\d{3,4}[ .\-]?\d{4}(?![\w:])"
)
# API keys (api.keys: "cs_" + 43 URL-safe characters) and their stored digests.
_API_KEY = re.compile(r"(?<![A-Za-z0-9])cs_[A-Za-z0-9_\-]{20,}|hmac-sha256:[0-9a-fA-F]{16,}")
# itsdangerous signed values (unsubscribe tokens): [.]payload.timestamp.signature, base64url parts.
_SIGNED = re.compile(r"(?<![\w\-])\.?[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{20,}")
# name=value / name: value pairs whose name says secret (query strings, headers, reprs of dicts).
_SECRET_NAME = r"(?:x[-_]api[-_]key|api[-_]?key|token|password|passwd|secret|authorization|cookie|credential)s?"
_PAIR = re.compile(
    rf"(?i)(?P<name>\b{_SECRET_NAME}\b['\"]?\s*(?:=|:)\s*(?:b?['\"])?)(?P<value>\[redacted\]|(?:Bearer\s+)?[^\s&'\",;)}}\]]+)"
)
_SECRET_FIELD = re.compile(r"(?i)pass(?:word|wd|phrase)|secret|token|api[-_]?key|authori[sz]ation|credential|cookie")
# Fields the formatter writes itself: never rewritten (a logger name is not personal data).
_FIXED = frozenset({"time", "level", "component", "logger", "run_id", "model_version"})
_literals: tuple[str, ...] = ()


def redact(text: str) -> str:
    """``text`` with personal and secret values replaced by :data:`REDACTED`.

    Parameters
    ----------
    text : str
        A log message, a field value or a traceback.

    Returns
    -------
    str
        The same text; e-mail addresses, phone numbers, API keys and digests, signed tokens,
        ``name=value`` pairs whose name says secret (``token=…``, ``X-API-Key: …``) and the
        settings' secret values (after :func:`setup_logging`) replaced.
    """
    if not text:
        return text
    for literal in _literals:
        text = text.replace(literal, REDACTED)
    text = _PAIR.sub(lambda m: m["name"] + REDACTED, text)
    text = _API_KEY.sub(REDACTED, text)
    text = _SIGNED.sub(REDACTED, text)
    text = _EMAIL.sub(REDACTED, text)
    return _PHONE.sub(REDACTED, text)


def _redact_value(value: Any, depth: int = 0) -> Any:
    """A field value redacted: strings by :func:`redact`, containers item by item (secret keys whole)."""
    if isinstance(value, str):
        return redact(value)
    if depth > 5:  # bounded: a log field is never that deep
        return value
    if isinstance(value, Mapping):
        return {k: REDACTED if _secret_field(k) else _redact_value(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact_value(v, depth + 1) for v in value]
    if isinstance(value, bytes | bytearray):
        return redact(bytes(value).decode("utf-8", "replace"))
    if value is None or isinstance(value, bool | int | float | dt.date | dt.datetime):
        return value
    return redact(str(value))  # any other object: as text, redacted (its repr may hold anything)


def _secret_field(name: object) -> bool:
    return isinstance(name, str) and bool(_SECRET_FIELD.search(name))


class RedactFilter(logging.Filter):
    """Redacts a record in place before any handler formats it (message, arguments, ``extra``, traceback).

    The message is rendered once (``msg % args``) and redacted; ``args`` are dropped. Every
    non-standard attribute (an ``extra`` field) is redacted, or replaced whole when its name
    says secret. A traceback is rendered into ``exc_text`` and redacted (formatters of the
    standard library use it; :class:`JsonLineFormatter` redacts its own rendering again).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_churn_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep the raw parts, redacted
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = redact(message), None
        for name in list(vars(record)):
            if name in _STANDARD_ATTRS or name.startswith("_"):
                continue
            value = getattr(record, name)
            setattr(record, name, REDACTED if _secret_field(name) else _redact_value(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record._churn_redacted = True
        return True


_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


class _ContextFilter(logging.Filter):
    """Adds the :func:`log_context` fields (``run_id``, ``model_version``, …) unless the record has them."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in {"run_id": None, "model_version": None, **_CONTEXT.get()}.items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class JsonLineFormatter(JsonFormatter):
    """python-json-logger's formatter with the studio's fields (:data:`FIELDS`), UTC ISO time, redaction.

    Parameters
    ----------
    component : str
        ``cli``, ``api`` or ``app``: written in every line.
    """

    def __init__(self, component: str):
        super().__init__(
            ["levelname", "name", "message", "run_id", "model_version"],
            rename_fields={"levelname": "level", "name": "logger", "exc_info": "exception"},
            static_fields={"component": component},
            reserved_attrs=[*RESERVED_ATTRS, "taskName", "_churn_redacted"],
            json_ensure_ascii=False,
        )

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        log_data["time"] = dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(timespec="microseconds")
        super().add_fields(log_data, record, message_dict)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        ordered = {name: log_data.pop(name, None) for name in FIELDS}
        ordered.update(log_data)
        return {k: v if k in _FIXED else REDACTED if _secret_field(k) else _redact_value(v) for k, v in ordered.items()}


class _StderrHandler(logging.StreamHandler):
    """A stream handler writing to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # the stream is always the current sys.stderr
        pass


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating file handler whose files are readable by their owner only (0600)."""

    def _open(self):
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with contextlib.suppress(OSError):
            os.fchmod(fd, 0o600)  # an older file made with a looser mode
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)


def _secret_literals(settings: Settings) -> tuple[str, ...]:
    """The settings' secret values (at least 8 characters: shorter ones would redact common words)."""
    values = []
    for name, value in settings:
        if hasattr(value, "get_secret_value"):
            values.append(value.get_secret_value())
        elif _secret_field(name) and isinstance(value, str):
            values.append(value)
    return tuple(sorted({v for v in values if v and len(v) >= 8}, key=len, reverse=True))


def setup_logging(component: str, settings: Settings | None = None) -> None:
    """Send this process's log records as redacted JSON lines to stderr and ``<log_dir>/<component>.log``.

    Idempotent: calling it again with the same component and settings changes nothing; with
    another component (``churn-studio api`` starts as ``cli``, then serves as ``api``) or other
    settings it replaces the handlers it added before. Other handlers (pytest's, Streamlit's,
    the command line's console notes) are left alone.

    Parameters
    ----------
    component : str
        ``cli``, ``api`` or ``app`` (a word: it names the file).
    settings : Settings, optional
        ``log_dir``, ``log_level``, ``log_max_bytes``, ``log_backup_count`` and the secret
        values to redact (default: the process settings).

    Raises
    ------
    ValueError
        If ``component`` is not a plain word.

    Notes
    -----
    A log folder or file that cannot be created is no error: the lines go to stderr only,
    and the first of them says why.
    """
    global _configured, _literals
    if not re.fullmatch(r"[a-z][a-z0-9_\-]{0,31}", component):
        raise ValueError(f"component must be a short lower-case word, not {component!r}")
    settings = settings or get_settings()
    log_dir = Path(settings.log_dir)
    key = (component, str(log_dir.resolve()), settings.log_level, settings.log_max_bytes, settings.log_backup_count)
    root = logging.getLogger()
    if key == _configured and any(getattr(h, _HANDLER_MARK, False) for h in root.handlers):
        return
    reset_logging()
    _literals = _secret_literals(settings)
    handlers: list[logging.Handler] = [_StderrHandler()]
    problem = None
    try:
        created = not log_dir.exists()
        log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if created:
            with contextlib.suppress(OSError):
                log_dir.chmod(0o700)  # mkdir's mode is reduced by the umask
        handlers.append(_PrivateRotatingFileHandler(
            log_dir / f"{component}.log", maxBytes=settings.log_max_bytes, backupCount=settings.log_backup_count,
            encoding="utf-8",
        ))  # fmt: skip
    except OSError as exc:  # an unwritable folder does not stop the app or a command: stderr only, said once
        problem = exc
    formatter = JsonLineFormatter(component)
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(RedactFilter())
        handler.addFilter(_ContextFilter())
        setattr(handler, _HANDLER_MARK, True)
        root.addHandler(handler)
    root.setLevel(settings.log_level)
    _configured = key
    if problem is not None:
        logging.getLogger(__name__).warning("no log file in %s (stderr only): %s", log_dir, problem)


def reset_logging() -> None:
    """Remove (and close) the handlers :func:`setup_logging` added; other handlers stay."""
    global _configured
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(handler)
        handler.close()
    _configured = None


@contextlib.contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add ``fields`` (``run_id``, ``model_version``, ``route``, …) to every line logged inside the block.

    Nested blocks add to (and may override) the outer fields; leaving a block restores them.

    Examples
    --------
    >>> with log_context(run_id="3f2a9c1e7b4d", model_version="20261123-1a2b3c4d"):
    ...     logging.getLogger(__name__).info("scored")
    """
    token = _CONTEXT.set({**_CONTEXT.get(), **fields})
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def bind_log_context(**fields: Any) -> None:
    """Add ``fields`` to every later line of the current context (a command's whole run), without a block."""
    _CONTEXT.set({**_CONTEXT.get(), **fields})


def current_log_context() -> dict[str, Any]:
    """The fields :func:`log_context` adds here (``run_id`` and ``model_version`` always, maybe ``None``)."""
    return {"run_id": None, "model_version": None, **_CONTEXT.get()}


def new_run_id() -> str:
    """A fresh run id: 12 hexadecimal digits (random)."""
    return uuid.uuid4().hex[:12]


def uvicorn_log_config(level: str = "INFO") -> dict[str, Any]:
    """uvicorn's ``log_config``: its error and access loggers add no handler and pass records to the root.

    With :func:`setup_logging` in place, uvicorn's lines are then JSON and redacted like every
    other line (an access line's ``/optout?token=…`` becomes ``token=[redacted]``).

    Parameters
    ----------
    level : str
        Level of uvicorn's loggers.

    Returns
    -------
    dict
        A :func:`logging.config.dictConfig` mapping that keeps existing loggers.
    """
    logger = {"handlers": [], "level": level, "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "loggers": {"uvicorn": dict(logger), "uvicorn.error": dict(logger), "uvicorn.access": dict(logger)},
    }
