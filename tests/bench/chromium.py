"""Open a report in headless Chromium, take a screenshot, and collect the page's errors."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM = next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)
NO_CHROMIUM = "no Chromium binary on PATH (apt install chromium)"
if CHROMIUM is None and os.environ.get("RFLOC_REQUIRE_CHROMIUM") == "1":
    raise RuntimeError(f"RFLOC_REQUIRE_CHROMIUM=1 but there is {NO_CHROMIUM}")


def assert_renders_without_console_errors(page: Path, tmp_path: Path) -> Path:
    """Screenshot ``page``; fail on an uncaught error or any console message of the page."""
    assert CHROMIUM is not None, NO_CHROMIUM
    screenshot = tmp_path / "report.png"
    command = [
        CHROMIUM,
        "--headless",
        "--disable-gpu",
        "--no-sandbox",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={screenshot}",
        "--window-size=1400,2000",
        "--enable-logging=stderr",
        "--v=0",
        page.as_uri(),
    ]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert screenshot.is_file() and screenshot.stat().st_size > 0, finished.stderr
    page_errors = [
        line
        for line in finished.stderr.splitlines()
        if "Uncaught" in line or re.search(r"CONSOLE\(\d+\)", line)
    ]
    assert not page_errors, page_errors
    return screenshot
