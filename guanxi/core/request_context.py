"""The id of the request being served, so audit rows can say which request made them."""

import contextvars
import uuid

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("guanxi_request_id", default="")


def new_request_id() -> str:
    return uuid.uuid4().hex


def set_request_id(value: str) -> contextvars.Token:
    return _request_id.set(value)


def reset_request_id(token: contextvars.Token) -> None:
    _request_id.reset(token)


def current_request_id() -> str:
    return _request_id.get()
