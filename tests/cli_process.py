"""Run `python -m bots.cli ARGS` as a fresh process, forked from a parent that has imported
the libraries once (tests/cli_forkserver.py): the same process a person starts, without a
new interpreter's start-up each time. A test that checks what a process imports at start-up
uses subprocess itself.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_lock = threading.Lock()
_server: _Server | None = None


class _Server:
    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="sa-cli-")
        self.path = os.path.join(self.folder, "s")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.cli_forkserver", self.path],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        ready = self.process.stdout.readline().strip()
        assert ready == "ready", f"the CLI fork server did not start: {ready!r}"

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                    conn.connect(self.path)
                    conn.sendall(b'{"quit": true}\n')
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def _get() -> _Server:
    global _server
    if _server is None or _server.process.poll() is not None:
        _server = _Server()
        atexit.register(_server.close)
    return _server


def run_cli(
    args: list[str],
    env: dict[str, str],
    cwd: Path | str,
    input: str = "",
    timeout: float = 600,
    umask: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """What `subprocess.run([python, "-m", "bots.cli", *args], input=input, env=env,
    cwd=cwd, capture_output=True, text=True, timeout=timeout)` returns."""
    with _lock:
        server = _get()
        stdin_r, stdin_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        request = {"args": list(args), "env": dict(env), "cwd": str(cwd), "umask": umask}
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.connect(server.path)
            conn.sendmsg(
                [json.dumps(request).encode() + b"\n"],
                [(socket.SOL_SOCKET, socket.SCM_RIGHTS, bytes(_fds(stdin_r, out_w, err_w)))],
            )
            for fd in (stdin_r, out_w, err_w):
                os.close(fd)
            answers = conn.makefile("r")
            pid = int(answers.readline())
            out: list[bytes] = []
            err: list[bytes] = []
            readers = [
                threading.Thread(target=_drain, args=(out_r, out), daemon=True),
                threading.Thread(target=_drain, args=(err_r, err), daemon=True),
                threading.Thread(target=_feed, args=(stdin_w, input.encode()), daemon=True),
            ]
            for reader in readers:
                reader.start()
            conn.settimeout(timeout)
            try:
                code = int(answers.readline())
            except TimeoutError:
                os.kill(pid, signal.SIGKILL)
                raise subprocess.TimeoutExpired(["bots.cli", *args], timeout) from None
            for reader in readers:
                reader.join()
    return subprocess.CompletedProcess(
        [sys.executable, "-m", "bots.cli", *args],
        code,
        _text(out),
        _text(err),
    )


def _fds(*fds: int) -> memoryview:
    import array

    return memoryview(array.array("i", fds)).cast("B")


def _drain(fd: int, into: list[bytes]) -> None:
    with os.fdopen(fd, "rb") as stream:
        into.append(stream.read())


def _feed(fd: int, data: bytes) -> None:
    with contextlib.suppress(BrokenPipeError), os.fdopen(fd, "wb") as stream:
        stream.write(data)  # a child that stops reading early closes the pipe


def _text(chunks: list[bytes]) -> str:
    # As subprocess.run(text=True) decodes: the locale's encoding, universal newlines.
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
