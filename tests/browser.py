"""Headless Chromium for the tests: Debian's `chromium` and `chromium-driver`, driven by selenium.

The packages are installed with apt-get when missing (no browser is ever downloaded by a test
tool). Without them the browser tests skip, except under CI, where that is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PACKAGES = ("chromium", "chromium-driver")
#: flags that keep a headless Chromium quiet and offline-friendly on a CI machine
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)


def _install() -> str | None:
    """apt-get install the packages; None when it worked, else why not."""
    if shutil.which("apt-get") is None:
        return "apt-get is not available"
    if os.geteuid() != 0:
        return "installing Debian packages needs root"
    command = ["apt-get", "install", "-y", "--no-install-recommends", *PACKAGES]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for attempt in ([command], [["apt-get", "update"], command]):
        if all(
            subprocess.run(step, env=env, capture_output=True, check=False).returncode == 0
            for step in attempt
        ):
            return None
    return f"`{' '.join(command)}` failed"


def require_chromium() -> None:
    """Make sure Chromium and its driver are installed; install them if not."""
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return
    problem = _install()
    if problem is None and CHROMIUM.exists() and CHROMEDRIVER.exists():
        return
    message = (
        f"the browser tests need {CHROMIUM} and {CHROMEDRIVER} (Debian packages "
        f"{' and '.join(PACKAGES)}): {problem or 'installed, but the binaries are missing'}"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def chromium(width: int = 1400, height: int = 1000) -> Iterator[Any]:
    """A headless Chromium (selenium WebDriver) with its console log kept, on a fresh profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    require_chromium()
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
        try:
            yield driver
        finally:
            driver.quit()


def severe_console_messages(driver: Any) -> list[str]:
    """The console errors (and uncaught exceptions) logged since the last call."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
