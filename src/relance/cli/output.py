"""What every command prints through: the consoles, failing with a message, JSON output.

The client-side commands (`relance followups ...`) run where only the client is installed, so
this module loads typer, rich and the standard library, nothing of the server."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

out = Console()
err = Console(stderr=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document, nothing else.")]


def fail(message: str, code: int = 1) -> NoReturn:
    # Unwrapped: the terminal wraps it, without cutting a path or a command in two.
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def print_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
