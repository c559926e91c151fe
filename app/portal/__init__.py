"""The captive portal: an aiohttp app the phone's sign-in sheet opens."""
