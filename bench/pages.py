"""
How close a cached explainer page comes to the cheapest possible Django response.

Serves the project with gunicorn on loopback (production settings, PostgreSQL and Redis from
DATABASE_URL / REDIS_URL, or a clinic_bench database and Redis database 14), then loads the FAQ page
and a bare view on the same server in short alternating rounds, so both see the same machine.
Prints requests per second, their ratio (the target is 0.8 or more) and latency percentiles;
asserts nothing. A third target, a bare view with a body as large as the page, separates the cost
of sending the page's bytes from the cost of Django and the page cache.

    .venv/bin/python bench/pages.py [--seconds 1] [--rounds 10] [--concurrency 8]
"""

import argparse
import statistics

import _harness as harness

FAQ = "/treatments/microneedling/faq/"
CACHE_HEADER = "X-Explainer-Cache"
RATIO_TARGET = 0.8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].strip())
    parser.add_argument("--seconds", type=float, default=1.0, help="per target per round (default 1)")
    parser.add_argument("--rounds", type=int, default=10, help="alternating rounds (default 10)")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (default 4)")
    options = parser.parse_args()
    load = {"seconds": options.seconds, "concurrency": options.concurrency, "watch_header": CACHE_HEADER}

    server = {"workers": options.workers, "threads": options.threads}
    with harness.bench_site() as env, harness.gunicorn(env, **server) as (host, port):
        page_bytes = len(harness.fetch(host, port, FAQ))
        targets = {
            "bare view": "/bench/bare",
            "bare, page-sized": f"/bench/bytes/{page_bytes}",
            "FAQ page": FAQ,
        }
        # Warm up: imports, database connections, and the page into the cache.
        for path in targets.values():
            harness.hammer(host, port, path, seconds=1, concurrency=2, tally=harness.Tally())
        tallies = {name: harness.Tally() for name in targets}
        # Short alternating rounds: a burst of other work on the machine lands on every target.
        round_ratios = []
        for round_number in range(options.rounds):
            order = list(targets) if round_number % 2 == 0 else list(reversed(targets))
            rates = {}
            for name in order:
                rates[name] = harness.hammer(host, port, targets[name], tally=tallies[name], **load)
            round_ratios.append(_ratio(rates["FAQ page"], rates["bare view"]))
    report(targets, tallies, round_ratios, options)


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else float("nan")


def report(targets: dict, tallies: dict, round_ratios: list[float], options: argparse.Namespace) -> None:
    print(
        f"\ngunicorn {options.workers} worker(s) x {options.threads} thread(s); "
        f"{options.concurrency} keep-alive client threads; "
        f"{options.rounds} alternating rounds of {options.seconds:g} s per target\n"
    )
    print(f"{'target':<18} {'path':<32} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, tally in tallies.items():
        print(
            f"{name:<18} {targets[name]:<32} {tally.per_second:>9.1f} {tally.percentile_ms(0.5):>8.2f} "
            f"{tally.percentile_ms(0.99):>8.2f} {tally.errors:>7}"
        )
    bare, sized, faq = (tallies[name] for name in targets)
    hits = faq.headers_seen.get(CACHE_HEADER, 0)
    print(f"\nFAQ responses marked as cache hits: {hits} of {len(faq.latencies)}")
    ratio = _ratio(faq.per_second, bare.per_second)
    verdict = "meets" if ratio >= RATIO_TARGET else "is under"
    print(f"FAQ page / bare view throughput: {ratio:.2f} ({verdict} the {RATIO_TARGET} target)")
    print(
        f"  round by round: median {statistics.median(round_ratios):.2f}, range {min(round_ratios):.2f}"
        f"-{max(round_ratios):.2f} (a wide range means other work shared the machine)"
    )
    print(
        f"FAQ page / page-sized bare view: {_ratio(faq.per_second, sized.per_second):.2f} "
        "(1.0: the page costs what its size does)"
    )


if __name__ == "__main__":
    main()
