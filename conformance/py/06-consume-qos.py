"""basic.qos with pika: prefetch_count per consumer and per channel
(global), changes while consuming, prefetch_size, no-ack consumers."""
import pika

import harness
from py_util import (test, eq, connection_error, pump_until, wait_ready,
                     Collector, sync)


# How long a client keeps reading to see that no extra delivery arrives.
NEGATIVE_WINDOW = 0.1


def _queue_with(t, ch, n):
    q = t.queue(ch)
    for i in range(n):
        ch.basic_publish("", q, b"%d" % i)
    return q


def _settle(c, col, n, q, ready, ch):
    """Wait for n deliveries and `ready` messages left in q, then check
    that no further delivery arrives while the client keeps reading."""
    pump_until(c, lambda: len(col) >= n, what="%d deliveries" % n)
    wait_ready(ch, q, ready)
    c.process_data_events(NEGATIVE_WINDOW)
    eq(len(col), n, "deliveries under the prefetch limit")


@test
def prefetch_count_honoured(t):
    c = t.conn()
    ch = c.channel()
    q = _queue_with(t, ch, 10)
    ch.basic_qos(prefetch_count=3)
    col = Collector()
    ch.basic_consume(q, col)
    _settle(c, col, 3, q, 7, t.channel())
    ch.basic_ack(col.msgs[0][0].delivery_tag)
    _settle(c, col, 4, q, 6, t.channel())
    ch.basic_ack(col.msgs[3][0].delivery_tag, multiple=True)
    _settle(c, col, 7, q, 3, t.channel())


@test
def prefetch_one_strict_alternation(t):
    c = t.conn()
    ch = c.channel()
    q = _queue_with(t, ch, 5)
    ch.basic_qos(prefetch_count=1)
    col = Collector()
    ch.basic_consume(q, col)
    for i in range(5):
        _settle(c, col, i + 1, q, 4 - i, t.channel())
        eq(col.msgs[i][2], b"%d" % i)
        ch.basic_ack(col.msgs[i][0].delivery_tag)


@test
def prefetch_freed_by_reject_and_nack(t):
    c = t.conn()
    ch = c.channel()
    q = _queue_with(t, ch, 6)
    ch.basic_qos(prefetch_count=2)
    col = Collector()
    ch.basic_consume(q, col)
    _settle(c, col, 2, q, 4, t.channel())
    ch.basic_reject(col.msgs[0][0].delivery_tag, requeue=False)
    _settle(c, col, 3, q, 3, t.channel())
    ch.basic_nack(col.msgs[2][0].delivery_tag, multiple=True, requeue=False)
    _settle(c, col, 5, q, 1, t.channel())


@test
def prefetch_zero_is_unlimited(t):
    c = t.conn()
    ch = c.channel()
    q = _queue_with(t, ch, 50)
    ch.basic_qos(prefetch_count=0)
    col = Collector()
    ch.basic_consume(q, col)
    pump_until(c, lambda: len(col) >= 50, what="50 deliveries")
    wait_ready(ch, q, 0)


@test
def prefetch_per_consumer(t):
    # global=false: each consumer created afterwards gets its own limit.
    c = t.conn()
    ch = c.channel()
    q1 = _queue_with(t, ch, 5)
    q2 = _queue_with(t, ch, 5)
    ch.basic_qos(prefetch_count=2)
    col1, col2 = Collector(), Collector()
    ch.basic_consume(q1, col1)
    ch.basic_consume(q2, col2)
    pump_until(c, lambda: len(col1) >= 2 and len(col2) >= 2,
               what="2 + 2 deliveries")
    wait_ready(t.channel(), q1, 3)
    wait_ready(t.channel(), q2, 3)
    c.process_data_events(NEGATIVE_WINDOW)
    eq((len(col1), len(col2)), (2, 2))


@test
def prefetch_global_shared_by_channel(t):
    # global=true: one limit shared by every consumer on the channel.
    c = t.conn()
    ch = c.channel()
    q1 = _queue_with(t, ch, 5)
    q2 = _queue_with(t, ch, 5)
    ch.basic_qos(prefetch_count=2, global_qos=True)
    col = Collector()
    ch.basic_consume(q1, col)
    ch.basic_consume(q2, col)
    pump_until(c, lambda: len(col) >= 2, what="2 deliveries")
    probe = t.channel()
    wait_ready(probe, q1, 5 - sum(1 for m in col.msgs
                                  if m[0].routing_key == q1))
    c.process_data_events(NEGATIVE_WINDOW)
    eq(len(col), 2, "deliveries across both consumers")
    total = (probe.queue_declare(q1, passive=True).method.message_count +
             probe.queue_declare(q2, passive=True).method.message_count)
    eq(total, 8, "ready messages left")
    ch.basic_ack(0, multiple=True)
    pump_until(c, lambda: len(col) >= 4, what="2 more deliveries")
    c.process_data_events(NEGATIVE_WINDOW)
    eq(len(col), 4)


@test
def prefetch_global_and_per_consumer(t):
    # Both limits apply: per-consumer 1, then channel 3, four consumers.
    c = t.conn()
    ch = c.channel()
    qs = [_queue_with(t, ch, 3) for _ in range(4)]
    ch.basic_qos(prefetch_count=1, global_qos=False)
    ch.basic_qos(prefetch_count=3, global_qos=True)
    col = Collector()
    for q in qs:
        ch.basic_consume(q, col)
    pump_until(c, lambda: len(col) >= 3, what="3 deliveries")
    c.process_data_events(NEGATIVE_WINDOW)
    eq(len(col), 3, "channel limit")
    eq(len({m[0].consumer_tag for m in col.msgs}), 3,
       "one message per consumer")


@test
def per_consumer_qos_clears_global(t):
    # RabbitMQ 3.10's handler for basic.qos global=false also drops the
    # channel-wide limit ("if default was set to global, we disable it"),
    # so global 3 followed by per-consumer 1 leaves only the latter.
    c = t.conn()
    ch = c.channel()
    qs = [_queue_with(t, ch, 3) for _ in range(4)]
    ch.basic_qos(prefetch_count=3, global_qos=True)
    ch.basic_qos(prefetch_count=1, global_qos=False)
    col = Collector()
    for q in qs:
        ch.basic_consume(q, col)
    pump_until(c, lambda: len(col) >= 4, what="4 deliveries")
    c.process_data_events(NEGATIVE_WINDOW)
    eq(len(col), 4, "one per consumer, no channel limit")


@test
def raising_per_consumer_prefetch_affects_new_consumers_only(t):
    c = t.conn()
    ch = c.channel()
    q = _queue_with(t, ch, 10)
    ch.basic_qos(prefetch_count=1)
    col = Collector()
    ch.basic_consume(q, col)
    _settle(c, col, 1, q, 9, t.channel())
    ch.basic_qos(prefetch_count=3)      # the existing consumer keeps 1
    c.process_data_events(NEGATIVE_WINDOW)
    eq(len(col), 1)
    col2 = Collector()
    ch.basic_consume(q, col2)           # the new one gets 3
    pump_until(c, lambda: len(col2) >= 3, what="3 deliveries")
    wait_ready(t.channel(), q, 6)


@test
def raising_global_prefetch_applies_at_once(t):
    c = t.conn()
    ch = c.channel()
    q = _queue_with(t, ch, 10)
    ch.basic_qos(prefetch_count=1, global_qos=True)
    col = Collector()
    ch.basic_consume(q, col)
    _settle(c, col, 1, q, 9, t.channel())
    ch.basic_qos(prefetch_count=3, global_qos=True)
    _settle(c, col, 3, q, 7, t.channel())


@test
def prefetch_across_channels_is_independent(t):
    c = t.conn()
    ch1, ch2 = c.channel(), c.channel()
    q = _queue_with(t, ch1, 10)
    ch1.basic_qos(prefetch_count=1)
    ch2.basic_qos(prefetch_count=2)
    col1, col2 = Collector(), Collector()
    ch1.basic_consume(q, col1)
    ch2.basic_consume(q, col2)
    pump_until(c, lambda: len(col1) >= 1 and len(col2) >= 2,
               what="1 + 2 deliveries")
    wait_ready(t.channel(), q, 7)
    c.process_data_events(NEGATIVE_WINDOW)
    eq((len(col1), len(col2)), (1, 2))


@test
def prefetch_does_not_limit_basic_get(t):
    ch = t.channel()
    q = _queue_with(t, ch, 5)
    ch.basic_qos(prefetch_count=1)
    got = [ch.basic_get(q) for _ in range(5)]
    eq([b for _, _, b in got], [b"%d" % i for i in range(5)])
    ch.basic_ack(0, multiple=True)


@test
def prefetch_size_not_implemented(t):
    ch = t.channel()
    with connection_error(540, "NOT_IMPLEMENTED - prefetch_size!=0 (1000)"):
        ch.basic_qos(prefetch_size=1000)


@test
def qos_ok_with_global(t):
    ch = t.channel()
    ch.basic_qos(prefetch_count=5, global_qos=True)
    ch.basic_qos(prefetch_count=0, global_qos=True)
    ch.basic_qos(prefetch_count=65535)
    sync(ch)


harness.run()
