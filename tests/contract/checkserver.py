"""NetworkManager's connectivity check target, switched between FULL, PORTAL and LIMITED by a file.

Run inside the peer namespace: `python3 checkserver.py ADDRESS PORT CONTROL_DIR RESPONSE`. The
test writes the wanted mode into CONTROL_DIR/mode; the server applies it and writes it back into
CONTROL_DIR/applied, so the test knows when the switch has taken effect. Standard library only.
"""

from __future__ import annotations

import http.server
import os
import sys
import time
from pathlib import Path

POLL_SECONDS = 0.05


class CheckHandler(http.server.BaseHTTPRequestHandler):
    """Answers the check URI the way a working network (full) or a hotel portal would."""

    mode = "full"
    # NetworkManager compares the body with the `response=` of its [connectivity] section.
    response = b""

    def do_GET(self) -> None:
        """Serve the expected body, or redirect elsewhere as a captive portal does."""
        if self.mode == "portal":
            self.send_response(302)
            self.send_header("Location", "http://portal.invalid/login")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(self.response)))
        self.end_headers()
        self.wfile.write(self.response)

    def log_message(self, format: str, *args: object) -> None:
        """Log one line per check, so a failing test's log shows what NetworkManager asked."""
        sys.stderr.write(f"{self.mode} {self.requestline}\n")


def _read_mode(control: Path) -> str:
    try:
        return (control / "mode").read_text().strip() or "full"
    except FileNotFoundError:
        return "full"


def _acknowledge(control: Path, mode: str) -> None:
    # Written atomically, so the test never reads half a word.
    partial = control / "applied.partial"
    partial.write_text(mode)
    os.replace(partial, control / "applied")


def serve(address: str, port: int, control: Path, response: str) -> None:
    """Serve until killed; in limited mode the port is closed, so connections are refused."""
    CheckHandler.response = response.encode()
    server: http.server.HTTPServer | None = None
    applied = ""
    while True:
        mode = _read_mode(control)
        if mode == "limited" and server is not None:
            server.server_close()
            server = None
        elif mode != "limited" and server is None:
            server = http.server.HTTPServer((address, port), CheckHandler)
            server.timeout = POLL_SECONDS
        CheckHandler.mode = mode
        if mode != applied:
            _acknowledge(control, mode)
            applied = mode
        if server is None:
            time.sleep(POLL_SECONDS)
        else:
            # Returns after POLL_SECONDS without a request, so a mode switch is seen quickly.
            server.handle_request()


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4])
