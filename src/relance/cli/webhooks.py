"""`relance webhooks ...`: the operator's commands on a company's webhook endpoints and their
deliveries (on the deployment's database, as `relance clients`), `relance webhooks listen`
(a developer's, through the API), and `relance worker`, the delivery process."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from relance.cli.common import (
    JsonFlag,
    company_key,
    fail,
    in_one_write,
    out,
    print_json,
    settings,
    with_deployment,
)

if TYPE_CHECKING:
    from relance.db import Connection
    from relance.runtime import Deployment
    from relance.units import UnitOfWork

T = TypeVar("T")
webhooks_app = typer.Typer(no_args_is_help=True, help="Webhook endpoints and their deliveries.")

Company = Annotated[str, typer.Option(help="The company's ID.")]
EndpointId = Annotated[str, typer.Argument(help="The endpoint's ID (we_...).")]
DeliveryId = Annotated[str, typer.Argument(help="The delivery's ID (wd_...).")]


def _run(action: Callable[[Deployment, UnitOfWork], Awaitable[T]]) -> T:
    """One write, a refusal of the service printed as its message (exit 1)."""
    from relance.errors import AppError

    try:
        return in_one_write(action)
    except AppError as exc:
        problems = [f"{k}: {p}" for k, ps in (exc.details or {}).items() for p in ps]
        fail("; ".join(problems) or exc.message)


async def _owner(deployment: Deployment, conn: Connection, table: str, public_id: str) -> int:
    """The company of the endpoint or delivery an operator names."""
    from relance.webhooks.repository.endpoints import owner
    from relance.webhooks.views import delivery_ids, endpoint_ids

    kind = endpoint_ids if table == "webhook_endpoints" else delivery_ids
    key = kind(deployment.ids).key(public_id)
    company = None if key is None else await owner(conn, table, key)
    if company is None:
        fail(f"no webhook {'endpoint' if kind is endpoint_ids else 'delivery'} {public_id}", 2)
    return company


def _show(view: Any, as_json: bool, line: str) -> None:
    import msgspec

    if as_json:
        print_json(msgspec.to_builtins(view))
    else:
        out.print(line, highlight=False, soft_wrap=True)


@webhooks_app.command("create")
def create(
    company: Company,
    url: Annotated[str, typer.Option(help="Where the events are POSTed.")],
    events: Annotated[
        str, typer.Option(help='Comma-separated event types, or "*" for every one.')
    ] = "*",
    description: Annotated[str | None, typer.Option(help="A label for people.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create an endpoint; its signing secret is shown this once."""
    from pydantic import ValidationError

    from relance.webhooks import service
    from relance.webhooks.schemas import WebhookEndpointBody

    names = [name.strip() for name in events.split(",") if name.strip()]
    try:
        body = WebhookEndpointBody(url=url, enabled_events=names, description=description)  # type: ignore[arg-type]
    except ValidationError as exc:
        fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()), 2)

    async def work(deployment: Deployment, unit: UnitOfWork) -> Any:
        secrets = service.Secrets.of(deployment.keys)
        allow = deployment.settings.webhooks_allow_private_networks
        key = company_key(deployment, company)
        return await service.create_endpoint(unit.conn, deployment.ids, secrets, key, body, allow)

    view = _run(work)
    _show(view, as_json, f"endpoint {view.id} created for {view.url}\nsecret  {view.secret}")


@webhooks_app.command("list")
def list_endpoints(company: Company, as_json: JsonFlag = False) -> None:
    """The company's endpoints, newest first."""
    from relance.webhooks import service

    async def work(deployment: Deployment) -> list[Any]:
        key = company_key(deployment, company)
        found: list[Any] = []
        params: dict[str, list[str]] = {"limit": ["100"]}
        while True:
            page, _, more = await service.list_endpoints(deployment.db, deployment.ids, key, params)
            found.extend(page)
            if not more:
                return found
            params["starting_after"] = [page[-1].id]

    views = with_deployment(work)
    if as_json:
        import msgspec

        print_json(msgspec.to_builtins(views))
        return
    for view in views:
        reason = f" ({view.disabled_reason})" if view.disabled_reason else ""
        kinds = ",".join(view.enabled_events)
        out.print(f"{view.id}  {view.status}{reason}  {kinds}  {view.url}", highlight=False)


def _set_status(endpoint_id: str, status: str, as_json: bool) -> None:
    from relance.webhooks import service
    from relance.webhooks.schemas import WebhookEndpointPatch

    async def work(deployment: Deployment, unit: UnitOfWork) -> Any:
        company = await _owner(deployment, unit.conn, "webhook_endpoints", endpoint_id)
        patch = WebhookEndpointPatch(status=status)  # type: ignore[arg-type]
        return await service.update_endpoint(
            unit.conn, deployment.ids, company, endpoint_id, patch, True
        )

    view = _run(work)
    _show(view, as_json, f"endpoint {view.id} {view.status}")


@webhooks_app.command("disable")
def disable(endpoint_id: EndpointId, as_json: JsonFlag = False) -> None:
    """Disable an endpoint: what it is still owed fails (recover re-sends it)."""
    _set_status(endpoint_id, "disabled", as_json)


@webhooks_app.command("enable")
def enable(endpoint_id: EndpointId, as_json: JsonFlag = False) -> None:
    """Enable an endpoint again: it receives the events that follow."""
    _set_status(endpoint_id, "enabled", as_json)


@webhooks_app.command("delete")
def delete(endpoint_id: EndpointId) -> None:
    """Delete an endpoint and its delivery log."""
    from relance.webhooks import service

    async def work(deployment: Deployment, unit: UnitOfWork) -> None:
        company = await _owner(deployment, unit.conn, "webhook_endpoints", endpoint_id)
        await service.delete_endpoint(unit.conn, deployment.ids, company, endpoint_id)

    _run(work)
    out.print(f"endpoint {endpoint_id} deleted", highlight=False)


@webhooks_app.command("rotate-secret")
def rotate_secret(
    endpoint_id: EndpointId,
    expire_previous_in: Annotated[
        int,
        typer.Option(min=0, max=7 * 86_400, help="Seconds the previous secret still signs."),
    ] = 86_400,
    as_json: JsonFlag = False,
) -> None:
    """A new signing secret, shown this once; the previous one signs too for a while."""
    from relance.webhooks import service
    from relance.webhooks.schemas import RotateSecretBody

    async def work(deployment: Deployment, unit: UnitOfWork) -> Any:
        company = await _owner(deployment, unit.conn, "webhook_endpoints", endpoint_id)
        secrets = service.Secrets.of(deployment.keys)
        body = RotateSecretBody(expire_previous_in_seconds=expire_previous_in)
        return await service.rotate_secret(
            unit.conn, deployment.ids, secrets, company, endpoint_id, body
        )

    view = _run(work)
    _show(view, as_json, f"endpoint {view.id}: new secret  {view.secret}")


@webhooks_app.command("deliveries")
def list_deliveries(
    endpoint_id: EndpointId,
    status: Annotated[str | None, typer.Option(help="pending, succeeded or failed.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100, help="How many, newest first.")] = 20,
    as_json: JsonFlag = False,
) -> None:
    """An endpoint's deliveries, newest first."""
    from relance.webhooks import service

    params = {"limit": [str(limit)]} | ({"status": [status]} if status else {})

    async def work(deployment: Deployment, unit: UnitOfWork) -> list[Any]:
        company = await _owner(deployment, unit.conn, "webhook_endpoints", endpoint_id)
        found, _, _ = await service.list_deliveries(
            unit.conn, deployment.ids, company, endpoint_id, params
        )
        return found

    views = _run(work)
    if as_json:
        import msgspec

        print_json(msgspec.to_builtins(views))
        return
    for view in views:
        code = view.last_status_code if view.last_status_code is not None else "-"
        out.print(
            f"{view.id}  {view.event_type:<20} {view.status:<9} attempts {view.attempt_count}"
            f"  last {code}  {view.created_at}",
            highlight=False,
        )


@webhooks_app.command("retry")
def retry(delivery_id: DeliveryId, as_json: JsonFlag = False) -> None:
    """One more attempt of a delivery, now."""
    from relance.webhooks import service

    async def work(deployment: Deployment, unit: UnitOfWork) -> Any:
        company = await _owner(deployment, unit.conn, "webhook_deliveries", delivery_id)
        return await service.retry_delivery(unit.conn, deployment.ids, company, delivery_id)

    view = _run(work)
    _show(view, as_json, f"delivery {view.id} queued")


def worker_command(
    public_url: Annotated[
        str | None,
        typer.Option(help="Where media links in events point; default RELANCE_PUBLIC_URL."),
    ] = None,
    metrics_host: Annotated[
        str, typer.Option(help="Address of its /metrics when RELANCE_METRICS_PORT is set.")
    ] = "127.0.0.1",
    exit_with: Annotated[int | None, typer.Option(hidden=True)] = None,
) -> None:
    """Deliver webhooks until stopped (SIGINT or SIGTERM). Any number of workers share the work
    on PostgreSQL; the embedded SQLite deployment runs one (`relance serve` starts it)."""
    import logging.config

    from relance.cli.serving import log_format
    from relance.observability.logs import logging_config
    from relance.webhooks.running import FALLBACK_PUBLIC_URL, run_worker

    config = settings()
    logging.config.dictConfig(logging_config(log_format(config), config.log_level))
    base = public_url or config.public_url or FALLBACK_PUBLIC_URL
    # The delivery process of a `relance serve` (exit_with) is counted on the server's port.
    if config.metrics_port is not None and exit_with is None:
        from relance.observability.exposition import serve_metrics_port

        serve_metrics_port(metrics_host, config.metrics_port)

    async def work(deployment: Deployment) -> None:
        await run_worker(deployment, base, exit_with)

    with_deployment(work)


from relance.cli.listen import listen  # noqa: E402

webhooks_app.command("listen")(listen)
