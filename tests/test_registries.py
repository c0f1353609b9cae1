"""The registries the handler modules fill when imported: every session kind the bot writes
has a handler for typed messages, and every form has something to do on submit."""

from __future__ import annotations

import handlers  # noqa: F401  (importing the package imports, and so registers, every module)
from bot.forms import FORMS_DIR
from handlers.form_walk import ON_SUBMIT
from handlers.sessions import ROUTES


def test_every_session_kind_is_routed() -> None:
    assert sorted(ROUTES) == sorted(
        [
            "approve",
            "renew",
            "decline",
            "ask",
            "note",
            "task",
            "taskedit",
            "answer",
            "support",
            "assign",
            "feedback",
            "fbanswer",
            "followup",
            "activity",
            "activityedit",
        ]
    )
    # Only the family's answers (to a question, to the follow-up) and the feedback (a person's
    # walk; a trustee's answer, since a trustee need not be a member and is checked by the
    # handler) may come from someone who is not a member.
    assert sorted(kind for kind, target in ROUTES.items() if not target.members_only) == [
        "answer",
        "fbanswer",
        "feedback",
        "followup",
    ]


def test_every_form_has_a_submit() -> None:
    assert sorted(ON_SUBMIT) == sorted(p.stem for p in FORMS_DIR.glob("*.toml"))
