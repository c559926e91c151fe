"""The provisioning flow, the app's core: it knows NetworkManager's adapter, never HTTP."""
