"""Fixtures for the portal tests: a portal client backed by a recording controller."""

from __future__ import annotations

import pytest

from app.config import Config
from app.portal.app import create_app
from tests.portal.helpers import (
    GATEWAY,
    Client,
    ClientFactory,
    RecordingController,
    make_config,
)


@pytest.fixture
def controller() -> RecordingController:
    """A fresh recording controller."""
    return RecordingController()


@pytest.fixture
def config() -> Config:
    """The default configuration (gateway 192.168.42.1, port 80)."""
    return make_config()


@pytest.fixture
async def portal(
    aiohttp_client: ClientFactory, config: Config, controller: RecordingController
) -> Client:
    """A client of the portal that sends Host: GATEWAY, as a phone on the hotspot does."""
    return await aiohttp_client(create_app(config, controller), headers={"Host": GATEWAY})
