"""Swagger UI at /api-docs renders the OpenAPI document in a real browser (Debian's Chromium,
driven by Playwright) and lists the operations, instead of "Unable to render this definition"."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="make test installs Debian's chromium")
def test_swagger_ui_renders_the_document_and_lists_the_operations(api_node):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{api_node.api_port}/api-docs")
            page.wait_for_selector(".opblock", timeout=20_000)
            text = page.inner_text("body")
            assert "Unable to render this definition" not in text
            operations = page.locator(".opblock-summary-path").all_inner_texts()
            assert "/clients" in operations and "/publish" in operations
            assert len(operations) > 80
        finally:
            browser.close()
