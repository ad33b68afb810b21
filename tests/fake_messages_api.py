"""A stand-in for the Anthropic Messages API on 127.0.0.1, for the real SDK to talk to.

It speaks just enough of the API for ``Anthropic().messages.create``: ``POST /v1/messages`` with
a JSON body answers with a message object, or with an error object and the status the test asked
for. Error answers carry ``retry-after-ms`` so the SDK's own retries wait milliseconds, not
seconds. It counts requests and the most that were in flight at once, and keeps every request's
body and credentials so a test can check what the SDK sent.

Used by tests/test_synthesize_paraphrases.py and benchmarks/bench_synth.py; ``python tests/fake_messages_api.py``
runs one in the foreground (see ``--help``).
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

Reply = Callable[[dict[str, Any]], str]

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
_SEED = re.compile(r"Rewrite the message below (\d+) ways\..*?\n\nSeed: (.*)\Z", re.S)


def prompt_of(body: dict[str, Any]) -> str:
    """The text of the request's first user message."""
    content = body["messages"][0]["content"]
    if isinstance(content, str):
        return content
    return "".join(block.get("text", "") for block in content)


def numbered_rewrites(body: dict[str, Any]) -> str:
    """The default answer: as many numbered, distinct lines as the paraphrase prompt asks for."""
    match = _SEED.search(prompt_of(body))
    if match is None:
        return "1. A rewrite."
    n, seed = int(match.group(1)), " ".join(match.group(2).split())
    return "\n".join(f"{i}. Rewrite {i} of: {seed}" for i in range(1, n + 1))


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    body: dict[str, Any]
    credential: str


class FakeMessagesAPI:
    """Start with ``with FakeMessagesAPI(...) as api:``; point the SDK at ``api.url``.

    ``reply``: the answer text, or a function of the request body that returns it.
    ``statuses``: error statuses for the first requests, one per request, in order; later
    requests succeed. ``always``: a status every request gets. ``status_of``: a function of the
    request body giving its error status, or ``None`` to answer it. ``delay``: seconds each
    request takes, spent while counted as in flight. ``malformed``: ``(content type, body)`` sent
    with status 200 instead of a message, as a broken proxy or gateway would (invalid JSON, an
    HTML page, ``{}``).
    """

    def __init__(
        self,
        reply: str | Reply = numbered_rewrites,
        *,
        statuses: Sequence[int] = (),
        always: int | None = None,
        status_of: Callable[[dict[str, Any]], int | None] | None = None,
        delay: float = 0.0,
        stop_reason: str = "end_turn",
        malformed: tuple[str, bytes] | None = None,
    ) -> None:
        self.reply = reply
        self.statuses = list(statuses)
        self.always = always
        self.status_of = status_of
        self.delay = delay
        self.stop_reason = stop_reason
        self.malformed = malformed
        self.seen: list[Seen] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.seen)

    def start(self) -> FakeMessagesAPI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeMessagesAPI:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # Called from the handler threads.

    def _begin(self, body: dict[str, Any], credential: str) -> int | None:
        with self._lock:
            self.seen.append(Seen(body, credential))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            if self.always is not None:
                return self.always
            if self.statuses:
                return self.statuses.pop(0)
        return self.status_of(body) if self.status_of else None

    def _end(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _answer(self, body: dict[str, Any]) -> dict[str, Any]:
        text = self.reply(body) if callable(self.reply) else self.reply
        with self._lock:
            number = len(self.seen)
        return {
            "id": f"msg_fake{number:06d}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": [{"type": "text", "text": text}],
            "stop_reason": self.stop_reason,
            "stop_sequence": None,
            "usage": {"input_tokens": len(prompt_of(body)) // 4, "output_tokens": len(text) // 4},
        }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # a benchmark opens dozens of connections at once


def _handler_for(api: FakeMessagesAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else delayed ACKs add ~40 ms to a kept-alive request

        def log_message(self, format: str, *args: Any) -> None:
            """Silent: the tests assert on what the client shows, not on a server log."""

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.send_header("request-id", f"req_fake_{status}")
            if status >= 400:
                self.send_header("retry-after-ms", "10")
            self.end_headers()
            self.wfile.write(data)

        def _send_raw(self, status: int, content_type: str, data: bytes) -> None:
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, message: str) -> None:
            kind = _ERROR_TYPES.get(status, "api_error")
            self._send(status, {"type": "error", "error": {"type": kind, "message": message}})

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length)
            if self.path.split("?")[0] != "/v1/messages":
                self._error(404, f"no route {self.path}")
                return
            try:
                body = json.loads(raw)
                assert isinstance(body["model"], str) and isinstance(body["max_tokens"], int)
                prompt_of(body)
            except (ValueError, KeyError, TypeError, IndexError, AssertionError):
                self._error(400, "body needs model, max_tokens and messages")
                return
            auth = self.headers.get("x-api-key") or self.headers.get("authorization") or ""
            status = api._begin(body, auth.removeprefix("Bearer ").strip())
            try:
                if api.delay:
                    time.sleep(api.delay)
                if status is None and api.malformed is not None:
                    self._send_raw(200, *api.malformed)
                elif status is None:
                    self._send(200, api._answer(body))
                else:
                    messages = {
                        401: "invalid x-api-key",
                        429: "Number of requests has exceeded your rate limit",
                    }
                    self._error(status, messages.get(status, "Internal server error"))
            finally:
                api._end()

        def do_GET(self) -> None:
            self._error(404, f"no route {self.path}")

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reply-file", type=Path, help="answer every request with this text")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds per request")
    args = parser.parse_args(argv)
    reply: str | Reply = (
        args.reply_file.read_text(encoding="utf-8") if args.reply_file else numbered_rewrites
    )
    api = FakeMessagesAPI(reply, delay=args.delay).start()
    print(f"ANTHROPIC_BASE_URL={api.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        api.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
