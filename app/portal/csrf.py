"""CSRF tokens for the HTML forms: bound to the client's address, no cookie, no server state."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

FIELD = "csrf_token"


class CsrfTokens:
    """Makes and checks tokens with a secret that lives only as long as this portal."""

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret if secret is not None else secrets.token_bytes(32)

    def token(self, client: str) -> str:
        """The token a page served to `client` embeds in its forms."""
        # 128 bits are far beyond guessing, and every form on the page carries a copy.
        digest = hmac.new(self._secret, client.encode(), hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def valid(self, client: str, token: str | None) -> bool:
        """True when `token` was made for `client` by this portal."""
        # A page from another site cannot read ours, so it cannot learn this client's token; a
        # token fetched by another client is useless here because it is bound to its address.
        # compare_digest refuses str with non-ASCII characters (a TypeError, a 500 before this
        # check), and a token of ours is always ASCII, so any other is simply not ours.
        return (
            token is not None and token.isascii() and hmac.compare_digest(self.token(client), token)
        )
