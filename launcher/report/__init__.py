"""The report: validated results in, the paper's tables and figures (and ours) out."""
