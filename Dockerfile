# The app in a container that talks to the host's NetworkManager, as balena devices run it
# (docker-compose.yml): host networking, the host's system bus through DBUS_SYSTEM_BUS_ADDRESS,
# and CAP_NET_ADMIN, CAP_NET_RAW and CAP_NET_BIND_SERVICE for dnsmasq and the checks.
# Both stages use the same base, so the venv built in the first finds its Python in the second.

# The builder: a venv with the app and its dependencies. A compiler is here for a dependency
# that has no wheel for the device's architecture (armv7, say).
FROM python:3.11.14-slim-bookworm AS builder
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
COPY templates ./templates
COPY static ./static
ENV VIRTUAL_ENV=/opt/wifi-connect
RUN python -m venv "$VIRTUAL_ENV" \
    && "$VIRTUAL_ENV/bin/pip" install --no-cache-dir --disable-pip-version-check .

# The image: the venv and the Debian packages of scripts/debian-packages.txt (which
# scripts/test installs too; a test holds the two equal), and no compiler.
FROM python:3.11.14-slim-bookworm
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates dnsmasq-base \
    && rm -rf /var/lib/apt/lists/*
ENV VIRTUAL_ENV=/opt/wifi-connect
COPY --from=builder /opt/wifi-connect /opt/wifi-connect
ENV PATH=/opt/wifi-connect/bin:$PATH
COPY scripts/start.sh /usr/local/bin/start.sh
ENV DBUS_SYSTEM_BUS_ADDRESS=unix:path=/host/run/dbus/system_bus_socket
# What the app prints reaches the device's logs as it happens, not when a buffer fills.
ENV PYTHONUNBUFFERED=1
# start.sh with no command keeps the portal resident; `command:` in docker-compose.yml (or a
# CMD of an image built FROM this one) names the application to start once online.
CMD ["/usr/local/bin/start.sh"]
