"""A warrend the test runs itself, for the durability tests
(conformance/py/09-durability-*.py) that restart, kill and break it.

harness.start_broker() starts one broker per file and stops it at exit;
these tests need more: the same data directory across several processes,
SIGKILL in the middle of work, a second warrend on the same directory,
a store file edited between runs.  Warren does that:

    w = Warren()                  # a temporary root with data/ and a log
    w.start()                     # warrend on a free loopback port
    w.kill()                      # SIGKILL: a crash
    w.start()                     # same data directory, new port
    w.stop()                      # SIGTERM; fails unless it exits 0

BROKER_WRAPPER (valgrind...) wraps only the runs that end in a clean stop
(start(wrapped=True), the default): a wrapper killed with SIGKILL proves
nothing, and some wrappers would not pass the signal on.

The files speak TAP through Tap, with a deadline on every case; with
AMQP_URL set (a broker we cannot restart) every case is skipped.
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

import pika

from py_util import deadline, Timeout


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), 0.5).close()
        return True
    except OSError:
        return False


def wrapper():
    return os.environ.get("BROKER_WRAPPER", "").split()


class Skip(Exception):
    """Raised by a case that cannot run here; the text says why."""


class BrokerExited(AssertionError):
    """warrend exited while it was expected to run."""


_instances = []


def finish():
    """Kill what is still running, remove every data directory, flush, and
    exit 0 (TAP: the driver counts); atexit handlers would not run."""
    for w in _instances:
        w.cleanup()
    sys.stdout.flush()
    os._exit(0)


class Warren:
    """One data directory and the warrend processes that use it."""

    host = "127.0.0.1"
    user = "guest"
    password = "guest"
    vhost = "/"

    def __init__(self, prefix="warren-dur-", datadir=None):
        self.root = tempfile.mkdtemp(prefix=prefix)
        self.datadir = datadir or os.path.join(self.root, "data")
        self.logpath = os.path.join(self.root, "warrend.log")
        self.proc = None
        self.port = None
        self.wrapped = False
        self.runs = 0
        _instances.append(self)
        atexit.register(self.cleanup)

    @property
    def url(self):
        return "amqp://guest:guest@127.0.0.1:%d/" % self.port

    def command(self, port, wrapped=True, extra=()):
        return (wrapper() if wrapped else []) + [
            os.environ.get("WARREND", "warrend"),
            "--listen", "127.0.0.1:%d" % port, "--data-dir", self.datadir,
            "--log-level", os.environ.get("WARREN_LOG_LEVEL", "info")
        ] + list(extra)

    def _log_marker(self, what):
        with open(self.logpath, "ab") as f:
            f.write(("=== %s (run %d) ===\n" % (what, self.runs)).encode())

    def start(self, wrapped=True, extra=(), timeout=None):
        """Start warrend on the data directory; return once it listens."""
        assert self.proc is None or self.proc.poll() is not None, \
            "warrend already running"
        if timeout is None:
            timeout = 60 if wrapper() and wrapped else 20
        self.runs += 1
        self.wrapped = wrapped and bool(wrapper())
        for _ in range(5):
            port = free_port()
            self._log_marker("start on port %d" % port)
            log = open(self.logpath, "ab")
            self.proc = subprocess.Popen(
                self.command(port, wrapped, extra), stdout=log,
                stderr=subprocess.STDOUT)
            log.close()
            end = time.time() + timeout
            while time.time() < end:
                if self.proc.poll() is not None:
                    break
                if port_open(port):
                    self.port = port
                    return self
                time.sleep(0.01)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("warrend did not listen within %g s\n%s"
                                     % (timeout, self.log_tail()))
            if "Address already in use" not in self.log_tail(5):
                raise BrokerExited("warrend exited with %d at start-up\n%s"
                                   % (self.proc.returncode, self.log_tail()))
        raise AssertionError("no free port for warrend")

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        """SIGKILL, as a crash or a power cut would stop it."""
        if self.running():
            self.proc.send_signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait()
            self._log_marker("killed")

    def stop(self, timeout=None):
        """SIGTERM; wait; fail unless warrend (and a wrapper) exit 0."""
        if timeout is None:
            timeout = 60 if self.wrapped else 15
        if not self.running():
            raise BrokerExited("warrend is not running (exit %r)\n%s" % (
                None if self.proc is None else self.proc.returncode,
                self.log_tail()))
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("warrend did not stop within %g s of "
                                 "SIGTERM\n%s" % (timeout, self.log_tail()))
        self._log_marker("stopped, exit %d" % rc)
        if rc != 0:
            raise AssertionError("warrend exited with %d after SIGTERM\n%s"
                                 % (rc, self.log_tail()))

    def restart(self, how, wrapped=True):
        """Stop ("term") or kill ("kill") warrend, then start it again."""
        if how == "term":
            self.stop()
        elif how == "kill":
            self.kill()
        else:
            raise ValueError(how)
        return self.start(wrapped=wrapped)

    def run_to_exit(self, timeout=20, wrapped=True, extra=()):
        """Run a warrend that is expected to exit by itself (a start-up
        error); return (exit code, output, port it was given)."""
        port = free_port()
        try:
            p = subprocess.run(self.command(port, wrapped, extra),
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise AssertionError("warrend did not exit within %g s: %r"
                                 % (timeout, e.output))
        return p.returncode, p.stdout.decode(errors="replace"), port

    def log_tail(self, n=40):
        try:
            with open(self.logpath, "r", errors="replace") as f:
                lines = f.read().splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    def log(self):
        try:
            with open(self.logpath, "r", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def cleanup(self):
        if self.running():
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    # Clients ----------------------------------------------------------

    def params(self, **kw):
        p = dict(host=self.host, port=self.port,
                 credentials=pika.PlainCredentials(self.user, self.password),
                 connection_attempts=1, socket_timeout=5, stack_timeout=10,
                 blocked_connection_timeout=30)
        p.update(kw)
        return pika.ConnectionParameters(**p)

    def pika(self, **kw):
        """A pika BlockingConnection (the caller closes it)."""
        return pika.BlockingConnection(self.params(**kw))

    def pyamqp(self, **kw):
        """A connected py-amqp Connection (the caller closes it)."""
        import amqp
        args = dict(userid=self.user, password=self.password,
                    virtual_host=self.vhost, connect_timeout=5,
                    read_timeout=10, write_timeout=10)
        args.update(kw)
        c = amqp.Connection("%s:%d" % (self.host, self.port), **args)
        c.connect()
        return c


BARRIER_QUEUE = "warren-test-commit-barrier"


def commit_barrier(conn):
    """Wait until everything the broker did before now is committed.

    A confirm for a persistent message in a durable queue is sent only
    once its batch is committed, and batches commit in order; so when it
    arrives, every store write made before the publish is on disk (the
    caller must have had a reply for its own earlier operations)."""
    ch = conn.channel()
    ch.queue_declare(BARRIER_QUEUE, durable=True)
    ch.confirm_delivery()
    ch.basic_publish("", BARRIER_QUEUE, b"barrier",
                     pika.BasicProperties(delivery_mode=2))
    ch.queue_purge(BARRIER_QUEUE)
    ch.close()


class Tap:
    """TAP output for a file whose cases are known up front."""

    def __init__(self, names, warren=None):
        self.names = list(names)
        self.n = 0
        self.failed = 0
        self.warren = warren

    def plan(self):
        print("1..%d" % len(self.names), flush=True)

    def skip_all(self, reason):
        self.plan()
        for i, name in enumerate(self.names, 1):
            print("ok %d - %s # SKIP %s" % (i, name, reason), flush=True)

    def comment(self, text):
        for line in str(text).splitlines():
            print("# " + line, flush=True)

    def _next(self, name):
        self.n += 1
        if self.n > len(self.names) or self.names[self.n - 1] != name:
            raise RuntimeError("case %d is %r, the plan says %r" % (
                self.n, name, self.names[self.n - 1:self.n]))

    def ok(self, name, directive=""):
        self._next(name)
        print("ok %d - %s%s" % (self.n, name, directive), flush=True)

    def not_ok(self, name, why, directive=""):
        self._next(name)
        if not directive:
            self.failed += 1
        print("not ok %d - %s%s" % (self.n, name, directive), flush=True)
        self.comment(why)

    def skip(self, name, reason):
        self.ok(name, " # SKIP " + reason)

    def run(self, name, fn, timeout=30, todo=None):
        """Run fn() under a deadline and report it; returns True if it
        passed.  todo: a reason, to report a known broker bug as TODO.
        fn may raise Skip."""
        directive = " # TODO " + todo if todo else ""
        try:
            with deadline(timeout):
                fn()
        except Skip as e:
            self.skip(name, str(e))
            return True
        except Timeout:
            self.not_ok(name, "case did not finish within %g s" % timeout,
                        directive)
            self._log()
            return False
        except Exception:
            self.not_ok(name, traceback.format_exc(), directive)
            self._log()
            return False
        self.ok(name, directive)
        return True

    def _log(self):
        if self.warren is not None:
            self.comment("warrend log (tail):\n" + self.warren.log_tail(15))


def skip_if_foreign(names):
    """With AMQP_URL (a broker we did not start and cannot restart), print
    a plan with every case skipped and exit."""
    if os.environ.get("AMQP_URL"):
        Tap(names).skip_all("needs to restart warrend")
        sys.stdout.flush()
        os._exit(0)
