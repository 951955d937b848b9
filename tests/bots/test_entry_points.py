"""Every front end's door: who may be named, what a bad setting does, what is created on disk.

Each subcommand is run as a person runs it (`python -m bots.cli ...`, a fresh home): a blank
or overlong --user is refused before anything is read or stored, a bad setting or .env is
one line and exit 2, and the store, the data folder and everything written into it are
private to their owner (0600 files, 0700 folders) whatever the umask.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bots.session import user_id
from tests.cli_process import run_cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "freelancer.yaml"
WITH_USER = [
    ["chat"],
    ["audit", "--profile", str(EXAMPLE)],
    ["history"],
    ["report"],
    ["export"],
    ["forget", "--yes"],
    ["next", "docker"],
    ["consent"],
    ["connect", "cv", "cv.txt"],
]
EVERY = [*WITH_USER, ["kb", "stats"], ["telegram"]]


def run(
    args: list[str],
    home: Path | None,
    cwd: Path,
    stdin: str = "",
    umask: int | None = None,
    **env: str,
) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SKILLAUDIT_", "CHROMA_", "XDG_", "TELEGRAM_")) and k != "DATABASE_URL"
    }
    clean.update(PYTHONPATH=str(ROOT), **env)
    if home is not None:
        clean["SKILLAUDIT_HOME"] = str(home)
    return run_cli(args, clean, cwd, input=stdin, umask=umask)


def one_line_exit_2(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, (done.returncode, done.stdout[-500:], done.stderr[-1500:])
    assert "Traceback" not in done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    return lines[0]


BLANKS = ["", "   ", "\t", "\u00a0\n"]


@pytest.mark.parametrize("name", BLANKS)
def test_every_blank_name_is_refused_by_the_one_check_all_commands_use(name: str) -> None:
    with pytest.raises(ValueError, match="--user must not be empty"):
        user_id(name)


@pytest.mark.parametrize(
    ("command", "name"),
    [(c, BLANKS[i % len(BLANKS)]) for i, c in enumerate(WITH_USER)],
    ids=lambda v: v[0] if isinstance(v, list) else repr(v),
)
def test_a_blank_user_is_refused_by_every_command(
    tmp_path: Path, command: list[str], name: str
) -> None:
    """`forget --user "$UNSET" --yes` must never erase the login user's data. Each command
    is run once, as a person runs it, with one of the blank forms (all of them meet the
    check itself above)."""
    done = run([*command, "--user", name], tmp_path / "home", tmp_path, stdin="hi\n")
    assert "--user must not be empty" in one_line_exit_2(done)
    assert not (tmp_path / "home" / "skillaudit.db").exists()  # refused before anything opened


@pytest.mark.parametrize("command", [["chat"], ["audit", "--profile", str(EXAMPLE)], ["forget", "--yes"]], ids=lambda c: c[0])  # fmt: skip
def test_a_user_too_long_to_score_is_refused_up_front(tmp_path: Path, command: list[str]) -> None:
    done = run([*command, "--user", "L" * 150], tmp_path / "home", tmp_path, stdin="hi\n")
    assert "--user is 150 characters long" in one_line_exit_2(done)


@pytest.mark.parametrize("command", EVERY, ids=lambda c: c[0])
def test_bad_configuration_is_one_line_and_exit_2_at_every_front_end(
    tmp_path: Path, command: list[str]
) -> None:
    done = run(command, tmp_path / "home", tmp_path, stdin="hi\n", CHROMA_PORT="abc",
               TELEGRAM_BOT_TOKEN="123:abcdefgh")  # fmt: skip
    assert "CHROMA_PORT" in one_line_exit_2(done)
    (tmp_path / ".env").write_bytes(b"GITHUB_TOKEN=caf\xe9\n")  # Latin-1, not UTF-8
    done = run(
        command, tmp_path / "home", tmp_path, stdin="hi\n", TELEGRAM_BOT_TOKEN="123:abcdefgh"
    )
    assert ".env" in one_line_exit_2(done)


@pytest.mark.parametrize(
    "setting",
    [
        "SKILLAUDIT_LLM_TIMEOUT=-1",
        "SKILLAUDIT_LLM_RETRIES=99",
        "SKILLAUDIT_BUSY_TIMEOUT=0",
        "DATABASE_URL=::",
    ],
)
def test_each_bad_value_is_named(tmp_path: Path, setting: str) -> None:
    name, value = setting.split("=", 1)
    done = run(["chat"], tmp_path / "home", tmp_path, stdin="hi\n", **{name: value})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert name in done.stderr or name.lower().removeprefix("skillaudit_") in done.stderr.lower()


@pytest.mark.long(seconds=8)
def test_everything_written_is_private_whatever_the_umask(tmp_path: Path) -> None:
    """The default home (no SKILLAUDIT_HOME), the store, reports, charts, exports and copies."""
    env = {"HOME": str(tmp_path / "user")}
    (tmp_path / "user").mkdir()
    args = {"home": None, "cwd": tmp_path, "umask": 0o022}
    assert (
        run(
            ["audit", "--profile", str(EXAMPLE), "--user", "m", "--force"], **args, **env
        ).returncode
        == 0
    )  # type: ignore[arg-type]
    for command in (["report", "--user", "m", "--output", str(tmp_path / "copy.md")],
                    ["history", "--user", "m"], ["export", "--user", "m", "--output", str(tmp_path / "copy.json")]):  # fmt: skip
        done = run(command, **args, **env)  # type: ignore[arg-type]
        assert done.returncode == 0, done.stderr
    home = tmp_path / "user" / ".local" / "share" / "skillaudit"
    assert (home / "skillaudit.db").is_file()
    written = [home, *home.rglob("*"), tmp_path / "copy.md", tmp_path / "copy.json"]
    assert len([p for p in written if p.suffix == ".png"]) >= 2  # a radar and a progress chart
    for path in written:
        mode = path.stat().st_mode & 0o777
        assert mode == (0o700 if path.is_dir() else 0o600), (oct(mode), path)


def test_an_empty_home_means_the_default_home_never_the_current_folder(tmp_path: Path) -> None:
    user = tmp_path / "user"
    user.mkdir()
    done = run(
        ["consent", "grant", "github", "--user", "e"],
        None,
        tmp_path,
        SKILLAUDIT_HOME="",
        HOME=str(user),
    )
    assert done.returncode == 0, done.stderr
    assert not list(tmp_path.glob("skillaudit.db*")) and not (tmp_path / "chroma").exists()
    assert (user / ".local" / "share" / "skillaudit" / "skillaudit.db").is_file()


@pytest.mark.parametrize("folder", ["h?mode=ro", "h%41b", "h#x y"])
def test_url_syntax_in_the_home_names_a_folder(tmp_path: Path, folder: str) -> None:
    home = tmp_path / folder
    done = run(["consent", "grant", "github", "--user", "u"], home, tmp_path)
    assert done.returncode == 0, done.stderr
    assert (home / "skillaudit.db").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder]  # nothing beside it


def test_output_naming_the_export_itself_is_not_an_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run(["consent", "grant", "github", "--user", "o"], home, tmp_path).returncode == 0
    first = run(["export", "--user", "o"], home, tmp_path)
    path = first.stdout.strip()
    again = run(["export", "--user", "o", "--output", path], home, tmp_path)
    assert again.returncode == 0 and again.stdout.strip() == path, again.stderr
    assert "None" not in again.stderr


@pytest.mark.parametrize(
    "command", [["--help"], ["report", "--user", "nobody"], ["chat", "--user", "kim"]]
)
def test_the_forked_runner_answers_as_a_new_interpreter_does(
    tmp_path: Path, command: list[str]
) -> None:
    """tests/cli_process.py stands in for `python -m bots.cli` in these tests: the same exit
    code, stdout and stderr as a process started from scratch."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(PYTHONPATH=str(ROOT), COLUMNS="120")
    results = []
    for runner in ("fork", "spawn"):
        home = tmp_path / runner
        home.mkdir()
        env["SKILLAUDIT_HOME"] = str(home)
        if runner == "fork":
            done = run_cli(command, env, home, input="ml engineer\n")
        else:
            done = subprocess.run(
                [sys.executable, "-m", "bots.cli", *command], input="ml engineer\n",
                capture_output=True, text=True, env=env, cwd=home, timeout=600,
            )  # fmt: skip
        results.append((done.returncode, done.stdout.replace(str(home), "HOME"), done.stderr))
    assert results[0] == results[1]


def _gone(pid: int) -> bool:
    """Whether a process has ended (an orphan nobody reaps stays a zombie: ended too)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads process states from /proc")
def test_the_fork_server_ends_when_the_process_that_started_it_is_gone(tmp_path: Path) -> None:
    """A pytest-xdist worker ends without its exit handlers, so it never tells the server to
    quit: the server must notice on its own (one was left running after each suite)."""
    starter = (
        "import os, subprocess, sys\n"
        "server = subprocess.Popen([sys.executable, '-m', 'tests.cli_forkserver', sys.argv[1]],"
        " stdout=subprocess.PIPE, text=True)\n"
        "assert server.stdout.readline().strip() == 'ready'\n"
        "print(server.pid, flush=True)\n"
        "os._exit(0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", starter, str(tmp_path / "s")],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    server = int(done.stdout.strip())
    # Waits on the server's own progress (it checks every second), never a fixed sleep.
    deadline = time.monotonic() + 300
    while not _gone(server) and time.monotonic() < deadline:
        time.sleep(0.1)
    if not _gone(server):
        os.kill(server, signal.SIGKILL)
        pytest.fail("the fork server outlived the process that started it")
