"""The typed context every handler receives: the person's language and the services."""

from __future__ import annotations

from typing import Any, cast

from telegram.ext import Application, CallbackContext, ExtBot

from bot.i18n import Translator
from bot.services import Services

SERVICES_KEY = "services"


class SanadContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """CallbackContext with the person loaded by the group -1 handler."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self.lang: str | None = None
        self.known: bool = False

    @property
    def services(self) -> Services:
        """The running bot's services."""
        return cast(Services, self.application.bot_data[SERVICES_KEY])

    @property
    def t(self) -> Translator:
        """The translator for this person's language."""
        return self.services.i18n.get(self.lang)
