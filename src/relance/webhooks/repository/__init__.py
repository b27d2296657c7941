"""The statements of webhooks: endpoints (endpoints.py), their deliveries and attempts as the
API shows them (deliveries.py), and the queue the workers claim from (queue.py)."""
