"""What `relance followups sync` does once its options are read: open the target, run the sync
with the API's errors turned into messages and exit codes, print what was done."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from relance.cli.output import err, fail, print_json
from relance.cli.sync.run import Options, Summary, Sync
from relance.cli.sync.targets import TargetError, open_target

EXIT_TARGET = 2  # the target cannot be used as it is (the message says why)
EXIT_INTERRUPTED = 130  # stopped before it caught up (not following)


def sync_into(
    into: str,
    *,
    base_url: str | None,
    follow: bool,
    media_dir: Path | None,
    include_media: bool,
    page_size: int,
    as_json: bool,
) -> None:
    from relance.cli.followups import api_calls
    from relance.client import BadRequestError

    if media_dir is not None and not include_media:
        fail("--with-media needs the media URLs: leave out --no-media-urls", EXIT_TARGET)
    options = Options(
        follow=follow,
        page_size=page_size,
        include_media=include_media,
        media_dir=media_dir,
        # The client the credentials name, as the client reads them.
        client_id=os.environ.get("RELANCE_CLIENT_ID", ""),
    )
    target = open_target(into)
    try:
        with api_calls(base_url) as client:
            try:
                summary = Sync(client, target, options, err).run()
            except BadRequestError as exc:
                if "cursor" not in exc.details:
                    raise
                fail(
                    f"the API refused the cursor stored in {target.name}: it was made with"
                    " another company's credentials, or against another deployment; sync"
                    " into another target",
                    1,
                )
    except TargetError as exc:
        fail(str(exc), EXIT_TARGET)
    finally:
        target.close()
    report(summary, follow=follow, as_json=as_json)


def report(summary: Summary, *, follow: bool, as_json: bool) -> None:
    if as_json:
        print_json(summary.document())
    else:
        done = f"{summary.changes_applied} changes applied"
        if summary.exported or summary.restarted_from_export:
            done = f"{summary.exported} followups exported, {done}"
        if summary.media_downloaded or summary.media_failed:
            done += f", {summary.media_downloaded} media files downloaded"
            if summary.media_failed:
                done += f" ({summary.media_failed} could not be)"
        err.print(f"{done} into {summary.target}", highlight=False, soft_wrap=True)
    if summary.interrupted and not follow:
        err.print("stopped: the mirror holds what was applied up to its stored cursor")
        raise typer.Exit(EXIT_INTERRUPTED)
