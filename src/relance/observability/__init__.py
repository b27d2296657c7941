"""What operators see of a running Relance: Prometheus metrics, JSON logs, request IDs."""

# prometheus-client's multiprocess directory: named here, where nothing imports
# prometheus-client, which takes its mode from it when it is first imported.
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
