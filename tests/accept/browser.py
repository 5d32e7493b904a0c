"""A stakeholder's browser for the report tests: Debian's Chromium driven by Playwright, offline.

No browser is downloaded (Playwright launches the system's chromium); every request that is not a file:// URL is
refused and recorded, so a page that needs the network shows up. Pages are waited for by a signal of their own (a
selector or a condition) with a generous bound, never by a fixed rendering budget: a slow machine only waits longer.
"""
from __future__ import annotations

import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

PAGE_BOUND_MS = 120_000  # how long a page may take to show its signal on a busy two-core machine


@dataclass
class OfflineBrowser:
    """One page at a given viewport, and the outside requests the page tried to make."""

    page: Any
    refused: list[str] = field(default_factory=list)


def chromium() -> str:
    """The system's Chromium (the set-up installs it with apt-get)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "Debian's chromium is not installed: run the set-up (`make setup` installs it with apt-get)"
    return found


@contextmanager
def offline_page(width: int = 1280, height: int = 800) -> Iterator[OfflineBrowser]:
    """A headless Chromium page of `width` x `height` that may load file:// URLs only."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--no-default-browser-check"])
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            offline = OfflineBrowser(page)

            def only_files(route: Any) -> None:
                url = route.request.url
                if url.startswith(("file:", "data:", "blob:", "about:")):
                    route.continue_()
                else:
                    offline.refused.append(url)
                    route.abort()

            page.route("**/*", only_files)
            yield offline
        finally:
            browser.close()


def wait_for_text(browser: OfflineBrowser, text: str, bound_ms: int = PAGE_BOUND_MS) -> list[str]:
    """Wait until the page's text holds `text`; a page still without it after `bound_ms` is loaded once more and
    waited for again (once, in a CI run of 2026-12-06, the Allure report never rendered while the same report showed
    in 10 s alone and in 20 s beside four busy processes). Returns what happened before success ([] when the first
    wait sufficed); a page that never shows it fails the test with what it showed instead."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    condition = f"document.body && document.body.innerText.includes({text!r})"
    hiccups = []
    for attempt in (1, 2):
        try:
            browser.page.wait_for_function(condition, timeout=bound_ms)
            return hiccups
        except PlaywrightTimeout:
            shown = browser.page.evaluate("document.body ? document.body.innerText.slice(0, 300) : '(no body)'")
            hiccups.append(f"attempt {attempt}: no {text!r} after {bound_ms} ms; the page showed {shown!r}")
            if attempt == 1:
                browser.page.reload()
    raise AssertionError("; ".join(hiccups) + f"; refused requests: {browser.refused[:5]}")


def visible_without_scrolling(page: Any, selector: str) -> bool:
    """Whether the element is shown wholly inside the viewport as the page opens (no scrolling)."""
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    return bool(box) and box["width"] > 0 and box["height"] > 0 and box["x"] >= 0 and box["y"] >= 0 \
        and box["x"] + box["width"] <= size["width"] and box["y"] + box["height"] <= size["height"]
