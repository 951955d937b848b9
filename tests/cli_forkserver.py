"""`python -m bots.cli ARGS` as a fresh process, without paying the interpreter's start-up and
the libraries' imports each time: a parent that imported them once forks one child per run.

The child is what `python -m bots.cli` would be: its own pid, stdin, stdout and stderr (the
caller's pipes, passed as file descriptors), environment, working folder, umask and exit
code. Only third-party libraries are imported ahead (never the project's modules, which read
settings and install logging when they run), so every project module starts fresh.

The parent listens on a Unix socket: a request is one JSON line (args, env, cwd, umask) with
the three descriptors attached; the answer is the child's pid, then its exit code.
"""

from __future__ import annotations

import array
import contextlib
import json
import os
import signal
import socket
import sys

# Imported once here, inherited by every child. Nothing here reads the project's settings.
PRELOAD = (
    "typer",
    "typer.main",
    "rich.console",
    "pydantic",
    "pydantic_settings",
    "sqlalchemy",
    "sqlalchemy.orm",
    "yaml",
    "jinja2",
    "numpy",
)


def _child(request: dict[str, object], fds: list[int]) -> None:
    """Become `python -m bots.cli ARGS` (never returns)."""
    code = 1
    try:
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        env = request["env"]
        assert isinstance(env, dict)
        os.environ.clear()
        os.environ.update(env)
        os.chdir(str(request["cwd"]))
        if request.get("umask") is not None:
            os.umask(int(str(request["umask"])))
        extra = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        sys.path[:0] = [p for p in extra if p not in sys.path]
        import runpy

        args = request["args"]
        assert isinstance(args, list)
        sys.argv = ["bots.cli", *map(str, args)]
        try:
            runpy.run_module("bots.cli", run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as exc:
            if exc.code is None:
                code = 0
            elif isinstance(exc.code, int):
                code = exc.code
            else:
                print(exc.code, file=sys.stderr)
                code = 1
        except KeyboardInterrupt:
            code = 130
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # a closed pipe: nothing more to say
                stream.flush()
        os._exit(code)


PARENT_CHECK_S = 1.0


def serve(path: str) -> None:
    # Whose child this is, read first: the parent waits for "ready", so it is alive now; read
    # after "ready", a parent that had already exited would leave init as the "parent" and
    # the server running for ever (seen on a loaded machine).
    parent = os.getppid()
    for name in PRELOAD:
        __import__(name)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(8)
    print("ready", flush=True)
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)  # nothing more for the caller's pipe: a child's output goes to its own
    os.close(quiet)
    # A test process that ends without its exit handlers (a pytest-xdist worker, a kill) never
    # says quit: the server then ends when it finds its parent gone.
    listener.settimeout(PARENT_CHECK_S)
    while True:
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            if os.getppid() != parent:
                with contextlib.suppress(OSError):  # the parent's clean-up never ran
                    os.unlink(path)
                    os.rmdir(os.path.dirname(path))
                return
            continue
        conn.settimeout(None)
        with conn:
            raw, fds = _receive(conn)
            if raw is None:
                for fd in fds:
                    os.close(fd)
                continue
            request = json.loads(raw)
            if request.get("quit"):
                return
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                listener.close()
                conn.close()
                _child(request, fds)
            for fd in fds:
                os.close(fd)
            conn.sendall(f"{pid}\n".encode())
            _, status = os.waitpid(pid, 0)
            conn.sendall(f"{os.waitstatus_to_exitcode(status)}\n".encode())


def _receive(conn: socket.socket) -> tuple[str | None, list[int]]:
    data = b""
    fds: list[int] = []
    while not data.endswith(b"\n"):
        chunk, ancillary, _, _ = conn.recvmsg(65536, socket.CMSG_SPACE(3 * 4))
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                got = array.array("i")
                got.frombytes(payload[: len(payload) - len(payload) % got.itemsize])
                fds.extend(got)
        if not chunk:
            return None, fds
        data += chunk
    return data.decode(), fds


if __name__ == "__main__":
    serve(sys.argv[1])
