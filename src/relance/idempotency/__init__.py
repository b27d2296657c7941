"""Idempotency keys: a retried POST gets the first answer instead of making a second write."""
