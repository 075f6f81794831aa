"""Queue expiry (x-expires) with pika, as RabbitMQ 3.10: a queue unused for
the interval is deleted, messages and all; a consumer keeps it; so do
basic.get and a passive queue.declare (both count as use and restart the
timer).  Existence is checked with queue.bind (ext_util.queue_alive),
which does not count as use."""
import time

import harness
from py_util import test, eq, channel_error
from ext_util import (arg_error, expected_integer, queue_alive, wait_deleted,
                      holds, MAX_TTL)


def _expiring(t, ch, ms, **kw):
    return t.queue(ch, arguments={"x-expires": ms}, **kw)


@test
def unused_queue_deleted_after_interval(t):
    c = t.conn()
    ch = c.channel()
    start = time.time()
    q = _expiring(t, ch, 300)
    assert queue_alive(c, q)
    wait_deleted(c, q, timeout=5)
    took = time.time() - start
    assert took >= 0.25, "deleted after %.2f s, x-expires is 0.3 s" % took


@test
def queue_with_messages_still_expires(t):
    c = t.conn()
    ch = c.channel()
    q = _expiring(t, ch, 200)
    for i in range(3):
        ch.basic_publish("", q, b"m%d" % i)
    wait_deleted(c, q, timeout=5)
    with channel_error(404, "NOT_FOUND - no queue '%s' in vhost '%s'"
                       % (q, t.vhost)):
        c.channel().queue_declare(q, passive=True)


@test
def consumer_keeps_queue_alive(t):
    c = t.conn()
    ch = c.channel()
    q = _expiring(t, ch, 200)
    tag = ch.basic_consume(q, lambda *a: None, auto_ack=True)
    watcher = t.conn()
    holds(lambda: queue_alive(watcher, q), 0.7,
          "queue with a consumer expired")
    ch.basic_cancel(tag)
    start = time.time()
    wait_deleted(watcher, q, timeout=5)
    assert time.time() - start >= 0.15


@test
def consumer_connection_closing_starts_the_timer(t):
    c = t.conn()
    ch = c.channel()
    q = _expiring(t, ch, 200)
    ch.basic_consume(q, lambda *a: None, auto_ack=True)
    watcher = t.conn()
    holds(lambda: queue_alive(watcher, q), 0.4,
          "queue with a consumer expired")
    c.close()
    wait_deleted(watcher, q, timeout=5)


@test
def basic_get_counts_as_use(t):
    c = t.conn()
    ch = c.channel()
    q = _expiring(t, ch, 400)
    end = time.time() + 1.2
    while time.time() < end:
        ch.basic_get(q, auto_ack=True)      # 404 would close the channel
        time.sleep(0.1)
    wait_deleted(c, q, timeout=5)


@test
def passive_declare_counts_as_use(t):
    # RabbitMQ 3.10 restarts the expiry timer on queue.declare, passive or
    # not: a client polling a queue with passive declares keeps it alive.
    c = t.conn()
    ch = c.channel()
    q = _expiring(t, ch, 400)
    end = time.time() + 1.2
    while time.time() < end:
        ch.queue_declare(q, passive=True)
        time.sleep(0.1)
    wait_deleted(c, q, timeout=5)


@test
def redeclare_counts_as_use(t):
    c = t.conn()
    ch = c.channel()
    q = _expiring(t, ch, 400)
    end = time.time() + 1.2
    while time.time() < end:
        ch.queue_declare(q, arguments={"x-expires": 400})
        time.sleep(0.1)
    wait_deleted(c, q, timeout=5)


@test
def expired_queue_can_be_declared_again(t):
    c = t.conn()
    ch = c.channel()
    q = _expiring(t, ch, 150)
    ch.basic_publish("", q, b"old")
    wait_deleted(c, q, timeout=5)
    ok = ch.queue_declare(q)
    eq(ok.method.message_count, 0)


@test
def expired_queue_bindings_go_too(t):
    c = t.conn()
    ch = c.channel()
    x = t.exchange(ch, "direct")
    q = _expiring(t, ch, 150)
    ch.queue_bind(q, x, "k")
    wait_deleted(c, q, timeout=5)
    ch.queue_declare(q)                 # a new queue of the same name
    ch.basic_publish(x, "k", b"m")
    eq(ch.basic_get(q, auto_ack=True)[0], None)


# Validation -----------------------------------------------------------

def _bad_expires(t, value, why):
    ch = t.channel()
    q = t.name("q")
    t.forget_queue(q)
    with channel_error(406, arg_error(t, "x-expires", q, why)):
        ch.queue_declare(q, arguments={"x-expires": value})


@test
def expires_zero_406(t):
    _bad_expires(t, 0, "{value_zero,0}")


@test
def expires_negative_406(t):
    _bad_expires(t, -1, "{value_negative,-1}")


@test
def expires_string_406(t):
    _bad_expires(t, "1000", expected_integer("longstr"))


@test
def expires_bool_406(t):
    _bad_expires(t, True, expected_integer("bool"))


@test
def expires_too_large_406(t):
    _bad_expires(t, MAX_TTL + 1, "{value_too_large,%d}" % (MAX_TTL + 1))


@test
def expires_bounds_accepted(t):
    ch = t.channel()
    _expiring(t, ch, 1000)
    _expiring(t, ch, MAX_TTL)


harness.run()
