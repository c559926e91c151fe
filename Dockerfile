# The app in a container that talks to the host's NetworkManager, as balena devices run it:
#   DBUS_SYSTEM_BUS_ADDRESS=unix:path=/host/run/dbus/system_bus_socket, host networking,
#   and CAP_NET_ADMIN/CAP_NET_RAW for dnsmasq.
FROM python:3.11-slim-bookworm

RUN apt-get update \
    && apt-get install -y --no-install-recommends dnsmasq-base iproute2 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/wifi-connect
COPY pyproject.toml README.md ./
COPY app ./app
COPY templates ./templates
COPY static ./static
RUN pip install --no-cache-dir . && rm -rf /opt/wifi-connect/app

COPY scripts/start.sh /usr/local/bin/start.sh
ENV DBUS_SYSTEM_BUS_ADDRESS=unix:path=/host/run/dbus/system_bus_socket
CMD ["/usr/local/bin/start.sh"]
