"""The device: profiles, host checks (preflight, doctor), Jetson facts and power sampling."""
