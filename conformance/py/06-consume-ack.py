"""Acknowledgements with pika: ack, nack, reject (single and multiple),
requeue and redelivered, unknown and double acks, recover, requeue of
unacked messages when a channel or connection goes away."""
import pika

import harness
from py_util import (test, eq, channel_error, connection_error, pump_until,
                     consume, wait_ready, Collector, sync, drain)


def _unknown(tag):
    return "PRECONDITION_FAILED - unknown delivery tag %d" % tag


def _setup(t, n, conn=None):
    """A queue with n messages "0".."n-1" consumed unacked on a channel."""
    c = conn or t.conn()
    ch = c.channel()
    q = t.queue(ch)
    for i in range(n):
        ch.basic_publish("", q, b"%d" % i)
    msgs = consume(c, ch, q, n, auto_ack=False)
    eq([b for _, _, b in msgs], [b"%d" % i for i in range(n)])
    return c, ch, q, msgs


def _ready(t, q, want):
    wait_ready(t.channel(), q, want)


@test
def ack_single(t):
    c, ch, q, msgs = _setup(t, 3)
    ch.basic_ack(msgs[1][0].delivery_tag)
    ch.close()                      # 0 and 2 come back
    ch = c.channel()
    wait_ready(ch, q, 2)
    eq(drain(ch, q), [b"0", b"2"])


@test
def ack_multiple(t):
    c, ch, q, msgs = _setup(t, 5)
    ch.basic_ack(msgs[2][0].delivery_tag, multiple=True)   # 0,1,2
    ch.close()
    ch = c.channel()
    wait_ready(ch, q, 2)
    eq(drain(ch, q), [b"3", b"4"])


@test
def ack_multiple_zero_acks_all(t):
    c, ch, q, msgs = _setup(t, 4)
    ch.basic_ack(0, multiple=True)
    sync(ch)
    ch.close()
    ch = c.channel()
    wait_ready(ch, q, 0)


@test
def ack_zero_single_406(t):
    c, ch, q, msgs = _setup(t, 1)
    ch.basic_ack(0)
    with channel_error(406, _unknown(0)):
        sync(ch)


@test
def ack_unknown_tag_406(t):
    c, ch, q, msgs = _setup(t, 2)
    ch.basic_ack(42)
    with channel_error(406, _unknown(42)):
        sync(ch)
    # the channel's unacked messages were requeued
    _ready(t, q, 2)


@test
def ack_unknown_tag_without_deliveries_406(t):
    ch = t.channel()
    ch.basic_ack(1)
    with channel_error(406, _unknown(1)):
        sync(ch)


@test
def double_ack_406(t):
    c, ch, q, msgs = _setup(t, 2)
    tag = msgs[0][0].delivery_tag
    ch.basic_ack(tag)
    ch.basic_ack(tag)
    with channel_error(406, _unknown(tag)):
        sync(ch)
    _ready(t, q, 1)                 # only the second one comes back


@test
def ack_multiple_then_single_406(t):
    c, ch, q, msgs = _setup(t, 3)
    ch.basic_ack(3, multiple=True)
    ch.basic_ack(2)
    with channel_error(406, _unknown(2)):
        sync(ch)


@test
def ack_on_other_channel_406(t):
    c, ch, q, msgs = _setup(t, 1)
    other = c.channel()
    other.basic_ack(msgs[0][0].delivery_tag)
    with channel_error(406, _unknown(msgs[0][0].delivery_tag)):
        sync(other)
    ch.basic_ack(msgs[0][0].delivery_tag)
    sync(ch)


@test
def nack_unknown_tag_406(t):
    ch = t.channel()
    ch.basic_nack(7)
    with channel_error(406, _unknown(7)):
        sync(ch)


@test
def reject_unknown_tag_406(t):
    ch = t.channel()
    ch.basic_reject(9)
    with channel_error(406, _unknown(9)):
        sync(ch)


@test
def ack_after_auto_ack_406(t):
    c = t.conn()
    ch = c.channel()
    q = t.queue(ch)
    ch.basic_publish("", q, b"x")
    (m, _, _), = consume(c, ch, q, 1, auto_ack=True)
    ch.basic_ack(m.delivery_tag)
    with channel_error(406, _unknown(m.delivery_tag)):
        sync(ch)


@test
def reject_requeue_redelivered(t):
    c, ch, q, msgs = _setup(t, 1)
    ch.basic_reject(msgs[0][0].delivery_tag, requeue=True)
    wait_ready(ch, q, 1)
    m, p, body = ch.basic_get(q)
    eq((body, m.redelivered), (b"0", True))
    ch.basic_ack(m.delivery_tag)


@test
def reject_no_requeue_drops(t):
    c, ch, q, msgs = _setup(t, 2)
    ch.basic_reject(msgs[0][0].delivery_tag, requeue=False)
    ch.close()
    ch = c.channel()
    wait_ready(ch, q, 1)
    eq(drain(ch, q), [b"1"])


@test
def nack_single_requeue(t):
    c, ch, q, msgs = _setup(t, 3)
    ch.basic_nack(msgs[1][0].delivery_tag, requeue=True)
    wait_ready(ch, q, 1)
    m, _, body = ch.basic_get(q, auto_ack=True)
    eq((body, m.redelivered), (b"1", True))


@test
def nack_multiple_requeue(t):
    c, ch, q, msgs = _setup(t, 4)
    ch.basic_nack(msgs[2][0].delivery_tag, multiple=True, requeue=True)
    wait_ready(ch, q, 3)
    got = []
    for _ in range(3):
        m, _, body = ch.basic_get(q, auto_ack=True)
        got.append((body, m.redelivered))
    # requeued messages keep their place at the head, in order
    eq(got, [(b"0", True), (b"1", True), (b"2", True)])
    ch.basic_ack(msgs[3][0].delivery_tag)


@test
def nack_multiple_no_requeue(t):
    c, ch, q, msgs = _setup(t, 4)
    ch.basic_nack(msgs[1][0].delivery_tag, multiple=True, requeue=False)
    ch.close()
    ch = c.channel()
    wait_ready(ch, q, 2)
    eq(drain(ch, q), [b"2", b"3"])


@test
def nack_zero_multiple_requeues_all(t):
    c, ch, q, msgs = _setup(t, 3)
    ch.basic_nack(0, multiple=True, requeue=True)
    wait_ready(ch, q, 3)
    eq(drain(ch, q), [b"0", b"1", b"2"])


@test
def requeue_goes_back_to_head(t):
    ch = t.channel()
    q = t.queue(ch)
    for b in (b"a", b"b", b"c"):
        ch.basic_publish("", q, b)
    m, _, body = ch.basic_get(q)
    eq(body, b"a")
    ch.basic_reject(m.delivery_tag, requeue=True)
    m, _, body = ch.basic_get(q, auto_ack=True)
    eq((body, m.redelivered), (b"a", True))
    eq(drain(ch, q), [b"b", b"c"])


@test
def requeued_to_consumer_redelivered(t):
    c = t.conn()
    ch = c.channel()
    q = t.queue(ch)
    ch.basic_publish("", q, b"again")
    seen = []

    def on(ch, m, p, body):
        seen.append((body, m.redelivered))
        if len(seen) == 1:
            ch.basic_nack(m.delivery_tag, requeue=True)
        else:
            ch.basic_ack(m.delivery_tag)
    ch.basic_consume(q, on)
    pump_until(c, lambda: len(seen) >= 2, what="redelivery")
    eq(seen, [(b"again", False), (b"again", True)])


@test
def recover_requeue(t):
    c, ch, q, msgs = _setup(t, 3)
    ch.basic_recover(requeue=True)
    wait_ready(ch, q, 3)
    got = [ch.basic_get(q, auto_ack=True) for _ in range(3)]
    eq([(b, m.redelivered) for m, _, b in got],
       [(b"0", True), (b"1", True), (b"2", True)])
    # the old tags are gone
    ch.basic_ack(msgs[0][0].delivery_tag)
    with channel_error(406, _unknown(msgs[0][0].delivery_tag)):
        sync(ch)


@test
def recover_redelivers_to_consumer(t):
    c = t.conn()
    ch = c.channel()
    q = t.queue(ch)
    ch.basic_publish("", q, b"r")
    col = Collector()
    ch.basic_consume(q, col)
    pump_until(c, lambda: col.msgs, what="delivery")
    ch.basic_recover(requeue=True)
    pump_until(c, lambda: len(col) >= 2, what="redelivery")
    m, _, body = col.msgs[1]
    eq((body, m.redelivered), (b"r", True))
    ch.basic_ack(m.delivery_tag)


@test
def recover_no_requeue_not_implemented(t):
    c, ch, q, msgs = _setup(t, 1)
    with connection_error(540, "NOT_IMPLEMENTED - requeue=false"):
        ch.basic_recover(requeue=False)


@test
def unacked_requeued_on_channel_close(t):
    c, ch, q, msgs = _setup(t, 3)
    ch.basic_ack(msgs[0][0].delivery_tag)
    ch.close()
    ch = c.channel()
    wait_ready(ch, q, 2)
    got = [ch.basic_get(q, auto_ack=True) for _ in range(2)]
    eq([(b, m.redelivered) for m, _, b in got], [(b"1", True), (b"2", True)])


@test
def unacked_requeued_on_connection_close(t):
    c, ch, q, msgs = _setup(t, 3)
    c.close()
    ch = t.channel()
    wait_ready(ch, q, 3)
    got = [ch.basic_get(q, auto_ack=True) for _ in range(3)]
    eq([(b, m.redelivered) for m, _, b in got],
       [(b"0", True), (b"1", True), (b"2", True)])


@test
def unacked_requeued_on_channel_error(t):
    c, ch, q, msgs = _setup(t, 2)
    with channel_error(404):
        ch.queue_declare(t.name("missing"), passive=True)
    ch = c.channel()
    wait_ready(ch, q, 2)


@test
def unacked_get_requeued_on_close(t):
    c = t.conn()
    ch = c.channel()
    q = t.queue(ch)
    ch.basic_publish("", q, b"g")
    m, _, _ = ch.basic_get(q)
    eq(m.redelivered, False)
    ch.close()
    ch = c.channel()
    wait_ready(ch, q, 1)
    m, _, body = ch.basic_get(q, auto_ack=True)
    eq((body, m.redelivered), (b"g", True))


@test
def unacked_requeued_to_other_consumer(t):
    c1 = t.conn()
    ch1 = c1.channel()
    q = t.queue(ch1)
    ch1.basic_publish("", q, b"hand over")
    (m, _, _), = consume(c1, ch1, q, 1, auto_ack=False)
    c2 = t.conn()
    ch2 = c2.channel()
    col = Collector()
    ch2.basic_consume(q, col)
    c1.close()
    pump_until(c2, lambda: col.msgs, what="redelivery to the other consumer")
    m, _, body = col.msgs[0]
    eq((body, m.redelivered), (b"hand over", True))
    ch2.basic_ack(m.delivery_tag)


harness.run()
