"""Test support: a real ``mailsync serve`` process on 127.0.0.1, its operator key and metrics.

The binary is ``.build/debug/mailsync`` (``MAILSYNC_BINARY`` overrides it); a missing binary fails
the run rather than skipping it. Every server gets a temporary data directory and free loopback
ports, and :meth:`Server.stop` ends it (SIGTERM, then SIGKILL after 10 s) and removes the directory.
"""

from __future__ import annotations

import json
import os
import atexit
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "Clients", "Python"))
sys.path.insert(0, os.path.join(HERE, "generated"))

BINARY = os.environ.get("MAILSYNC_BINARY", os.path.join(ROOT, ".build", "debug", "mailsync"))

#: Servers running now: stopped at exit, and when the run is cut short (scripts/test.sh's timeout).
_RUNNING: set[Server] = set()


def _stop_all(*_: object) -> None:
    for server in list(_RUNNING):
        server.stop()


def _terminated(signum: int, _frame: object) -> None:
    _stop_all()
    os._exit(128 + signum)


atexit.register(_stop_all)
signal.signal(signal.SIGTERM, _terminated)


def free_port() -> int:
    """A port nothing listens on now (the kernel's choice, released at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def run(arguments: list[str], timeout: float = 60) -> str:
    """Runs the mailsync CLI; its stdout, or an AssertionError with its stderr."""
    if not os.access(BINARY, os.X_OK):
        raise AssertionError(f"{BINARY} is missing: build it first (swift build)")
    result = subprocess.run([BINARY, *arguments], capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(f"mailsync {' '.join(arguments)} failed ({result.returncode}): {result.stderr}")
    return result.stdout


def make_certificate(directory: str) -> tuple[str, str]:
    """A self-signed certificate for ``localhost`` and 127.0.0.1 (one day), as ServerTLSTests makes."""
    cert, key = os.path.join(directory, "server.crt"), os.path.join(directory, "server.key")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True, timeout=30)
    return cert, key


class Server:
    """One ``mailsync serve`` child process with its own data directory."""

    def __init__(self, tls: bool = False) -> None:
        self.directory = tempfile.mkdtemp(prefix="mailsync-python-")
        self.data = os.path.join(self.directory, "data")
        self.port = free_port()
        self.metrics_port = free_port()
        self.process: subprocess.Popen | None = None
        self.certificate: str | None = None
        self._tls = tls

    def operator_key(self) -> str:
        """A new operator key, made with ``mailsync keys create-operator`` (as the Swift tests do)."""
        return json.loads(run(["keys", "create-operator", "--data-dir", self.data, "--json"]))["secret"]

    def start(self) -> Server:
        config = os.path.join(self.directory, "serve.json")
        with open(config, "w") as f:
            # Mailboxes in the tests point at a closed port on 127.0.0.1: allowed, never reached.
            json.dump({"outboundAllow": ["127.0.0.1"]}, f)
        arguments = [BINARY, "serve", "--config", config, "--listen", f"127.0.0.1:{self.port}",
                     "--data-dir", self.data, "--log-level", "error", "--metrics-listen", f"127.0.0.1:{self.metrics_port}"]
        if self._tls:
            self.certificate, key = make_certificate(self.directory)
            arguments += ["--tls-cert", self.certificate, "--tls-key", key]
        if not os.access(BINARY, os.X_OK):
            raise AssertionError(f"{BINARY} is missing: build it first (swift build)")
        self.process = subprocess.Popen(arguments, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _RUNNING.add(self)
        deadline = time.monotonic() + 30
        while not accepts(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"mailsync serve did not start listening on 127.0.0.1:{self.port}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        _RUNNING.discard(self)
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)

    def metric(self, name: str, **labels: str) -> float:
        """The sum of the samples of ``name`` from GET /metrics whose labels include ``labels``
        (0 when there are none yet)."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as response:
            text = response.read().decode()
        total = 0.0
        for line in text.splitlines():
            match = re.match(r"^([a-z_]+)(?:\{(.*)\})? (\S+)$", line)
            if not match or match.group(1) != name:
                continue
            found = dict(re.findall(r'([a-z_]+)="([^"]*)"', match.group(2) or ""))
            if all(found.get(k) == v for k, v in labels.items()):
                total += float(match.group(3))
        return total
