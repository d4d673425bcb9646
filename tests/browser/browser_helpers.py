"""Headless Chromium (Debian's, through Playwright) on the embedded stack, with screenshots kept."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "e2e"))  # RunningStack lives with the e2e tests

from e2e_helpers import RunningStack  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = REPO / "test-artifacts" / "screenshots"
VIEWPORTS = {
    "laptop": {"viewport": {"width": 1366, "height": 860}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
}


def shot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def save_key(page, key: str) -> None:
    """Type the API key into the header form, as a user does once per browser."""
    page.fill("#api-key", key)
    page.check("#key-remember")
    page.click("#key-form button[type=submit]")
    page.wait_for_function("() => localStorage.getItem('gems.apiKey') !== null")


def overflows(page) -> int:
    """How many CSS pixels the page is wider than the viewport (0 when nothing scrolls sideways)."""
    return page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")


__all__ = ["ARGS", "CHROMIUM", "RunningStack", "VIEWPORTS", "overflows", "save_key", "shot"]
