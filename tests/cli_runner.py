"""Run the real ``rfloc`` command in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def run_rfloc(
    *args: str,
    site: Path | None = None,
    env: Mapping[str, str] | None = None,
    python_flags: tuple[str, ...] = (),
) -> subprocess.CompletedProcess[str]:
    environment = dict(os.environ)
    environment.pop("RFLOC_STRICT_PLUGINS", None)
    environment["COLUMNS"] = "200"
    if site is not None:
        environment["PYTHONPATH"] = os.pathsep.join(
            [str(site), *filter(None, [environment.get("PYTHONPATH")])]
        )
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, *python_flags, "-m", "rfloc_core", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
        check=False,
    )
