"""Captive-portal WiFi provisioning for headless devices, through NetworkManager."""

__version__ = "0.1.0"
