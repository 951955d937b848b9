"""The scale-out deployment files stay true to the code: docker-compose.yml, the Dockerfile and
the Caddyfile (validated with `docker compose config` where that plugin is installed)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.config import Settings

ROOT = Path(__file__).resolve().parents[1]


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def bots(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: s for n, s in data["services"].items() if "telegram" in (s.get("command") or [])}


def test_every_bot_variable_is_one_the_code_reads() -> None:
    read = {f.validation_alias for f in Settings.model_fields.values() if f.validation_alias}
    services = bots(compose())
    assert len(services) == 2, "two bot replicas"
    for name, service in services.items():
        unknown = set(service["environment"]) - read
        assert not unknown, f"{name} sets variables SkillAudit never reads: {sorted(unknown)}"
        env = service["environment"]
        assert env["DATABASE_URL"].startswith("postgresql+psycopg://")
        assert env["CHROMA_HOST"] in compose()["services"]


def test_replicas_run_in_webhook_mode_behind_the_proxy() -> None:
    data = compose()
    caddy = (ROOT / "deploy" / "Caddyfile").read_text()
    for name, service in bots(data).items():
        command = service["command"]
        assert "--webhook" in command and command[command.index("--listen") + 1] == "0.0.0.0"
        port = command[command.index("--port") + 1]
        assert f"{name}:{port}" in caddy, f"the proxy does not reach {name}:{port}"
        url = command[command.index("--url") + 1]
        assert (
            url.startswith("https://") and url.endswith("/telegram") and "handle /telegram" in caddy
        )
        assert "TELEGRAM_WEBHOOK_SECRET" in service["environment"]
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_every_replica_mounts_one_shared_volume_at_the_peoples_folders() -> None:
    """An upload through one replica is read through the other, and erased through either
    (tests/bots/test_replica_files.py): the folders `Settings.user_dir` makes must be one
    volume for every bot, while the rest of the home (logs) stays each replica's own."""
    data = compose()
    services = bots(data)
    shared: set[str] = set()
    own: set[str] = set()
    for name, service in services.items():
        home = service["environment"]["SKILLAUDIT_HOME"]
        users = str(Settings(SKILLAUDIT_HOME=Path(home)).user_dir("tg:1").parent)
        mounts = dict(reversed(v.split(":")[:2]) for v in service["volumes"])
        assert users in mounts, f"{name} keeps people's files on its own volume"
        shared.add(mounts[users])
        own.add(mounts.get(home, name))
    assert len(shared) == 1 and shared <= set(data["volumes"]), shared
    assert len(own) == len(services), "each replica's home (its logs) is its own"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "mkdir -p /data/users && chown -R skillaudit /data" in dockerfile


def test_the_image_holds_every_package_the_project_installs() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    pyproject = (ROOT / "pyproject.toml").read_text()
    packages = re.search(r"include = \[([^\]]*)\]", pyproject)
    assert packages is not None
    for package in re.findall(r'"(\w+)\*"', packages.group(1)):
        assert f"COPY {package} {package}" in dockerfile, package
    assert "'.[postgres]'" in dockerfile and "USER skillaudit" in dockerfile
    chroma = compose()["services"]["chroma"]
    assert chroma["entrypoint"] == ["chroma"] and "run" in chroma["command"]


@pytest.mark.skipif(
    shutil.which("docker") is None
    or subprocess.run(["docker", "compose", "version"], capture_output=True).returncode != 0,
    reason="the docker compose plugin is not installed on this machine",
)
def test_docker_compose_accepts_the_file(tmp_path: Path) -> None:
    env = (ROOT / "deploy" / "example.env").read_text()
    (tmp_path / ".env").write_text(env)
    result = subprocess.run(
        ["docker", "compose", "-f", str(ROOT / "docker-compose.yml"), "--env-file",
         str(tmp_path / ".env"), "config", "--quiet"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
