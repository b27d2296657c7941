"""What operators see of a running Relance: Prometheus metrics, JSON logs, request IDs."""
