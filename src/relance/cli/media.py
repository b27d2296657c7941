"""`relance media attach`: store a recording or a document and attach it to a followup."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from relance.cli.common import JsonFlag, fail, out, print_json, settings, with_deployment

if TYPE_CHECKING:
    from relance.runtime import Deployment

media_app = typer.Typer(no_args_is_help=True, help="Call recordings and documents.")

MediaFile = Annotated[Path | None, typer.Option(dir_okay=False, help="The file to attach.")]
# The local store's URLs name the address clients reach Relance at; the CLI has no request
# to take it from.
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


@media_app.command("attach")
def attach(
    followup_id: Annotated[str, typer.Argument(help="The followup's ID.")],
    audio: MediaFile = None,
    pdf: MediaFile = None,
    as_json: JsonFlag = False,
) -> None:
    """Attach a call recording (--audio: mp3, wav, ogg, m4a) or a document (--pdf)."""
    import time

    import msgspec

    from relance.errors import AppError
    from relance.followups.attachments import point_at, store_for_followup
    from relance.media.kinds import MediaKind
    from relance.media.links import MediaLinks
    from relance.units import unit_of_work

    if (audio is None) == (pdf is None):
        fail("give one file: --audio FILE or --pdf FILE", 2)
    kind, path = (MediaKind.AUDIO, audio) if audio is not None else (MediaKind.PDF, pdf)
    assert path is not None
    config = settings()
    base_url = config.public_url or DEFAULT_PUBLIC_URL

    async def work(deployment: Deployment) -> dict[str, Any]:
        links = MediaLinks(deployment.media, base_url, config.media_url_ttl_seconds, time.time())
        stored = await store_for_followup(deployment, followup_id, kind, path)
        async with unit_of_work(deployment.db) as unit:
            view = await point_at(unit.conn, deployment.ids, stored, links, deployment.events)
        shown: dict[str, Any] = msgspec.to_builtins(view)
        return shown

    try:
        followup = with_deployment(work)
    except AppError as exc:
        problems = [p for ps in (exc.details or {}).values() for p in ps]
        fail("; ".join(problems) or exc.message, 1)
    except Exception as exc:
        if type(exc).__module__.startswith(("botocore", "boto3")):
            fail(f"the media store refused the file: {exc}")
        raise
    if as_json:
        print_json(followup)
        return
    url = followup[kind.column]
    out.print(f"attached to followup {followup['id']}: {url}", highlight=False, soft_wrap=True)
    out.print(f"this URL expires at {followup['media_urls_expire_at']}", highlight=False)
