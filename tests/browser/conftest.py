"""Browser fixtures: one embedded stack (with the model server) and one Chromium per module."""

from __future__ import annotations

import os

import pytest
from browser_helpers import ARGS, CHROMIUM, VIEWPORTS, RunningStack


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = RunningStack(tmp_path_factory.mktemp("gems-browser"), model=True).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def api_key(stack) -> str:
    return (stack.home / "api_key").read_text().strip()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), "Debian's chromium is missing: run scripts/setup.sh"
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


def _page(browser, kind: str):
    context = browser.new_context(**VIEWPORTS[kind])
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # The pages' CSP (app/headers.py) refuses inline scripts and styles: a refusal is a bug here too.
    page.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.js_errors = errors
    return context, page


@pytest.fixture
def laptop(browser):
    context, page = _page(browser, "laptop")
    yield page
    context.close()
    assert not page.js_errors, page.js_errors


@pytest.fixture
def phone(browser):
    context, page = _page(browser, "phone")
    yield page
    context.close()
    assert not page.js_errors, page.js_errors
