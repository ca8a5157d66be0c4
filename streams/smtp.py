"""Sending email through the cooperative's SMTP server, named by `CAE_SMTP_URL` (issue 17).

`smtp://host:port` (STARTTLS when the server offers it), `smtps://user:password@host:465` (TLS
from the start); a user and password log in. The password is never printed: errors name the
server as `host:port` only. One connection serves a whole batch (10,000 convocations).
"""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

SENDER = "CAE_MAIL_FROM"
DEFAULT_SENDER = "cae@localhost"


class MailError(ConnectionError):
    """The server cannot be reached or refused us: one line, without the password."""


@dataclass(frozen=True, slots=True)
class SmtpServer:
    host: str
    port: int
    tls: bool
    user: str | None
    password: str | None

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def server_from_url(url: str | None = None) -> SmtpServer:
    url = url or os.environ.get("CAE_SMTP_URL")
    if not url:
        raise MailError("no SMTP server: set CAE_SMTP_URL, such as smtp://127.0.0.1:2525")
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise MailError("CAE_SMTP_URL must be smtp://host:port or smtps://user:password@host:465")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
    except ValueError:
        raise MailError("CAE_SMTP_URL has a port that is not a number") from None
    return SmtpServer(parts.hostname, port, parts.scheme == "smtps",
                      unquote(parts.username) if parts.username else None,
                      unquote(parts.password) if parts.password else None)


@contextmanager
def connection(server: SmtpServer) -> Iterator[smtplib.SMTP]:
    try:
        smtp = (smtplib.SMTP_SSL(server.host, server.port, context=ssl.create_default_context(), timeout=30)
                if server.tls else smtplib.SMTP(server.host, server.port, timeout=30))
        with smtp:
            if not server.tls and smtp.has_extn("starttls"):
                smtp.starttls(context=ssl.create_default_context())
            if server.user:
                smtp.login(server.user, server.password or "")
            yield smtp
    except smtplib.SMTPAuthenticationError:
        raise MailError(f"SMTP server {server.where} refused the login of {server.user}") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"SMTP server {server.where}: {type(exc).__name__}: "
                        f"{str(exc).replace(server.password or chr(0), '***')}") from None


def message(to: str, subject: str, text: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = os.environ.get(SENDER, DEFAULT_SENDER)
    mail["To"] = to
    mail["Subject"] = subject
    mail.set_content(text)
    return mail
