#!/bin/sh
# Container entry (balena's pattern).
#   start.sh                  the portal stays resident: `wifi-connect run --watch`.
#   start.sh COMMAND [ARG...] `wifi-connect run` first (it returns 0 at once when already
#                             online), then COMMAND replaces this script, so the application
#                             starts only once the device is online. Any other status of
#                             wifi-connect ends the container with that status, and COMMAND
#                             never starts.
# wifi-connect's settings come from the environment (PORTAL_SSID, ...), never from arguments,
# which belong to COMMAND.
set -u

if [ "$#" -eq 0 ]; then
    # Without a command to start, --watch keeps the app resident: `run` alone exits 0 when
    # online, which a restart-always policy would turn into a restart loop.
    exec wifi-connect run --watch
fi

# wifi-connect runs as a child, so this shell (PID 1 in a container) must pass the stop
# signals on: PID 1 gets no default action for them, and `docker stop` sends SIGTERM here.
# Each goes on as SIGTERM, which the app treats as SIGINT and SIGHUP, and which a child not
# yet listening dies of (a background child starts with SIGINT ignored).
child=""
pending=0
forward() {
    interrupted=1
    pending=1
    [ -z "$child" ] || kill -TERM "$child" 2>/dev/null
}
trap forward TERM INT HUP
wifi-connect run &
child=$!
# A signal that came before the child's pid was known.
[ "$pending" -eq 0 ] || kill -TERM "$child" 2>/dev/null
# A trapped signal ends `wait` early (status 128+n) while the child may still be tearing down
# the hotspot: wait again for the child's own status.
while :; do
    interrupted=0
    wait "$child"
    status=$?
    [ "$interrupted" -eq 1 ] && [ "$status" -gt 128 ] || break
done
trap - TERM INT HUP
# A stop asked for while the run was ending: the container is going, so COMMAND is not started.
[ "$pending" -eq 0 ] || [ "$status" -ne 0 ] || exit 130

if [ "$status" -ne 0 ]; then
    echo "start.sh: wifi-connect ended with status $status; not starting $1" >&2
    exit "$status"
fi
exec "$@"
