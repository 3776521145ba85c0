"""The documents the commands print with --json: one pydantic model per command, exported as
JSON Schemas to schema/*-output.schema.json (launcher/contract/export.py)."""
