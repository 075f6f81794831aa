"""Helpers for the Python client conformance tests (conformance/py/*.py).

Every case is registered with py_util.test, which wraps harness.test: the
case gets a Ctx (t.broker is the harness Broker), runs under a SIGALRM
deadline so that a hang is a failure rather than a stuck suite, and at the
end its connections are closed and the queues and exchanges it registered
are deleted.
"""
import contextlib
import functools
import logging
import os
import signal
import socket
import subprocess
import sys
import time

import pika
import pika.exceptions

import harness

CASE_TIMEOUT = float(os.environ.get("PY_CASE_TIMEOUT", "10"))

# pika and py-amqp log every broker-initiated close at ERROR; the tests
# expect many of those.  PY_CLIENT_LOG=DEBUG shows them.
logging.basicConfig(level=getattr(logging, os.environ.get(
    "PY_CLIENT_LOG", "CRITICAL")))


class Timeout(BaseException):
    """A case (or one step of it) ran past its deadline.

    A BaseException, so that client libraries catching Exception inside
    their I/O loops cannot swallow it; the case wrapper turns it into an
    AssertionError for the harness."""


def _alarm(_signum, _frame):
    raise Timeout("deadline passed")


@contextlib.contextmanager
def deadline(seconds):
    """Raise Timeout in the block if it runs longer than seconds."""
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


# After a few slow failures in a row (timeouts, connections that never
# open) the broker is probably wedged: the remaining cases get a short
# deadline so the file still ends soon.
_slow_failures = 0
DEGRADED_LIMIT = 1.5


def degraded():
    return _slow_failures >= 3


def test(fn=None, timeout=None):
    """Register fn(t) as a harness case, with a deadline and cleanup."""
    if fn is None:
        return lambda f: test(f, timeout)

    @functools.wraps(fn)
    def case(broker):
        global _slow_failures
        limit = DEGRADED_LIMIT if degraded() else (timeout or CASE_TIMEOUT)
        t = Ctx(broker)
        start = time.time()
        ok = False
        try:
            with deadline(limit):
                fn(t)
            ok = True
        except Timeout:
            raise AssertionError("case did not finish within %g s" % limit)
        finally:
            if ok:
                _slow_failures = 0
            elif time.time() - start >= min(3, limit):
                _slow_failures += 1
            t.cleanup(short=not ok)
    return harness.test(case)


def _sock_of(conn):
    """The socket under a pika BlockingConnection, or None."""
    try:
        return conn._impl._transport._sock
    except AttributeError:
        return None


def kill_socket(conn):
    """Drop a pika connection's TCP socket without any AMQP close."""
    s = _sock_of(conn)
    if s is not None:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class Ctx:
    """Per-case state: the broker, connections to close, names to delete."""

    def __init__(self, broker):
        self.broker = broker
        self.vhost = broker.vhost
        self.conns = []
        self.queues = []
        self.exchanges = []
        self.procs = []
        self.closers = []

    # Connections and channels ---------------------------------------

    def params(self, **kw):
        """pika ConnectionParameters for the broker, overridable by kw."""
        b = self.broker
        quick = degraded()
        p = dict(host=b.host, port=b.port, virtual_host=b.vhost,
                 credentials=pika.PlainCredentials(b.user, b.password),
                 connection_attempts=1, socket_timeout=1 if quick else 4,
                 stack_timeout=1 if quick else 6,
                 blocked_connection_timeout=8)
        p.update(kw)
        return pika.ConnectionParameters(**p)

    def conn(self, **kw):
        """A new pika BlockingConnection, closed at the end of the case."""
        c = pika.BlockingConnection(self.params(**kw))
        self.conns.append(c)
        return c

    def channel(self, conn=None):
        """A new channel, on conn or on a new connection."""
        return (conn or self.conn()).channel()

    def url(self, vhost=None):
        """The broker's amqp:// URL (vhost escaped for amqp-tools)."""
        b = self.broker
        v = b.vhost if vhost is None else vhost
        return "amqp://%s:%s@%s:%d/%s" % (
            b.user, b.password, b.host, b.port,
            v.replace("%", "%25").replace("/", "%2F"))

    def kombu_url(self):
        b = self.broker
        return "pyamqp://%s:%s@%s:%d/%s" % (
            b.user, b.password, b.host, b.port,
            b.vhost.replace("%", "%25").replace("/", "%2F"))

    # Names ------------------------------------------------------------

    def name(self, prefix):
        return harness.unique("py-" + prefix)

    def queue(self, ch, name=None, **kw):
        """Declare a queue (unique name unless given); delete it at the end."""
        if name is None:
            name = self.name("q")
        ok = ch.queue_declare(name, **kw)
        name = ok.method.queue
        self.queues.append(name)
        return name

    def exchange(self, ch, xtype="direct", name=None, **kw):
        """Declare an exchange; delete it at the end of the case."""
        if name is None:
            name = self.name("x-" + xtype)
        ch.exchange_declare(name, xtype, **kw)
        self.exchanges.append(name)
        return name

    def forget_queue(self, name):
        """Register a queue declared by other means for deletion."""
        self.queues.append(name)

    def forget_exchange(self, name):
        self.exchanges.append(name)

    def on_cleanup(self, fn):
        self.closers.append(fn)

    def spawn(self, args, **kw):
        """Start a subprocess, killed at the end of the case."""
        p = subprocess.Popen(args, **kw)
        self.procs.append(p)
        return p

    def cleanup(self, short=False):
        """Close what the case opened and delete what it registered, within
        a few seconds whatever state the broker is in."""
        try:
            with deadline(1 if short else 6):
                self._cleanup()
        except (Exception, Timeout) as e:
            sys.stderr.write("# cleanup: %r\n" % (e,))
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            try:
                p.wait(3)
            except subprocess.TimeoutExpired:
                pass
            for f in (p.stdout, p.stderr, p.stdin):
                if f is not None:
                    f.close()
        for c in self.conns:
            if not c.is_closed:
                kill_socket(c)

    def _cleanup(self):
        for fn in reversed(self.closers):
            try:
                fn()
            except Exception:
                pass
        for p in self.procs:
            if p.poll() is None:
                p.kill()
        for c in self.conns:
            try:
                if c.is_open:
                    c.close()
            except Exception:
                kill_socket(c)
        if self.queues or self.exchanges:
            c = pika.BlockingConnection(self.params())
            try:
                for q in self.queues:
                    c.channel().queue_delete(q)
                for x in self.exchanges:
                    c.channel().exchange_delete(x)
            finally:
                c.close()


# Expectations ---------------------------------------------------------


class _Expect:
    def __init__(self, kind, code, text):
        self.kind = kind
        self.code = code
        self.text = text
        self.exc = None

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        if et is None:
            raise AssertionError("expected %s close %s %r, got none"
                                 % (self.kind, self.code, self.text))
        want = (pika.exceptions.ChannelClosedByBroker if self.kind == "channel"
                else pika.exceptions.ConnectionClosedByBroker)
        if not isinstance(ev, want):
            return False
        self.exc = ev
        check_reply(ev.reply_code, ev.reply_text, self.code, self.text)
        return True


def check_reply(code, text, want_code, want_text):
    if code != want_code:
        raise AssertionError("reply code %r (%r), expected %r (%r)"
                             % (code, text, want_code, want_text))
    if want_text is not None:
        if hasattr(want_text, "match"):
            if not want_text.match(text):
                raise AssertionError("reply text %r does not match %r"
                                     % (text, want_text.pattern))
        elif text != want_text:
            raise AssertionError("reply text %r, expected %r"
                                 % (text, want_text))


def channel_error(code, text=None):
    """with channel_error(404, "..."): expect the broker to close the channel."""
    return _Expect("channel", code, text)


def connection_error(code, text=None):
    """with connection_error(540, "..."): expect a connection.close."""
    return _Expect("connection", code, text)


def sync(ch):
    """A round trip on ch, so an asynchronous channel error surfaces."""
    ch.exchange_declare("amq.direct", passive=True)


def eq(got, want, what=""):
    if got != want:
        raise AssertionError("%s: got %r, expected %r" % (what, got, want)
                             if what else "got %r, expected %r" % (got, want))


def pump_until(conn, cond, timeout=5.0, what="condition"):
    """Run conn's I/O until cond() is true; fail at the deadline."""
    end = time.time() + timeout
    while not cond():
        left = end - time.time()
        if left <= 0:
            raise AssertionError("timed out waiting for " + what)
        conn.process_data_events(time_limit=min(0.05, left))
    return cond()


class Collector:
    """A pika consumer callback that records deliveries."""

    def __init__(self, ch=None, ack=False):
        self.ch = ch
        self.ack = ack
        self.msgs = []

    def __call__(self, ch, method, props, body):
        self.msgs.append((method, props, body))
        if self.ack:
            ch.basic_ack(method.delivery_tag)

    def bodies(self):
        return [m[2] for m in self.msgs]

    def __len__(self):
        return len(self.msgs)


def consume(conn, ch, queue, n, auto_ack=True, timeout=5.0, **kw):
    """Consume until n messages arrive; cancel; return [(method, props, body)].

    With auto_ack=False the messages stay unacked on ch."""
    col = Collector()
    tag = ch.basic_consume(queue, col, auto_ack=auto_ack, **kw)
    pump_until(conn, lambda: len(col) >= n, timeout,
               "%d messages from %s (got %d)" % (n, queue, len(col)))
    ch.basic_cancel(tag)
    return col.msgs


def ready_count(ch, queue):
    """Ready (not unacked) messages in queue, from a passive declare."""
    return ch.queue_declare(queue, passive=True).method.message_count


def consumer_count(ch, queue):
    return ch.queue_declare(queue, passive=True).method.consumer_count


def wait_ready(ch, queue, n, timeout=5.0):
    """Poll until queue holds exactly n ready messages."""
    end = time.time() + timeout
    while True:
        got = ready_count(ch, queue)
        if got == n:
            return
        if time.time() >= end:
            raise AssertionError("queue %s has %d ready messages, expected %d"
                                 % (queue, got, n))
        time.sleep(0.02)


def publish_many(ch, queue, bodies, exchange="", props=None):
    for b in bodies:
        ch.basic_publish(exchange, queue, b, props)


def python():
    return sys.executable or "/usr/bin/python3"


def drain(ch, queue):
    """Every message in queue, fetched with basic.get (auto-ack): bodies."""
    out = []
    while True:
        m, _, body = ch.basic_get(queue, auto_ack=True)
        if m is None:
            return out
        out.append(body)


def routed(ch, exchange, key, queues, body=b"m", headers=None):
    """Publish one message and return the sorted list of queues it reached.

    The gets run on the publishing channel, after the publish, so a message
    that was routed is already in its queue."""
    props = pika.BasicProperties(headers=headers) if headers else None
    ch.basic_publish(exchange, key, body, props)
    hit = []
    for q in queues:
        got = drain(ch, q)
        if got:
            if got != [body]:
                raise AssertionError("queue %s got %r" % (q, got))
            hit.append(q)
    return sorted(hit)


def queue_exists(conn, queue):
    """True if a passive declare of queue succeeds (405 counts as exists)."""
    ch = conn.channel()
    try:
        ch.queue_declare(queue, passive=True)
    except pika.exceptions.ChannelClosedByBroker as e:
        if e.reply_code == 404:
            return False
        if e.reply_code == 405:
            return True
        raise
    ch.close()
    return True


def exchange_exists(conn, exchange):
    ch = conn.channel()
    try:
        ch.exchange_declare(exchange, passive=True)
    except pika.exceptions.ChannelClosedByBroker as e:
        if e.reply_code == 404:
            return False
        raise
    ch.close()
    return True


def wait_gone(conn, queue, timeout=5.0):
    """Poll until queue no longer exists; fail at the deadline."""
    end = time.time() + timeout
    while queue_exists(conn, queue):
        if time.time() >= end:
            raise AssertionError("queue %s still exists" % queue)
        time.sleep(0.02)


def pyamqp_conn(t, **kw):
    """A connected py-amqp Connection to t's broker, closed at case end."""
    import amqp
    b = t.broker
    args = dict(userid=b.user, password=b.password, virtual_host=b.vhost,
                connect_timeout=5, read_timeout=5, write_timeout=5)
    args.update(kw)
    c = amqp.Connection("%s:%d" % (b.host, b.port), **args)
    c.connect()
    t.on_cleanup(c.collect)
    t.on_cleanup(c.close)
    return c


def read_lines(proc, n, timeout=5.0):
    """Read n lines from proc.stdout (a pipe) before the deadline."""
    import select
    out = []
    buf = b""
    end = time.time() + timeout
    fd = proc.stdout.fileno()
    while len(out) < n:
        left = end - time.time()
        if left <= 0:
            raise AssertionError("read %d of %d lines from child: %r"
                                 % (len(out), n, out))
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            raise AssertionError("child exited after %d of %d lines: %r"
                                 % (len(out), n, out))
        buf += chunk
        while b"\n" in buf and len(out) < n:
            line, buf = buf.split(b"\n", 1)
            out.append(line.decode())
    return out
