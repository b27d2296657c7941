"""Every SQL statement about followups: `reads` (a page and its total, one followup, tenant
scoping), `writes` (one followup at a time, counts kept in step) and `bulk` (an import's
batches, staged and written by a few statements)."""
