"""The unit of work owns a write's transaction and runs what must follow its commit, on both
databases."""

from __future__ import annotations

import pytest

from relance.companies.repository import find_company_by_name
from relance.companies.service import create_company
from relance.runtime import Runtime
from relance.units import unit_of_work


class Undo(Exception):
    pass


async def test_after_commit_actions_see_the_committed_write(runtime: Runtime) -> None:
    seen: list[int | None] = []

    async def look() -> None:
        # Outside the transaction: only a committed company is found.
        seen.append(await find_company_by_name(runtime.db, "Committed SARL"))

    async with unit_of_work(runtime.db) as unit:
        created = (await create_company(unit.conn, "Committed SARL")).id
        unit.after_commit(look)
        assert seen == []

    assert seen == [created]


async def test_a_rolled_back_write_runs_no_action_and_leaves_nothing(runtime: Runtime) -> None:
    ran: list[str] = []

    async def action() -> None:
        ran.append("after commit")

    async def write() -> None:
        async with unit_of_work(runtime.db) as unit:
            await create_company(unit.conn, "Rolled Back SARL")
            unit.after_commit(action)
            raise Undo

    with pytest.raises(Undo):
        await write()

    assert ran == []
    assert await find_company_by_name(runtime.db, "Rolled Back SARL") is None


async def test_a_failing_action_is_logged_and_neither_undoes_nor_stops_the_rest(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []

    async def failing() -> None:
        raise RuntimeError("the workers could not be woken")

    async def next_one() -> None:
        ran.append("next")

    async with unit_of_work(runtime.db) as unit:
        created = (await create_company(unit.conn, "Kept SARL")).id
        unit.after_commit(failing)
        unit.after_commit(next_one)

    assert ran == ["next"]
    assert await find_company_by_name(runtime.db, "Kept SARL") == created
    assert "an action after a commit failed" in caplog.text
