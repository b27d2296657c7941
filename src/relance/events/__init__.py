"""Change events: what each write changed, recorded in its own transaction (docs/webhooks.md)."""
