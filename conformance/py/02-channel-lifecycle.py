"""Channels with pika: many at once, reuse of numbers, channel.flow, and
what happens around a channel closed by an error."""
import pika
import pika.exceptions

import harness
from py_util import test, eq, channel_error, connection_error, sync


@test
def open_many_channels(t):
    c = t.conn()
    chans = [c.channel() for _ in range(200)]
    eq(len({ch.channel_number for ch in chans}), 200, "distinct numbers")
    for ch in chans:
        assert ch.is_open
    # each one works
    for ch in chans[::20]:
        ch.queue_declare("", exclusive=True)
    for ch in chans:
        ch.close()
    assert all(ch.is_closed for ch in chans)
    assert c.is_open


@test
def close_and_reopen_same_number(t):
    c = t.conn()
    ch = c.channel(channel_number=7)
    eq(ch.channel_number, 7)
    q = t.queue(ch)
    ch.close()
    ch = c.channel(channel_number=7)
    eq(ch.channel_number, 7)
    ch.basic_publish("", q, b"again")
    m, _, body = ch.basic_get(q, auto_ack=True)
    eq(body, b"again")


@test
def reopen_many_times(t):
    c = t.conn()
    for _ in range(50):
        ch = c.channel(channel_number=3)
        ch.close()
    ch = c.channel(channel_number=3)
    ch.queue_declare("", exclusive=True)


@test
def second_open_of_same_channel_is_connection_error(t):
    c = t.conn()
    c.channel(channel_number=4)
    with connection_error(504, "CHANNEL_ERROR - second 'channel.open' seen"):
        c.channel(channel_number=4)
    assert c.is_closed


@test
def channel_flow_active_true(t):
    c = t.conn()
    ch = c.channel()
    eq(ch.flow(True), True, "flow-ok active")
    q = t.queue(ch)
    ch.basic_publish("", q, b"x")
    eq(ch.basic_get(q, auto_ack=True)[2], b"x")


@test
def channel_flow_active_false_not_implemented(t):
    # RabbitMQ does not let clients pause deliveries with channel.flow.
    c = t.conn()
    ch = c.channel()
    with connection_error(540, "NOT_IMPLEMENTED - active=false"):
        ch.flow(False)


@test
def error_closes_only_that_channel(t):
    c = t.conn()
    ch1 = c.channel()
    ch2 = c.channel()
    q = t.queue(ch2)
    missing = t.name("missing")
    with channel_error(404, "NOT_FOUND - no queue '%s' in vhost '%s'"
                       % (missing, t.vhost)):
        ch1.queue_declare(missing, passive=True)
    assert ch1.is_closed
    assert ch2.is_open and c.is_open
    ch2.basic_publish("", q, b"still here")
    eq(ch2.basic_get(q, auto_ack=True)[2], b"still here")


@test
def operations_on_errored_channel_raise(t):
    c = t.conn()
    ch = c.channel()
    with channel_error(404):
        ch.exchange_declare(t.name("missing"), passive=True)
    for op in (lambda: ch.queue_declare("", exclusive=True),
               lambda: ch.basic_publish("", "q", b"x"),
               lambda: ch.basic_get("q"),
               lambda: ch.basic_qos(prefetch_count=1)):
        try:
            op()
        except pika.exceptions.ChannelWrongStateError:
            continue
        raise AssertionError("operation on a closed channel succeeded")
    assert c.is_open


@test
def errored_channel_number_reusable(t):
    c = t.conn()
    ch = c.channel()
    n = ch.channel_number
    with channel_error(404):
        ch.queue_declare(t.name("missing"), passive=True)
    ch = c.channel(channel_number=n)
    q = t.queue(ch)
    ch.basic_publish("", q, b"reuse")
    eq(ch.basic_get(q, auto_ack=True)[2], b"reuse")


@test
def async_error_after_publish(t):
    # basic.publish has no reply: the 404 arrives as channel.close while
    # the client waits for the reply to its next synchronous method.
    c = t.conn()
    ch = c.channel()
    x = t.name("missing-x")
    ch.basic_publish(x, "k", b"lost")
    with channel_error(404, "NOT_FOUND - no exchange '%s' in vhost '%s'"
                       % (x, t.vhost)):
        sync(ch)
    assert c.is_open


@test
def frames_after_error_are_discarded(t):
    # Publishes sent after the broker closed the channel (before the client
    # saw close) are dropped, not delivered.
    c = t.conn()
    ch = c.channel()
    other = c.channel()
    q = t.queue(other)
    with channel_error(404):
        ch.basic_publish(t.name("missing-x"), "k", b"first")
        # pika raises as soon as it reads the close, maybe in this loop.
        for i in range(20):
            ch.basic_publish("", q, b"after %d" % i)
        sync(ch)
    # Every publish sent after the failing one hit a closing channel: the
    # queue holds only a marker published afterwards.
    other.basic_publish("", q, b"marker")
    got = []
    while b"marker" not in got:
        m, _, body = other.basic_get(q, auto_ack=True)
        if m is not None:
            got.append(body)
    eq(got, [b"marker"])


@test
def client_close_then_use_raises(t):
    c = t.conn()
    ch = c.channel()
    ch.close()
    try:
        ch.queue_declare("", exclusive=True)
    except pika.exceptions.ChannelWrongStateError:
        pass
    else:
        raise AssertionError("queue_declare on a closed channel")
    assert c.is_open


@test
def channels_are_independent_for_consumers(t):
    c = t.conn()
    chs = [c.channel() for _ in range(5)]
    q = t.queue(chs[0])
    got = {}

    def on(ch, m, p, b):
        got.setdefault(ch.channel_number, []).append(b)
        ch.basic_ack(m.delivery_tag)
    for ch in chs:
        ch.basic_qos(prefetch_count=1)
        ch.basic_consume(q, on)
    pub = c.channel()
    for i in range(25):
        pub.basic_publish("", q, b"%d" % i)
    harness.wait_for(lambda: (c.process_data_events(0.02) or
                              sum(map(len, got.values())) >= 25), 5)
    eq(sum(map(len, got.values())), 25, "delivered")
    eq(len(got), 5, "channels that received messages")


@test
def connection_close_closes_channels(t):
    c = t.conn()
    chs = [c.channel() for _ in range(5)]
    c.close()
    assert all(ch.is_closed for ch in chs)


harness.run()
