"""Documents a person sends to the bot: fetched from Telegram (getFile) inside their turn.

The bytes go to the engine, which checks them (size, type by content) and keeps them in the
person's own folder (agent/usecases/evidence.py `save_upload`); nothing here writes a file.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from agent.store import Upload

if TYPE_CHECKING:
    from telegram import Bot as TelegramBot
    from telegram import Document

log = logging.getLogger(__name__)


async def fetch(bot: TelegramBot, document: Document, limit: int) -> tuple[Upload | None, str]:
    """The document's content, or None and why it was not fetched (too large, unavailable)."""
    from telegram.error import TelegramError

    name = document.file_name or "file"
    size = document.file_size or 0
    if size > limit:
        return None, f"it is {size / 1e6:.1f} MB, over the {limit / 1e6:g} MB limit"
    try:
        file = await bot.get_file(document.file_id)
        data = bytes(await file.download_as_bytearray())
    except TelegramError as exc:
        log.warning("could not download a document: %s", type(exc).__name__)
        return None, "I could not download it from Telegram; please send it again"
    if len(data) > limit:
        return None, f"it is {len(data) / 1e6:.1f} MB, over the {limit / 1e6:g} MB limit"
    return Upload(name=name, data=data), ""
