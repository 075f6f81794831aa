"""Priority queues (x-max-priority and the priority property) with pika, as
RabbitMQ 3.10: higher priorities first, FIFO within one priority, no
priority means 0, priorities above the maximum count as the maximum,
requeued messages go back to their place in their priority, x-max-priority
0 is an ordinary FIFO queue, 1..255 are allowed and other values get
RabbitMQ's texts."""
import pika

import harness
from py_util import (test, eq, channel_error, wait_ready, drain, Collector,
                     pump_until)
from ext_util import arg_error, expected_integer


def _pq(t, ch, maxp):
    return t.queue(ch, arguments={"x-max-priority": maxp})


def _publish(ch, q, items):
    """items: (body, priority or None)."""
    for body, prio in items:
        ch.basic_publish("", q, body.encode(),
                         pika.BasicProperties(priority=prio))
    wait_ready(ch, q, len(items))


def _bodies(ch, q):
    return [b.decode() for b in drain(ch, q)]


@test
def higher_priority_first_fifo_within(t):
    ch = t.channel()
    q = _pq(t, ch, 10)
    _publish(ch, q, [("a1", 1), ("b5", 5), ("c1", 1), ("d9", 9),
                     ("e5", 5), ("f9", 9), ("g0", 0)])
    eq(_bodies(ch, q), ["d9", "f9", "b5", "e5", "a1", "c1", "g0"])


@test
def no_priority_property_is_zero(t):
    ch = t.channel()
    q = _pq(t, ch, 5)
    _publish(ch, q, [("none1", None), ("zero", 0), ("one", 1),
                     ("none2", None)])
    eq(_bodies(ch, q), ["one", "none1", "zero", "none2"])


@test
def priority_above_max_counts_as_max(t):
    ch = t.channel()
    q = _pq(t, ch, 5)
    _publish(ch, q, [("a0", 0), ("b3", 3), ("c9", 9), ("d5", 5),
                     ("e", None), ("f3", 3), ("g200", 200), ("h1", 1)])
    eq(_bodies(ch, q), ["c9", "d5", "g200", "b3", "f3", "h1", "a0", "e"])


@test
def max_priority_one(t):
    ch = t.channel()
    q = _pq(t, ch, 1)
    _publish(ch, q, [("a0", 0), ("b3", 3), ("c1", 1), ("d", None)])
    eq(_bodies(ch, q), ["b3", "c1", "a0", "d"])


@test
def max_priority_255(t):
    ch = t.channel()
    q = _pq(t, ch, 255)
    _publish(ch, q, [("p1", 1), ("p255", 255), ("p254", 254), ("p0", 0)])
    eq(_bodies(ch, q), ["p255", "p254", "p1", "p0"])


@test
def max_priority_zero_is_plain_fifo(t):
    ch = t.channel()
    q = _pq(t, ch, 0)
    _publish(ch, q, [("a0", 0), ("b3", 3), ("c9", 9)])
    eq(_bodies(ch, q), ["a0", "b3", "c9"])


@test
def ordinary_queue_ignores_priority(t):
    ch = t.channel()
    q = t.queue(ch)
    _publish(ch, q, [("a0", 0), ("b3", 3), ("c9", 9)])
    eq(_bodies(ch, q), ["a0", "b3", "c9"])


@test
def priority_property_delivered_unchanged(t):
    ch = t.channel()
    q = _pq(t, ch, 5)
    _publish(ch, q, [("big", 200)])
    m, p, body = ch.basic_get(q, auto_ack=True)
    eq(p.priority, 200)


@test
def requeue_returns_to_place_in_priority(t):
    ch = t.channel()
    q = _pq(t, ch, 10)
    _publish(ch, q, [("lo1", 1), ("hi5", 5), ("lo2", 1), ("hi6", 5)])
    got = [ch.basic_get(q, auto_ack=False) for _ in range(3)]
    eq([g[2] for g in got], [b"hi5", b"hi6", b"lo1"])
    ch.basic_publish("", q, b"hi7", pika.BasicProperties(priority=5))
    wait_ready(ch, q, 2)
    ch.basic_nack(got[-1][0].delivery_tag, multiple=True, requeue=True)
    wait_ready(ch, q, 5)
    out = []
    while True:
        m, _, body = ch.basic_get(q, auto_ack=True)
        if m is None:
            break
        out.append((body.decode(), m.redelivered))
    eq(out, [("hi5", True), ("hi6", True), ("hi7", False), ("lo1", True),
             ("lo2", False)])


@test
def consumer_gets_backlog_highest_first(t):
    c = t.conn()
    ch = c.channel()
    q = _pq(t, ch, 10)
    _publish(ch, q, [("low0", 1), ("low1", 1), ("low2", 1), ("high", 9),
                     ("mid", 4)])
    ch.basic_qos(prefetch_count=1)
    col = Collector(ack=True)
    ch.basic_consume(q, col, auto_ack=False)
    pump_until(c, lambda: len(col) >= 5, 5, "5 deliveries")
    eq([b.decode() for b in col.bodies()],
       ["high", "mid", "low0", "low1", "low2"])


@test
def high_priority_overtakes_while_consumer_busy(t):
    c = t.conn()
    ch = c.channel()
    q = _pq(t, ch, 10)
    ch.basic_qos(prefetch_count=1)
    col = Collector()
    ch.basic_consume(q, col, auto_ack=False)
    pub = c.channel()
    pub.basic_publish("", q, b"first", pika.BasicProperties(priority=1))
    pump_until(c, lambda: len(col) >= 1, 5, "first")
    for body, prio in (("l1", 1), ("l2", 1), ("h", 8)):
        pub.basic_publish("", q, body.encode(),
                          pika.BasicProperties(priority=prio))
    wait_ready(pub, q, 3)
    for n in (2, 3, 4):
        ch.basic_ack(col.msgs[-1][0].delivery_tag)
        pump_until(c, lambda: len(col) >= n, 5, "%d deliveries" % n)
    ch.basic_ack(col.msgs[-1][0].delivery_tag)
    eq(col.bodies(), [b"first", b"h", b"l1", b"l2"])


@test
def priority_with_max_length_drops_the_next_to_deliver(t):
    # drop-head in a priority queue drops from the head: the message that
    # would be delivered next, i.e. the oldest of the highest priority.
    ch = t.channel()
    q = t.queue(ch, arguments={"x-max-priority": 5, "x-max-length": 2})
    for body, prio in (("lo", 1), ("hi", 5), ("mid", 3)):
        ch.basic_publish("", q, body.encode(),
                         pika.BasicProperties(priority=prio))
    wait_ready(ch, q, 2)
    eq(_bodies(ch, q), ["mid", "lo"])


# Validation ------------------------------------------------------------

def _bad(t, value, why):
    ch = t.channel()
    q = t.name("q")
    t.forget_queue(q)
    with channel_error(406, arg_error(t, "x-max-priority", q, why)):
        ch.queue_declare(q, arguments={"x-max-priority": value})


@test
def max_priority_256_406(t):
    _bad(t, 256, "{max_value_exceeded,256}")


@test
def max_priority_huge_406(t):
    _bad(t, 2 ** 40, "{max_value_exceeded,%d}" % 2 ** 40)


@test
def max_priority_negative_406(t):
    _bad(t, -1, "{value_negative,-1}")


@test
def max_priority_string_406(t):
    _bad(t, "5", expected_integer("longstr"))


@test
def max_priority_bool_406(t):
    _bad(t, True, expected_integer("bool"))


@test
def max_priority_redeclare_must_match(t):
    ch = t.channel()
    q = _pq(t, ch, 5)
    with channel_error(406, "PRECONDITION_FAILED - inequivalent arg "
                       "'x-max-priority' for queue '%s' in vhost '%s': "
                       "received none but current is the value '5' of type "
                       "'signedint'" % (q, t.vhost)):
        ch.queue_declare(q)


harness.run()
