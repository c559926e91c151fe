"""Blocking HTTP sessions from a loopback address of their own: a phone each, for the limits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from requests.adapters import HTTPAdapter


class _FromAddress(HTTPAdapter):
    """Connections made from one source address: a phone of its own on loopback."""

    def __init__(self, address: str) -> None:
        self._address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self._address, 0)
        super().init_poolmanager(*args, **kwargs)


@contextmanager
def phone_session(address: str) -> Iterator[requests.Session]:
    """An HTTP session whose every request comes from `address`."""
    with requests.Session() as session:
        session.mount("http://", _FromAddress(address))
        yield session
