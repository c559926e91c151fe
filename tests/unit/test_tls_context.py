"""The checks' TLS context: the CA store is loaded once, and again only when it changes."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from app.flow.reachability import tls_context


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty CA file of our own as the store (SSL_CERT_FILE), no CA directory."""
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path / "no-such-directory"))
    return bundle


def test_the_same_store_gives_the_same_context(store: Path) -> None:
    first = tls_context()
    assert tls_context() is first
    # Still the default context: certificates and host names are verified.
    assert first.verify_mode is ssl.CERT_REQUIRED
    assert first.check_hostname


def test_an_edited_store_is_loaded_again(store: Path) -> None:
    first = tls_context()
    store.write_text("\n")
    assert tls_context() is not first


def test_another_store_is_loaded(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = tls_context()
    other = store.with_name("other.pem")
    other.write_text("")
    monkeypatch.setenv("SSL_CERT_FILE", str(other))
    assert tls_context() is not first
