"""Data files shipped with the scoring package (default scorecard)."""
