"""Passwords in a server URL: never shown (`redact`, `HIDDEN`), never kept in a URL saved for next time
(`SECRET_KEYS`), and a user part whose password holds an unescaped @ refused (`check_user_part`)."""

from __future__ import annotations

import re
from urllib.parse import quote

import sqlalchemy as sa

from app.core.errors import ProjectError

# libpq's query options that hold a secret: shown as *** and never kept in a URL saved for next time.
# (`passfile` and `sslkey` name files, which are no secret, and a saved URL needs them to reconnect.)
SECRET_KEYS = ("password", "sslpassword")
HIDDEN = "***"
MARK = "CORROSCOPEHIDDENSECRET"  # a placeholder URL rendering does not percent-encode (*** it would)
# Every password this process was given in a URL: scrubbed from any driver message (`redact`), which
# could otherwise quote one back (a URL echoed in an error, a password taken for a host name).
_SECRETS: set[str] = set()


def redact(text: str) -> str:
    """`text` (a URL as typed, a driver's message) with every password in it shown as ***: the ones this
    process was given (`remember_secrets`), a URL's `user:password@` and its `password=` options."""
    # a longer one first (it may hold a shorter); one of 1-2 characters would mangle every word instead
    for secret in sorted((s for s in _SECRETS if len(s) > 2), key=len, reverse=True):
        text = text.replace(secret, HIDDEN).replace(quote(secret, safe=""), HIDDEN)
    text = re.sub(r"(://[^/?#@:]*:)[^/?#]*@", rf"\1{HIDDEN}@", text)  # up to the last @ of the netloc
    keys = "|".join(SECRET_KEYS)
    return re.sub(rf"\b((?:{keys})\s*=\s*)('[^']*'|[^\s&#]+)", rf"\1{HIDDEN}", text)


def check_user_part(target: str) -> None:
    """Refuse a URL whose user part holds more than one @ (an @ in the password not percent-encoded):
    it would be read as user `insp`, password `Wr` and host `ngPw77@host`, and the error would name a
    piece of the password. Nothing of the URL is echoed."""
    rest = target.split("://", 1)[1]
    netloc = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if netloc.count("@") > 1:
        raise ProjectError(
            "The URL's user part holds more than one @: percent-encode @ in the password as %40 "
            "(postgresql://user:pa%40ss@host/db), or keep the password in ~/.pgpass or PGPASSWORD"
        )


def remember_secrets(url: sa.URL) -> None:
    """Note the URL's passwords (`user:password@`, `?password=`), so `redact` scrubs them from messages."""
    for value in (url.password, *(url.query.get(k) for k in SECRET_KEYS)):
        for secret in (value,) if isinstance(value, str) else (value or ()):
            if secret:
                _SECRETS.add(str(secret))
