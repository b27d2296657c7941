"""Recordings and documents: a store (local directory or S3-compatible bucket), and the signed,
expiring URLs through which the API hands them out (docs/contract.md §5)."""
