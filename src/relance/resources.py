"""The kinds of thing a public ID names: the tag the ID codec (kit.ids) seals into each ID, so
that a debt's ID is never taken for a followup's."""

from __future__ import annotations

import enum


class Resource(enum.IntEnum):
    FOLLOWUP = 1
    DEBT = 2
    COMPANY = 3
    EVENT = 4
    WEBHOOK_ENDPOINT = 5
    WEBHOOK_DELIVERY = 6
    DEBT_BATCH = 7
    DEBTOR = 8
    CREDITOR = 9
