"""How the demo book's followups turn out: the reminder plan every debt follows, the outcomes
each channel can have and how often, and the summary, notes, disconnection reason, recording
length and letter that fit each type and status (shared with bench/generate.py)."""

from __future__ import annotations

from relance.followups.enums import FollowupStatus as S
from relance.followups.enums import FollowupType as T

PLAN: tuple[tuple[int, T, bool], ...] = (
    (0, T.EMAIL, False),
    (3, T.SMS, False),
    (6, T.CALL, False),
    (8, T.CALL, True),
    (11, T.WHATSAPP, False),
    (14, T.VOICEMAIL, False),
    (18, T.EMAIL, False),
    (24, T.POSTMAIL, False),
    (31, T.MANUAL_CALL, False),
    (38, T.CALL, False),
    (52, T.PHYSICAL, False),
)
# Human calls (and the benchmark's calls): a person either talks with the agent or does not.
CALL_OUTCOMES = (
    (S.NO_ANSWER, 40),
    (S.DEAL_FOUND, 20),
    (S.DEAL_NOT_FOUND, 22),
    (S.BAD_BEHAVIOR, 5),
    (S.FAILED, 8),
)
# The AI agent's calls also end `delivered`: the debtor picked up and heard the reminder (amount,
# due date, payment link) without negotiating.
AI_CALL_OUTCOMES = (
    (S.NO_ANSWER, 34),
    (S.DELIVERED, 18),
    (S.DEAL_FOUND, 17),
    (S.DEAL_NOT_FOUND, 19),
    (S.BAD_BEHAVIOR, 4),
    (S.FAILED, 8),
)
VISIT_OUTCOMES = (
    (S.NO_ANSWER, 35),
    (S.DEAL_FOUND, 30),
    (S.DEAL_NOT_FOUND, 30),
    (S.BAD_BEHAVIOR, 5),
)
MESSAGE_OUTCOMES = {
    T.EMAIL: ((S.DELIVERED, 75), (S.SENT, 15), (S.FAILED, 10)),
    T.SMS: ((S.DELIVERED, 82), (S.SENT, 10), (S.FAILED, 8)),
    T.WHATSAPP: ((S.DELIVERED, 70), (S.SENT, 20), (S.FAILED, 10)),
    T.VOICEMAIL: ((S.DELIVERED, 85), (S.FAILED, 15)),
    T.POSTMAIL: ((S.DELIVERED, 60), (S.SENT, 37), (S.FAILED, 3)),
}
OUTCOMES = {
    T.CALL: AI_CALL_OUTCOMES,
    T.MANUAL_CALL: CALL_OUTCOMES,
    T.PHYSICAL: VISIT_OUTCOMES,
    **MESSAGE_OUTCOMES,
}

Text = tuple[str, str | None]  # a summary and the notes that go with it
_PAYMENT_PLAN = "Three monthly instalments, the first one next month"
_DISPUTE = "Debtor disputes part of the invoice; send the detailed statement"
_FLAG = "Flag the file for a human agent before any new call"
_CONVERSATION: dict[S, tuple[Text, ...]] = {
    S.DEAL_FOUND: (
        ("Successfully contacted debtor", "Customer agreed to payment plan starting next month"),
        ("Debtor agreed to pay in full", "Debtor will pay through the payment link this week"),
        ("Payment plan agreed", _PAYMENT_PLAN),
    ),
    S.DEAL_NOT_FOUND: (
        ("Debtor contests the amount", _DISPUTE),
        ("Debtor cannot pay for now", "Debtor is out of work; call back in a month"),
        ("Debtor asked to be called back later", "Debtor was busy; call back in the evening"),
    ),
    S.NO_ANSWER: (
        ("No answer", None),
        ("Debtor did not pick up", None),
        ("The line rang out", None),
    ),
    S.BAD_BEHAVIOR: (
        ("Debtor was aggressive and hung up", _FLAG),
        ("Debtor insulted the agent", _FLAG),
    ),
    S.FAILED: (
        ("Call could not be placed", None),
        ("Call dropped before connecting", None),
    ),
}
_AI_CALL: dict[S, tuple[Text, ...]] = {
    **_CONVERSATION,
    S.DELIVERED: (
        ("Reminder delivered; the debtor listened to the end", None),
        ("Reminder delivered and the payment link sent", None),
        ("Debtor heard the reminder and asked for the payment link", None),
    ),
}
_VISIT: dict[S, tuple[Text, ...]] = {
    S.DEAL_FOUND: (
        ("Met the debtor, who agreed to pay in full", "Debtor will pay through the payment link"),
        ("Payment plan agreed on the doorstep", _PAYMENT_PLAN),
    ),
    S.DEAL_NOT_FOUND: (
        ("Met the debtor, who contests the amount", _DISPUTE),
        ("Met the debtor, who cannot pay for now", "Debtor is out of work; visit again in a month"),
    ),
    S.NO_ANSWER: (
        ("Nobody at the address", "Notice of visit left in the letterbox"),
        ("Nobody answered the door", None),
    ),
    S.BAD_BEHAVIOR: (
        (
            "Debtor refused to talk and shut the door",
            "Hand the file to the legal team before any new visit",
        ),
    ),
}
_MESSAGES: dict[T, dict[S, tuple[Text, ...]]] = {
    T.EMAIL: {
        S.DELIVERED: (("Reminder email delivered", None),),
        S.SENT: (("Reminder email sent; no delivery receipt yet", None),),
        S.FAILED: (("Reminder email bounced", None),),
    },
    T.SMS: {
        S.DELIVERED: (("Payment reminder SMS delivered", None),),
        S.SENT: (("SMS sent; no delivery receipt yet", None),),
        S.FAILED: (("SMS could not be delivered", None),),
    },
    T.WHATSAPP: {
        S.DELIVERED: (("WhatsApp reminder delivered", None),),
        S.SENT: (("WhatsApp reminder sent, not yet delivered", None),),
        S.FAILED: (("WhatsApp reminder could not be delivered", None),),
    },
    T.VOICEMAIL: {
        S.DELIVERED: (("Reminder left on the debtor's voicemail", None),),
        S.FAILED: (("Voicemail drop failed", None),),
    },
    T.POSTMAIL: {
        S.DELIVERED: (("Formal notice delivered by post", None),),
        S.SENT: (("Formal notice posted", None),),
        S.FAILED: (("Letter returned to sender", None),),
    },
}
_NOT_CARRIED_OUT: dict[S, tuple[Text, ...]] = {
    S.CANCELLED: (("Cancelled: the debt was paid", None),),
    S.ON_HOLD: (("On hold while the debtor's dispute is reviewed", None),),
}
# Every summary a followup of a type and status may carry, with its notes; a status missing
# from its type's table (scheduled, in progress) has no summary yet.
TEXTS: dict[T, dict[S, tuple[Text, ...]]] = {
    T.CALL: {**_AI_CALL, **_NOT_CARRIED_OUT},
    T.MANUAL_CALL: {**_CONVERSATION, **_NOT_CARRIED_OUT},
    T.PHYSICAL: {**_VISIT, **_NOT_CARRIED_OUT},
    **{kind: {**table, **_NOT_CARRIED_OUT} for kind, table in _MESSAGES.items()},
}
# The summaries of calls by outcome, for bench/generate.py.
SUMMARIES = {
    status: tuple(summary for summary, _ in texts) for status, texts in _CONVERSATION.items()
}
DISCONNECTIONS = {
    S.DEAL_FOUND: ("completed_successfully", "agent_hangup"),
    S.DEAL_NOT_FOUND: ("completed_successfully", "user_hangup"),
    S.NO_ANSWER: ("dial_no_answer", "dial_busy", "voicemail_reached"),
    S.BAD_BEHAVIOR: ("user_hangup",),
    S.FAILED: ("dial_failed", "invalid_destination", "error_llm_websocket_open"),
}
DELIVERED_CALL_ENDS = ("completed_successfully", "user_hangup")
FAILED_DELIVERY = {
    T.EMAIL: ("hard_bounce", "invalid_destination"),
    T.SMS: ("invalid_destination", "carrier_rejected"),
    T.WHATSAPP: ("invalid_destination", "not_on_whatsapp"),
    T.POSTMAIL: ("address_unknown", "refused_by_recipient"),
}
CALLS = {T.CALL, T.MANUAL_CALL}
# How long, in seconds, the recorded followups last: each length is one of the demo's
# recordings (human calls are not recorded, and a call that reached nobody has no recording).
RECORDED_SECONDS: dict[tuple[T, S], tuple[int, ...]] = {
    (T.CALL, S.DELIVERED): (16, 22, 27),
    (T.CALL, S.DEAL_FOUND): (27, 33, 40),
    (T.CALL, S.DEAL_NOT_FOUND): (22, 33, 40),
    (T.CALL, S.BAD_BEHAVIOR): (11, 16),
    (T.VOICEMAIL, S.DELIVERED): (11, 16, 22),
}
# Letters that went out carry the notice as a PDF.
LETTERS = {(T.POSTMAIL, S.SENT), (T.POSTMAIL, S.DELIVERED)}
