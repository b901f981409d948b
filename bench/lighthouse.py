"""
Lighthouse (mobile) on the pages a patient reads before booking: the four category scores per page.

Serves the project on loopback, the way it runs for real (gunicorn, DEBUG off, collectstatic'd
static files) and the way `make run` serves it (runserver, DEBUG on, static files from the source
folders), loads the demo data so step 1 shows real times, then runs Lighthouse from npm
(package.json, `npm ci`) against Debian's Chromium with its default mobile profile and simulated
throttling. Each page runs --runs times; the median of each score is printed, with the median LCP.
Asserts nothing; the target is 98 or more in every category.

    .venv/bin/python bench/lighthouse.py [--server gunicorn|runserver|both] [--runs 3] [--page /faq/...]

PostgreSQL and Redis come from DATABASE_URL / REDIS_URL, else a clinic_bench database and Redis
database 14.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import _harness as harness

from tests.servers import PYTHON, free_port, manage, project_env, serve

LIGHTHOUSE = harness.ROOT / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CHROME_FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-background-networking "
    "--disable-component-update --disable-sync"
)
# Lighthouse sometimes loses a trace on a busy machine (NO_NAVSTART, NO_FCP): such a run is retried.
ATTEMPTS = 3
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
PAGES = {
    "home": "/",
    "treatment": "/treatments/microneedling/",
    "how it works": "/treatments/microneedling/how-it-works/",
    "FAQ": "/treatments/microneedling/faq/",
    "step 1": "/book/microneedling/",
}
TARGET = 98


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].strip())
    parser.add_argument("--server", choices=("gunicorn", "runserver", "both"), default="both")
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page; the median is printed")
    parser.add_argument("--page", action="append", help="a path to audit instead of the five default pages")
    parser.add_argument("--keep", metavar="DIR", help="keep every Lighthouse JSON report in DIR")
    options = parser.parse_args()
    pages = {path: path for path in options.page} if options.page else PAGES
    require_tools()

    servers = ("gunicorn", "runserver") if options.server == "both" else (options.server,)
    with harness.bench_site() as env:
        manage("load_demo", env=env, timeout=300)
        for name in servers:
            start = gunicorn_server if name == "gunicorn" else runserver_server
            with start(env) as base_url:
                print(f"\n{name}: {options.runs} run(s) per page, median scores (LCP in seconds)", flush=True)
                report(base_url, pages, runs=options.runs, keep=options.keep)


def require_tools() -> None:
    missing = [str(path) for path in (LIGHTHOUSE, Path(CHROMIUM)) if not path.exists()]
    if missing:
        raise SystemExit(f"Missing {', '.join(missing)}: `make browser` installs Chromium and the npm tools.")


@contextmanager
def gunicorn_server(env: dict[str, str]) -> Iterator[str]:
    with harness.gunicorn(env, workers=2, threads=4) as (host, port):
        yield f"http://{host}:{port}"


@contextmanager
def runserver_server(env: dict[str, str]) -> Iterator[str]:
    """runserver as `make run` starts it: DEBUG on, static files served from the source folders."""
    dev_env = project_env(
        DEBUG="1",
        DATABASE_URL=env["DATABASE_URL"],
        REDIS_URL=env["REDIS_URL"],
        CACHE_KEY_PREFIX=env["CACHE_KEY_PREFIX"],
        CLINIC_VAR_DIR=env["CLINIC_VAR_DIR"],
        LOG_LEVEL="WARNING",
    )
    port = free_port()
    argv = [PYTHON, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    with serve(argv, port=port, env=dev_env) as url:
        yield url


def report(base_url: str, pages: dict[str, str], *, runs: int, keep: str | None) -> None:
    print(f"{'page':<14}" + "".join(f"{name:>16}" for name in CATEGORIES) + f"{'LCP':>8}", flush=True)
    for name, path in pages.items():
        results = [lighthouse(base_url + path, keep=keep, label=f"{name}-{run}") for run in range(runs)]
        medians = [statistics.median(result[category] for result in results) for category in CATEGORIES]
        lcp = statistics.median(result["lcp"] for result in results)
        low = " <" if min(medians) < TARGET else ""
        spread = "/".join(str(result["performance"]) for result in results)
        line = f"{name:<14}" + "".join(f"{score:>16.0f}" for score in medians) + f"{lcp:>8.2f}"
        print(f"{line}  (performance runs {spread}){low}", flush=True)
        for audit in failing_audits(results[-1]["report"]):
            print(f"{'':<14}- {audit}", flush=True)


def lighthouse(url: str, *, keep: str | None, label: str) -> dict:
    """One Lighthouse run (mobile, simulated throttling): the category scores out of 100 and LCP in s."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _lighthouse_once(url, keep=keep, label=label)
        except RuntimeError as error:
            if attempt == ATTEMPTS:
                raise
            print(f"{'':<14}  (retrying: {str(error).splitlines()[-1][:120]})", flush=True)
    raise AssertionError("unreachable")


def _lighthouse_once(url: str, *, keep: str | None, label: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="clinic-lighthouse-") as folder:
        output = Path(folder) / "report.json"
        command = [
            str(LIGHTHOUSE),
            url,
            "--quiet",
            "--output=json",
            f"--output-path={output}",
            f"--only-categories={','.join(CATEGORIES)}",
            f"--chrome-flags={CHROME_FLAGS}",
        ]
        env = {**os.environ, "CHROME_PATH": CHROMIUM}
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        if result.returncode != 0 or not output.exists():
            raise RuntimeError(f"Lighthouse failed on {url}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
        data = json.loads(output.read_text())
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(output, Path(keep) / f"{label.replace(' ', '-')}.json")
    scores = {name: round(100 * (data["categories"][name]["score"] or 0)) for name in CATEGORIES}
    lcp = data["audits"]["largest-contentful-paint"]["numericValue"] / 1000
    return {**scores, "lcp": lcp, "report": data}


def failing_audits(data: dict) -> list[str]:
    """The audits of the scored categories that did not pass, with Lighthouse's own summary."""
    lines = []
    for name in CATEGORIES:
        for ref in data["categories"][name]["auditRefs"]:
            audit = data["audits"][ref["id"]]
            mode = audit.get("scoreDisplayMode")
            if mode in ("notApplicable", "manual", "informative") or audit.get("score") in (None, 1):
                continue
            if ref.get("weight", 0) == 0 and mode != "metricSavings":
                continue
            detail = audit.get("displayValue") or ""
            lines.append(f"{name}: {audit['title']} ({audit['score']}) {detail}".rstrip())
    return lines


if __name__ == "__main__":
    main()
