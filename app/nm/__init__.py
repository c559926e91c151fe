"""NetworkManager adapter: the only package that imports dbus_next."""
