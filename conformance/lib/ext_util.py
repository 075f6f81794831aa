"""Helpers for the RabbitMQ extension tests (conformance/py/13-ext-*.py).

They add to py_util, which these tests use unchanged:

  - raw_get(): a message fetched on a raw socket, its header table decoded
    with every field's type octet and in wire order, so that a test can
    check the x-death layout octet for octet (pika forgets both);
    check_table() compares such a table with an expected one
  - arg_error(): RabbitMQ's text for an invalid queue argument
  - let_pass(): wait for a TTL or a delay to run out (the clock, not the
    broker, is what the test waits for); holds(): a window in which a
    condition must stay true
  - queue_alive() / wait_deleted(): whether a queue exists, checked with
    queue.bind, because RabbitMQ 3.10 counts a passive queue.declare as a
    use of the queue and restarts its x-expires timer
  - wait_get(): basic.get polled until a message arrives
  - run_warren_only(): run a file of Warren-only cases, or against any
    other broker print every case as skipped
"""
import os
import sys
import time

import pika
import pika.exceptions

import harness
import rawamqp

REPLY_TO = "amq.rabbitmq.reply-to"

# RabbitMQ's largest x-message-ttl, x-expires and expiration: ten years in
# milliseconds (rabbit_misc:?MAX_EXPIRY_TIMER is 4294967295 for timers,
# but 3.10 checks arguments against this).
MAX_TTL = 315360000000


# Typed field tables ---------------------------------------------------

class _TypedDecoder(rawamqp.Decoder):
    """Field values as (type octet, value); tables as [(key, field)]."""

    def table(self):
        n = self.long_()
        end = self.pos + n
        out = []
        while self.pos < end:
            k = self.shortstr()
            out.append((k, self.field_value()))
        return out

    def array(self):
        n = self.long_()
        end = self.pos + n
        out = []
        while self.pos < end:
            out.append(self.field_value())
        return out

    def field_value(self):
        t = chr(self.data[self.pos])
        return (t, rawamqp.Decoder.field_value(self))


class RawMessage:
    """A message read on a raw socket: method arguments, properties in
    flag order (headers typed, the others plain), body."""

    def __init__(self, method, props, body):
        self.method = method
        self.props = props
        self.body = body

    @property
    def headers(self):
        for name, v in self.props:
            if name == "headers":
                return v
        return None

    def prop(self, name):
        for n, v in self.props:
            if n == name:
                return v
        return None

    def header(self, key):
        """The (type, value) of one header, or None."""
        for k, v in self.headers or []:
            if k == key:
                return v
        return None

    def __repr__(self):
        return "<RawMessage %r %r %r>" % (self.method, self.props, self.body)


def _decode_header_frame(payload):
    d = _TypedDecoder(payload)
    d.short()
    d.short()
    d.longlong()
    flags = d.short()
    props = []
    for i, (name, kind) in enumerate(rawamqp.BASIC_PROPERTIES):
        if flags & (1 << (15 - i)):
            props.append((name, getattr(d, kind)()))
    return props


def raw_get(t, queue, timeout=3.0):
    """basic.get (no-ack) on a raw connection, polled until a message is
    there; returns a RawMessage.  The queue must not be exclusive."""
    c = rawamqp.connect(t.broker)
    try:
        end = time.time() + timeout
        while True:
            r = c.get(1, queue)
            if r is not None:
                f, h, body = r
                return RawMessage(f.args, _decode_header_frame(h.payload),
                                  body)
            if time.time() >= end:
                raise AssertionError("no message in %s within %g s"
                                     % (queue, timeout))
            time.sleep(0.02)
    finally:
        try:
            c.close(2)
        except Exception:
            c.close_socket()


class _Any:
    def __repr__(self):
        return "ANY"


ANY = _Any()


def recent(v):
    """A timestamp field value within a minute of now."""
    return abs(v - time.time()) < 60


def check_table(got, want, what="table"):
    """got: [(key, (type, value))]; want: [(key, type, value)], where value
    may be ANY or a predicate.  Keys, order, types and values must match."""
    gk = [k for k, _ in got]
    wk = [k for k, _, _ in want]
    if gk != wk:
        raise AssertionError("%s keys %r, expected %r (full: %r)"
                             % (what, gk, wk, got))
    for (k, (gt, gv)), (_, wt, wv) in zip(got, want):
        if gt != wt:
            raise AssertionError("%s[%s] has type %r, expected %r (%r)"
                                 % (what, k, gt, wt, gv))
        if wv is ANY:
            continue
        if callable(wv):
            if not wv(gv):
                raise AssertionError("%s[%s] = %r fails %s"
                                     % (what, k, gv, wv.__name__))
        elif gv != wv:
            raise AssertionError("%s[%s] = %r, expected %r"
                                 % (what, k, gv, wv))


def strings(*items):
    """An array of longstr, as the typed decoder returns it."""
    return [("S", s.encode() if isinstance(s, str) else s) for s in items]


def x_death_entry(reason, queue, exchange, keys, original_expiration=None,
                  count=1, time_=recent):
    """One x-death table as RabbitMQ 3.10 writes it the first time a
    message dies: count, reason, queue, time, exchange, routing-keys,
    then original-expiration when the message had one."""
    e = [("count", "l", count), ("reason", "S", reason.encode()),
         ("queue", "S", queue.encode()), ("time", "T", time_),
         ("exchange", "S", exchange.encode()),
         ("routing-keys", "A", strings(*keys))]
    if original_expiration is not None:
        e.append(("original-expiration", "S", original_expiration.encode()))
    return e


def x_death_entry_sorted(reason, queue, exchange, keys, count,
                         original_expiration=None, time_=recent):
    """The x-death table RabbitMQ 3.10 writes for a death when the message
    already has an x-death header (a new table with count 1, or the one
    for the same queue and reason with its count incremented): the same
    fields, sorted by key.  The other tables are left as they were."""
    e = x_death_entry(reason, queue, exchange, keys, original_expiration,
                      count, time_)
    return sorted(e, key=lambda f: f[0])


def check_x_death(msg, entries, first):
    """msg (RawMessage) carries x-death with these tables (newest first)
    and x-first-death-* from first = (reason, queue, exchange)."""
    xd = msg.header("x-death")
    if xd is None:
        raise AssertionError("no x-death header: %r" % (msg.headers,))
    if xd[0] != "A":
        raise AssertionError("x-death has type %r" % xd[0])
    if len(xd[1]) != len(entries):
        raise AssertionError("x-death has %d tables, expected %d: %r"
                             % (len(xd[1]), len(entries), xd[1]))
    for i, ((t, table), want) in enumerate(zip(xd[1], entries)):
        if t != "F":
            raise AssertionError("x-death[%d] has type %r" % (i, t))
        check_table(table, want, "x-death[%d]" % i)
    reason, queue, exchange = first
    for key, v in (("x-first-death-exchange", exchange),
                   ("x-first-death-queue", queue),
                   ("x-first-death-reason", reason)):
        got = msg.header(key)
        if got != ("S", v.encode()):
            raise AssertionError("%s = %r, expected %r" % (key, got, v))


def header_keys(msg):
    return [k for k, _ in msg.headers or []]


# Reply texts ----------------------------------------------------------

def arg_error(t, arg, queue, why):
    """RabbitMQ's 406 text for an invalid queue argument."""
    return ("PRECONDITION_FAILED - invalid arg '%s' for queue '%s' in vhost "
            "'%s': %s" % (arg, queue, t.vhost, why))


def expected_integer(kind):
    return '"expected integer, got %s"' % kind


# Time -----------------------------------------------------------------

def let_pass(ms, since=None):
    """Wait until ms milliseconds (plus a margin) have passed since `since`
    (default: now).  For TTLs and delays: what the test waits for is the
    clock, which no poll of the broker can show."""
    since = time.time() if since is None else since
    left = since + ms / 1000.0 + 0.05 - time.time()
    if left > 0:
        time.sleep(left)


def holds(cond, seconds, what, interval=0.02):
    """cond() must stay true for the whole window (a thing that must not
    happen, such as a delivery or a deletion)."""
    end = time.time() + seconds
    while True:
        if not cond():
            raise AssertionError(what)
        if time.time() >= end:
            return
        time.sleep(interval)


def pump_all(conns, cond, timeout=5.0, what="condition"):
    """Run the I/O of several pika connections until cond() is true."""
    end = time.time() + timeout
    while not cond():
        if time.time() >= end:
            raise AssertionError("timed out waiting for " + what)
        for c in conns:
            if c.is_open:
                c.process_data_events(time_limit=0.01)
    return True


def pump_for(conns, seconds):
    """Run the I/O of several pika connections for a while (a window in
    which something must not arrive; the caller checks afterwards)."""
    end = time.time() + seconds
    while time.time() < end:
        for c in conns:
            if c.is_open:
                c.process_data_events(time_limit=0.01)


# Queues ---------------------------------------------------------------

def queue_alive(conn, queue):
    """Does queue exist?  Checked with queue.bind and queue.unbind on
    amq.direct, which RabbitMQ does not count as a use of the queue (a
    passive queue.declare restarts its x-expires timer)."""
    ch = conn.channel()
    key = "warren-ext-probe-%d" % os.getpid()
    try:
        ch.queue_bind(queue, "amq.direct", key)
        ch.queue_unbind(queue, "amq.direct", key)
    except pika.exceptions.ChannelClosedByBroker as e:
        if e.reply_code == 404:
            return False
        raise
    ch.close()
    return True


def wait_deleted(conn, queue, timeout=5.0):
    """Poll (with queue_alive) until queue is gone; return the seconds it
    took; fail at the deadline."""
    start = time.time()
    while queue_alive(conn, queue):
        if time.time() - start >= timeout:
            raise AssertionError("queue %s still exists after %g s"
                                 % (queue, timeout))
        time.sleep(0.02)
    return time.time() - start


def wait_get(ch, queue, timeout=5.0, auto_ack=True):
    """basic.get polled until a message arrives: (method, props, body)."""
    end = time.time() + timeout
    while True:
        m, p, body = ch.basic_get(queue, auto_ack=auto_ack)
        if m is not None:
            return m, p, body
        if time.time() >= end:
            raise AssertionError("no message in %s within %g s"
                                 % (queue, timeout))
        time.sleep(0.02)


def get_empty(ch, queue):
    """basic.get must answer get-empty."""
    m, _, body = ch.basic_get(queue, auto_ack=True)
    if m is not None:
        raise AssertionError("%s still held %r" % (queue, body))


# Warren-only files ----------------------------------------------------

def run_warren_only(reason="not RabbitMQ"):
    """Run the registered cases against Warren; against another broker
    (AMQP_URL without AMQP_IS_WARREN=1) report each as skipped."""
    broker = harness.start_broker()
    if broker.is_warren:
        harness.run()
        return
    tests = harness._tests
    print("1..%d" % len(tests))
    for i, fn in enumerate(tests, 1):
        print("ok %d - %s # SKIP %s" % (i, fn.__name__, reason))
    sys.stdout.flush()
    os._exit(0)
