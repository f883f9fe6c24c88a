"""DoH over HTTP/2 with the sans-I/O `h2` library (aiohttp serves HTTP/1.1 only).

One `H2Protocol` per TLS connection whose ALPN chose `h2`: each request stream (headers, then
body up to 64 KiB) is answered through `Respond` in its own task; at most
`PER_CONNECTION_INFLIGHT` streams at once (SETTINGS_MAX_CONCURRENT_STREAMS); replies larger
than the flow-control window wait for WINDOW_UPDATE. A connection without a request in flight
for the idle timeout is closed with GOAWAY, like an idle TCP connection.
"""

from __future__ import annotations

import asyncio
import logging

from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import (
    ConnectionTerminated,
    DataReceived,
    RequestReceived,
    StreamEnded,
    StreamReset,
    WindowUpdated,
)
from h2.exceptions import H2Error

from dns_resolver.doh import MAX_MESSAGE, DohReply, Respond
from dns_resolver.server import PER_CONNECTION_INFLIGHT

log = logging.getLogger("roja.dns.doh")


class H2Protocol(asyncio.Protocol):
    def __init__(self, respond: Respond, client: str, idle_timeout: float) -> None:
        self.respond = respond
        self.client = client
        self.idle_timeout = idle_timeout
        self.conn = H2Connection(H2Configuration(client_side=False, header_encoding="utf-8"))
        self.transport: asyncio.Transport | None = None
        self.requests: dict[int, tuple[dict[str, str], bytearray]] = {}
        self.outgoing: dict[int, bytes] = {}       # reply bytes waiting for window
        self.tasks: set[asyncio.Task[None]] = set()
        self.idle: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport   # type: ignore[assignment]
        self.conn.local_settings.max_concurrent_streams = PER_CONNECTION_INFLIGHT
        self.conn.initiate_connection()
        self._flush()
        self._arm()

    def _arm(self) -> None:
        if self.idle is not None:
            self.idle.cancel()
        self.idle = asyncio.get_running_loop().call_later(self.idle_timeout, self._on_idle)

    def _on_idle(self) -> None:
        if self.tasks or self.outgoing:
            self._arm()
            return
        self.conn.close_connection()
        self._flush()
        if self.transport is not None:
            self.transport.close()

    def _flush(self) -> None:
        data = self.conn.data_to_send()
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        self._arm()
        try:
            events = self.conn.receive_data(data)
        except H2Error:
            self._flush()
            if self.transport is not None:
                self.transport.close()
            return
        for event in events:
            if isinstance(event, RequestReceived) and event.stream_id is not None:
                headers = {str(k): str(v) for k, v in event.headers or ()}
                self.requests[event.stream_id] = (headers, bytearray())
            elif isinstance(event, DataReceived) and event.stream_id is not None:
                entry = self.requests.get(event.stream_id)
                self.conn.acknowledge_received_data(event.flow_controlled_length,
                                                    event.stream_id)
                if entry is not None:
                    entry[1].extend(event.data or b"")
                    if len(entry[1]) > MAX_MESSAGE + 1:
                        del self.requests[event.stream_id]
                        self.conn.reset_stream(event.stream_id)
            elif isinstance(event, StreamEnded) and event.stream_id is not None:
                entry = self.requests.pop(event.stream_id, None)
                if entry is not None:
                    task = asyncio.get_running_loop().create_task(
                        self._answer(event.stream_id, *entry))
                    self.tasks.add(task)
                    task.add_done_callback(self.tasks.discard)
            elif isinstance(event, StreamReset) and event.stream_id is not None:
                self.requests.pop(event.stream_id, None)
                self.outgoing.pop(event.stream_id, None)
            elif isinstance(event, WindowUpdated):
                for stream_id in list(self.outgoing):
                    self._send_body(stream_id)
            elif isinstance(event, ConnectionTerminated) and self.transport is not None:
                self.transport.close()
        self._flush()

    async def _answer(self, stream_id: int, headers: dict[str, str], body: bytearray) -> None:
        try:
            reply = await self.respond(headers.get(":method", ""), headers.get(":path", ""),
                                       bytes(body), headers.get("content-type", ""),
                                       self.client)
        except Exception:
            log.exception("DoH request failed")
            reply = DohReply(500, b"internal error\n")
        if self.transport is None or self.transport.is_closing():
            return
        response = [(":status", str(reply.status)), ("content-type", reply.content_type),
                    ("content-length", str(len(reply.body)))]
        if reply.max_age is not None:
            response.append(("cache-control", f"max-age={reply.max_age}"))
        try:
            self.conn.send_headers(stream_id, response)
            self.outgoing[stream_id] = reply.body
            self._send_body(stream_id)
        except H2Error:   # the client reset the stream meanwhile
            self.outgoing.pop(stream_id, None)
        self._flush()

    def _send_body(self, stream_id: int) -> None:
        """Send as much of the waiting reply as the windows allow; the rest waits."""
        data = self.outgoing.get(stream_id)
        if data is None:
            return
        try:
            while True:
                room = min(self.conn.local_flow_control_window(stream_id),
                           self.conn.max_outbound_frame_size)
                if room <= 0 and data:
                    self.outgoing[stream_id] = data
                    return
                chunk, data = data[:room], data[room:]
                self.conn.send_data(stream_id, chunk, end_stream=not data)
                if not data:
                    del self.outgoing[stream_id]
                    return
        except H2Error:
            self.outgoing.pop(stream_id, None)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.idle is not None:
            self.idle.cancel()
        for task in self.tasks:
            task.cancel()
        self.transport = None
