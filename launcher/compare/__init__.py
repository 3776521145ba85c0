"""edgecompress diff: two sets of results (stores, campaigns, devices) compared row by row."""
