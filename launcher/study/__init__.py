"""The study: campaigns (config and presets), their expansion into jobs, and running them."""
