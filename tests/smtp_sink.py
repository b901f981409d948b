"""
A real SMTP server on loopback that keeps what it accepts (aiosmtpd), for the e-mail worker tests
and bench/reminders.py.

A message counts as delivered only once the sink has answered "250" to its DATA, as with a real
mail server. The tests can make it refuse for a while (451, a temporary failure), refuse for
good, hold a message unanswered (to kill the worker while the server is taking it), or stall: take
its time before accepting each message, as a slow mail server does (up to EMAIL_TIMEOUT).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import multiprocessing
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import Message

from aiosmtpd.controller import Controller

from tests.servers import free_port

logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command at INFO

TEMPORARY_FAILURE = "451 4.3.0 Mail server busy, try again later"
NOT_ACCEPTED = "421 4.3.0 Closing: message not accepted"


class Sink:
    """aiosmtpd handler: records accepted messages; `refuse`, `hold_from`, `stall` steer it from the test."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[Message] = []
        self.refusals = 0  # DATA commands answered with a temporary failure
        self.refuse: int | float = 0  # refuse this many more messages (float("inf"): all of them)
        self.hold_from: int | None = None  # hold the message arriving when this many were accepted
        self.holding = threading.Event()  # set while a message is held unanswered
        self.release = threading.Event()  # lets the held message go (it is then not accepted)
        self.stall: float = 0  # seconds to wait before accepting each message ("250")

    async def handle_DATA(self, server, session, envelope) -> str:
        with self._lock:
            if self.refuse:
                self.refuse -= 1
                self.refusals += 1
                return TEMPORARY_FAILURE
            hold = self.hold_from is not None and len(self._messages) >= self.hold_from
        if hold:
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)
            return NOT_ACCEPTED  # the client is gone by now; a real server would drop it too
        if self.stall:
            self.holding.set()
            await asyncio.sleep(self.stall)
        with self._lock:
            self._messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK: queued"

    @property
    def messages(self) -> list[Message]:
        with self._lock:
            return list(self._messages)

    def wait_for(self, count: int, *, timeout: float) -> list[Message]:
        """Wait (bounded) until at least `count` messages were accepted; return them all."""
        return (
            wait_until(lambda: len(self.messages) >= count, timeout=timeout, what=f"{count} e-mails")
            and self.messages
        )


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str, every: float = 0.05) -> bool:
    """Poll `condition` until true; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Gave up after {timeout}s waiting for {what}")
        time.sleep(every)
    return True


@contextmanager
def smtp_sink() -> Iterator[tuple[Sink, int]]:
    """A sink listening on a free loopback port, stopped afterwards; yields (sink, port)."""
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    try:
        yield sink, port
    finally:
        sink.release.set()
        controller.stop()


# --- A counting sink in a process of its own (bench/reminders.py) ---------------------------------


class _Counter:
    def __init__(self, count) -> None:
        self.count = count

    async def handle_DATA(self, server, session, envelope) -> str:
        with self.count.get_lock():
            self.count.value += 1
        return "250 OK: queued"


def _serve_counting(port: int, count, ready, stop) -> None:
    controller = Controller(_Counter(count), hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


@contextmanager
def counting_sink_process() -> Iterator[tuple[Callable[[], int], int]]:
    """A sink in its own process (so it does not share a CPU's GIL with the sender); yields (count, port)."""
    context = multiprocessing.get_context("spawn")
    count, ready, stop = context.Value("q", 0), context.Event(), context.Event()
    port = free_port()
    process = context.Process(target=_serve_counting, args=(port, count, ready, stop), daemon=True)
    process.start()
    try:
        if not ready.wait(20):
            raise RuntimeError("The SMTP sink process did not start")
        yield (lambda: count.value), port
    finally:
        stop.set()
        process.join(10)
        if process.is_alive():
            process.kill()
