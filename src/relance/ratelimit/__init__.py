"""Per-client rate limits over a sliding window, counted in this process or in Redis."""
