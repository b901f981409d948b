"""Run calls at the same instant in real threads, each with its own database connection."""

import threading

from django.db import connection


def race(calls) -> list[object]:
    """Call each of `calls` in its own thread, all released together by a barrier; return each
    outcome (its result, or the exception it raised), in order."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)

    def racer(index, call):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = call()
        except Exception as exc:  # noqa: BLE001 — every outcome is inspected by the caller
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=racer, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes
