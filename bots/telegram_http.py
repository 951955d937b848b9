"""python-telegram-bot's HTTP requests through aiohttp.

PTB sends every Bot API call through a `BaseRequest`; its default (httpx over anyio) cost
about 0.8 ms of CPU per call here, aiohttp's C parser about 0.3-0.4 ms (bench_telegram.py),
and a guided update is two calls (the getUpdates that brought it and the reply). Errors map
as PTB's own request does: a timeout is `TimedOut`, any other transport error
`NetworkError`; HTTP status codes are turned into PTB's errors by `BaseRequest` itself.
"""

from __future__ import annotations

import urllib.request
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_DEFAULT = BaseRequest.DEFAULT_NONE
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class AiohttpRequest(BaseRequest):
    """One connection pool; its session opens in `initialize` (inside the running loop).

    aiohttp has no write timeout: `write_timeout` is accepted and not applied. Proxies come
    from the environment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), as with PTB's default request,
    read once per host: aiohttp's own `trust_env` reads them (and ~/.netrc) in a thread on
    every call, which cost more than the call itself.
    """

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read = read_timeout
        self._connect = connect_timeout
        self._pool = pool_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str], str | None] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}
            )

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = _DEFAULT,
        write_timeout: Any = _DEFAULT,
        connect_timeout: Any = _DEFAULT,
        pool_timeout: Any = _DEFAULT,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        read = self._read if read_timeout is _DEFAULT else read_timeout
        connect = self._connect if connect_timeout is _DEFAULT else connect_timeout
        pool = self._pool if pool_timeout is _DEFAULT else pool_timeout
        # aiohttp's `connect` covers waiting for a free connection and opening one.
        waiting = None if connect is None or pool is None else connect + pool
        timeout = aiohttp.ClientTimeout(
            total=None, connect=waiting, sock_connect=connect, sock_read=read
        )
        data, headers = _body(request_data)
        try:
            async with self._session.request(
                method, url, data=data, headers=headers, timeout=timeout, proxy=self._proxy(url)
            ) as response:
                return response.status, await response.read()
        except TimeoutError as err:  # aiohttp's timeouts are TimeoutErrors too
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err

    def _proxy(self, url: str) -> str | None:
        """The proxy the environment names for this URL's scheme and host, if any."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "")
        if key not in self._proxies:
            proxy = urllib.request.getproxies().get(parts.scheme)
            if proxy and urllib.request.proxy_bypass(key[1]):
                proxy = None
            self._proxies[key] = proxy
        return self._proxies[key]


def _body(
    request_data: RequestData | None,
) -> tuple[aiohttp.FormData | bytes | None, dict[str, str] | None]:
    """The call's parameters as a form (and its headers); multipart when it carries files.
    A plain form is encoded here: aiohttp's FormData took about a third of a call's CPU."""
    if request_data is None:
        return None, None
    parameters = request_data.json_parameters
    if not request_data.contains_files:
        return (urlencode(parameters).encode(), FORM) if parameters else (None, None)
    # Names as they are (UTF-8), as PTB's default request sends them: quoted, "résumé.pdf"
    # would reach Telegram as "r%C3%A9sum%C3%A9.pdf".
    form = aiohttp.FormData(quote_fields=False)
    for name, value in parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mime) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mime)
    return form, None
