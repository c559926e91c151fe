#!/bin/sh
# Container entry. --watch keeps the app resident: it exits 0 at once when already online
# otherwise, which a restart-always container policy would turn into a restart loop.
exec wifi-connect run --watch "$@"
