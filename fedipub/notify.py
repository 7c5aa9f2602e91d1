"""Telling the admin of new comments, followers, mentions and reports: a webhook (JSON POST)
and/or an email. Best effort, off the inbox's path: a failure is logged, never raised."""

from __future__ import annotations

import asyncio
import logging
import smtplib
from email.message import EmailMessage

import orjson

from fedipub.client import GuardedClient
from fedipub.config import Settings
from fedipub.errors import DeliveryError, FetchError
from fedipub.types import Notification

log = logging.getLogger("fedipub.notify")
SMTP_TIMEOUT = 15.0


def build_email(settings: Settings, notification: Notification) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"[{settings.domain}] {notification.title}"
    message["From"] = settings.smtp_from or f"fedipub@{settings.domain.split(':')[0]}"
    message["To"] = settings.notify_email or ""
    message.set_content(
        f"{notification.title}\n\n{notification.url}\n\nFrom: {notification.actor}\n"
    )
    return message


def _send_email(settings: Settings, message: EmailMessage) -> None:
    assert settings.smtp_host is not None
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(message)


class Notifier:
    def __init__(self, settings: Settings, client: GuardedClient) -> None:
        self._settings = settings
        self._client = client
        self._tasks: set[asyncio.Task[None]] = set()

    async def __call__(self, notification: Notification) -> None:
        """Queue the notification and return at once."""
        if not (self._settings.notify_webhook_url or self._settings.notify_email):
            return
        task = asyncio.create_task(self._send(notification))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for notifications in flight (shutdown, tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))

    async def _send(self, notification: Notification) -> None:
        url = self._settings.notify_webhook_url
        if url:
            body = orjson.dumps(
                {
                    "kind": notification.kind,
                    "title": notification.title,
                    "url": notification.url,
                    "actor": notification.actor,
                }
            )
            try:
                response = await self._client.post(
                    url, body, headers={"content-type": "application/json"}
                )
                if response.status >= 300:
                    log.warning("webhook %s answered %d", url, response.status)
            except (DeliveryError, FetchError) as exc:
                log.warning("webhook %s failed: %s", url, exc)
        if self._settings.notify_email and self._settings.smtp_host:
            message = build_email(self._settings, notification)
            try:
                await asyncio.to_thread(_send_email, self._settings, message)
            except (OSError, smtplib.SMTPException) as exc:
                log.warning("email to %s failed: %s", self._settings.notify_email, exc)
