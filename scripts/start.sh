#!/bin/sh
# Container entry: run the portal when there is no uplink; the app itself exits 0 when already online.
exec wifi-connect "$@"
