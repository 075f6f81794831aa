"""Conformance harness: a broker to test against, and a small TAP runner.

Without AMQP_URL, start_broker() runs $WARREND on a free loopback port with a
fresh data directory and stops it at exit; with AMQP_URL it uses that broker
(for instance RabbitMQ, to check that the expectations are right).
"""
import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse

_broker = None


class Broker:
    """A broker to test against: its URL and, when we started it, its process."""

    def __init__(self, url, proc=None, datadir=None):
        self.url = url
        u = urllib.parse.urlparse(url)
        self.host = u.hostname or "127.0.0.1"
        self.port = u.port or 5672
        self.user = urllib.parse.unquote(u.username or "guest")
        self.password = urllib.parse.unquote(u.password or "guest")
        path = u.path[1:] if u.path.startswith("/") else u.path
        self.vhost = urllib.parse.unquote(path) if path else "/"
        self.proc = proc
        self.datadir = datadir

    @property
    def is_warren(self):
        return self.proc is not None or os.environ.get("AMQP_IS_WARREN") == "1"

    def alive(self):
        return self.proc is None or self.proc.poll() is None

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.datadir:
            shutil.rmtree(self.datadir, ignore_errors=True)
            self.datadir = None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(host, port, deadline, proc=None):
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            socket.create_connection((host, port), 0.5).close()
            return True
        except OSError:
            time.sleep(0.02)
    return False


def start_broker(extra_args=()):
    """Return the Broker for this test file (started once, stopped at exit)."""
    global _broker
    if _broker is not None:
        return _broker
    url = os.environ.get("AMQP_URL")
    if url:
        _broker = Broker(url)
        return _broker
    warrend = os.environ.get("WARREND", "warrend")
    for _ in range(5):
        port = free_port()
        datadir = tempfile.mkdtemp(prefix="warren-conf-")
        log = open(os.path.join(datadir, "warrend.log"), "wb")
        cmd = os.environ.get("BROKER_WRAPPER", "").split() + [
            warrend, "--listen", "127.0.0.1:%d" % port,
            "--data-dir", datadir, "--log-level",
            os.environ.get("WARREN_LOG_LEVEL", "info")] + list(extra_args)
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        if wait_port("127.0.0.1", port, time.time() + 20, proc):
            _broker = Broker("amqp://guest:guest@127.0.0.1:%d/" % port,
                             proc, datadir)
            atexit.register(_broker.stop)
            return _broker
        proc.kill()
        proc.wait()
        sys.stderr.write(open(os.path.join(datadir, "warrend.log")).read())
        shutil.rmtree(datadir, ignore_errors=True)
    raise RuntimeError("could not start %s" % warrend)


def broker_log():
    """The broker's log so far, when we started it (for diagnostics)."""
    if _broker is None or _broker.datadir is None:
        return ""
    try:
        with open(os.path.join(_broker.datadir, "warrend.log"), "r",
                  errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def unique(prefix):
    """A name no other test run uses, for queues and exchanges."""
    return "%s-%d-%d" % (prefix, os.getpid(), int(time.time() * 1e6) % 10**9)


def wait_for(cond, timeout=10.0, interval=0.01):
    """Poll cond() until it is true or the deadline passes; return its value."""
    deadline = time.time() + timeout
    while True:
        v = cond()
        if v or time.time() >= deadline:
            return v
        time.sleep(interval)


_tests = []


def test(fn):
    """Register a test case: fn(broker) raises on failure."""
    _tests.append(fn)
    return fn


def run():
    """Run the registered cases and print TAP; exit 0 (the driver counts)."""
    broker = start_broker()
    print("1..%d" % len(_tests), flush=True)
    failed = 0
    for i, fn in enumerate(_tests, 1):
        name = fn.__name__
        try:
            fn(broker)
            print("ok %d - %s" % (i, name), flush=True)
        except Exception:
            failed += 1
            print("not ok %d - %s" % (i, name), flush=True)
            for line in traceback.format_exc().splitlines():
                print("# " + line)
            if not broker.alive():
                print("# broker died; its log:")
                for line in broker_log().splitlines()[-40:]:
                    print("# " + line)
                # every later case would fail for the same reason
                for j, fn2 in enumerate(_tests[i:], i + 1):
                    print("not ok %d - %s # broker died" % (j, fn2.__name__))
                break
    sys.stdout.flush()
    broker.stop()
    os._exit(0)
