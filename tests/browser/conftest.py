"""
Real-browser fixtures: Debian's Chromium driven by Playwright against pytest-django's live server.

    from tests.browser.checks import assert_page_is_accessible

    @pytest.mark.browser
    def test_something(page):            # runs twice: phone (360x740) and desktop (1280x800)
        page.goto("/treatments/")        # relative to the live server
        assert_page_is_accessible(page)  # one h1, no sideways scroll, no axe A/AA violation

Pin one viewport with `@pytest.mark.parametrize("page", ["phone"], indirect=True)`. Each test gets
a fresh browser context (no cookies carried over) on a transactional database that starts from the
migrated content (serialized rollback), so rows a test creates are visible to the server. A test
that fails leaves a full-page screenshot in test-artifacts/.
"""

import os
import re
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

from tests.browser.checks import require_axe

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
# No internet here: without these Chromium waits on update, sync and QUIC probes and stalls.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORTS = {
    "phone": {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 800}},
}
ARTIFACTS = "test-artifacts"


@pytest.fixture(scope="session")
def browser_tools():
    """Chromium and axe-core are installed (by `make test`); a missing one fails, never skips."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}. `make test` installs it "
            "(apt-get install chromium); set CHROMIUM_PATH to use another build.",
            pytrace=False,
        )
    require_axe()


@pytest.fixture
def browser(browser_tools, django_db_serialized_rollback, live_server):
    """
    A headless Chromium that lives for one test.

    Playwright's sync API keeps an asyncio loop running in this thread from start to stop. While
    it runs, Django hands this thread a separate database connection and refuses ORM calls unless
    DJANGO_ALLOW_ASYNC_UNSAFE is set (Django's documented escape hatch, and Playwright's advice for
    Django). Starting the browser after the test database is set up and stopping it before the
    flush keeps that window to the test's own body: the live server answers from its own thread,
    and no running loop leaks into the next test (where asyncio.run() or async_to_sync would break).
    """
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        try:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, timeout=30_000
            )
        except PlaywrightError as error:
            pytest.fail(f"Chromium at {CHROMIUM} did not start:\n{error}", pytrace=False)
        yield chromium
        chromium.close()
        # The connection the test body used while the loop ran; the flush uses the usual one.
        connections.close_all()


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def page(request, browser, live_server):
    """A page in a fresh context whose base URL is the live server, at a phone or desktop size."""
    context = browser.new_context(
        base_url=live_server.url,
        locale="en-GB",
        timezone_id="Europe/London",
        reduced_motion="reduce",
        **VIEWPORTS[request.param],
    )
    context.set_default_timeout(10_000)
    context.set_default_navigation_timeout(15_000)
    # Everything a page needs is served by the site itself; anything else (a CDN, fonts,
    # analytics) is refused at once instead of hanging on a network this machine does not have.
    own_origin = re.escape(live_server.url)
    context.route(re.compile(rf"^(?!{own_origin}/)https?://"), lambda route: route.abort())
    page = context.new_page()
    yield page
    context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """When a browser test fails, save the page as a screenshot and name the file in the report."""
    report = yield
    page = item.funcargs.get("page") if hasattr(item, "funcargs") else None
    if report.when == "call" and report.failed and page is not None and not page.is_closed():
        path = item.config.rootpath / ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', item.nodeid)}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            page.screenshot(path=path, full_page=True, timeout=10_000)
            report.sections.append(("screenshot", f"{path} (page at {page.url})"))
        except PlaywrightError as error:
            report.sections.append(("screenshot", f"could not take one: {error}"))
    return report

