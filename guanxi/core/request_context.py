"""The id of the request being served, so audit rows can say which request made them, and
what the request has read once for all its parts."""

import contextvars
import uuid
from collections.abc import Callable, Hashable
from typing import Any

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("guanxi_request_id", default="")


def new_request_id() -> str:
    return uuid.uuid4().hex


def set_request_id(value: str) -> contextvars.Token:
    return _request_id.set(value)


def reset_request_id(token: contextvars.Token) -> None:
    _request_id.reset(token)


def current_request_id() -> str:
    return _request_id.get()


# Values read once per request (picklists: DESIGN's "rows, cached per request"). Outside a
# request (workers, shells) there is no memo and every read goes to the database.
_memo: contextvars.ContextVar[dict | None] = contextvars.ContextVar("guanxi_memo", default=None)


def start_request_memo() -> contextvars.Token:
    return _memo.set({})


def end_request_memo(token: contextvars.Token) -> None:
    _memo.reset(token)


def request_memo(key: Hashable, read: Callable[[], Any]) -> Any:
    """`read()`, done once per request for `key`."""
    memo = _memo.get()
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    return memo[key]


def forget_request_memo() -> None:
    """After a write to what the memo holds, this request reads it again."""
    memo = _memo.get()
    if memo is not None:
        memo.clear()
