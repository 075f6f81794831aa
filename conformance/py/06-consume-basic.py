"""basic.consume and basic.cancel with pika and py-amqp: consumer tags,
exclusive consumers, no-ack, cancel, broker-sent cancel, round robin."""
import re

import amqp
import pika

import harness
from py_util import (test, eq, channel_error, connection_error, pump_until,
                     consume, wait_ready, Collector, sync, pyamqp_conn,
                     drain)


@test
def client_consumer_tag(t):
    c = t.conn()
    ch = c.channel()
    q = t.queue(ch)
    col = Collector()
    tag = ch.basic_consume(q, col, consumer_tag="my-tag-1")
    eq(tag, "my-tag-1")
    ch.basic_publish("", q, b"x")
    pump_until(c, lambda: col.msgs, what="delivery")
    eq(col.msgs[0][0].consumer_tag, "my-tag-1")


@test
def server_generated_consumer_tag(t):
    # pika invents tags itself; py-amqp sends an empty tag and the broker
    # names the consumer.
    c = pyamqp_conn(t)
    ch = c.channel()
    q = ch.queue_declare("", exclusive=True).queue
    got = []
    tag = ch.basic_consume(q, callback=got.append)
    assert re.match(r"^amq\.ctag-[A-Za-z0-9_-]{22}$", tag), tag
    tag2 = ch.basic_consume(q, callback=got.append)
    assert tag2 != tag and tag2.startswith("amq.ctag-"), tag2
    ch.basic_publish(amqp.Message(b"x"), "", q)
    c.drain_events(timeout=5)
    eq(got[0].delivery_info["consumer_tag"] in (tag, tag2), True)


@test
def reused_consumer_tag_530(t):
    c = pyamqp_conn(t)
    ch = c.channel()
    q = ch.queue_declare("", exclusive=True).queue
    ch.basic_consume(q, consumer_tag="dup", callback=lambda m: None)
    try:
        ch.basic_consume(q, consumer_tag="dup", callback=lambda m: None)
    except amqp.exceptions.NotAllowed as e:
        eq((e.code, e.reply_text, e.method_sig),
           (530, "NOT_ALLOWED - attempt to reuse consumer tag 'dup'",
            (60, 20)))
        return
    raise AssertionError("consumer tag reused")


@test
def same_tag_on_two_channels_ok(t):
    c = t.conn()
    ch1, ch2 = c.channel(), c.channel()
    q = t.queue(ch1)
    ch1.basic_consume(q, lambda *a: None, consumer_tag="shared")
    ch2.basic_consume(q, lambda *a: None, consumer_tag="shared")
    wait_ready(ch1, q, 0)
    eq(ch1.queue_declare(q, passive=True).method.consumer_count, 2)


@test
def consume_missing_queue_404(t):
    ch = t.channel()
    q = t.name("missing")
    with channel_error(404, "NOT_FOUND - no queue '%s' in vhost '%s'"
                       % (q, t.vhost)):
        ch.basic_consume(q, lambda *a: None)


@test
def exclusive_consumer_blocks_second(t):
    c = t.conn()
    ch = c.channel()
    q = t.queue(ch)
    ch.basic_consume(q, lambda *a: None, exclusive=True)
    with channel_error(403, "ACCESS_REFUSED - queue '%s' in vhost '%s' in "
                       "exclusive use" % (q, t.vhost)):
        t.channel().basic_consume(q, lambda *a: None)


@test
def exclusive_consumer_refused_when_consumers_exist(t):
    c = t.conn()
    ch = c.channel()
    q = t.queue(ch)
    ch.basic_consume(q, lambda *a: None)
    with channel_error(403, "ACCESS_REFUSED - queue '%s' in vhost '%s' in "
                       "exclusive use" % (q, t.vhost)):
        c.channel().basic_consume(q, lambda *a: None, exclusive=True)


@test
def exclusive_consumer_released_on_cancel(t):
    c = t.conn()
    ch = c.channel()
    q = t.queue(ch)
    tag = ch.basic_consume(q, lambda *a: None, exclusive=True)
    ch.basic_cancel(tag)
    ch2 = c.channel()
    ch2.basic_consume(q, lambda *a: None)
    ch2.basic_consume(q, lambda *a: None)


@test
def exclusive_consumer_gets_everything(t):
    c = t.conn()
    ch = c.channel()
    q = t.queue(ch)
    msgs = []
    ch.basic_consume(q, lambda *a: msgs.append(a[3]), exclusive=True,
                     auto_ack=True)
    for i in range(20):
        ch.basic_publish("", q, b"%d" % i)
    pump_until(c, lambda: len(msgs) >= 20, what="20 deliveries")
    eq(msgs, [b"%d" % i for i in range(20)])


@test
def no_ack_consumer_removes_messages(t):
    c = t.conn()
    ch = c.channel()
    q = t.queue(ch)
    for i in range(5):
        ch.basic_publish("", q, b"%d" % i)
    msgs = consume(c, ch, q, 5, auto_ack=True)
    eq([b for _, _, b in msgs], [b"%d" % i for i in range(5)])
    ch.close()               # nothing unacked: nothing comes back
    ch = c.channel()
    wait_ready(ch, q, 0)
    eq(ch.basic_get(q)[0], None)


@test
def no_ack_ignores_prefetch(t):
    c = t.conn()
    ch = c.channel()
    ch.basic_qos(prefetch_count=1)
    q = t.queue(ch)
    for i in range(10):
        ch.basic_publish("", q, b"%d" % i)
    msgs = consume(c, ch, q, 10, auto_ack=True)
    eq(len(msgs), 10)


@test
def cancel_stops_deliveries(t):
    c = t.conn()
    ch = c.channel()
    q = t.queue(ch)
    col = Collector()
    tag = ch.basic_consume(q, col, auto_ack=True)
    ch.basic_publish("", q, b"before")
    pump_until(c, lambda: col.msgs, what="first delivery")
    ch.basic_cancel(tag)
    ch.basic_publish("", q, b"after")
    eq(ch.basic_get(q, auto_ack=True)[2], b"after")
    eq(col.bodies(), [b"before"])
    eq(ch.consumer_tags, [])


@test
def cancel_unknown_tag_is_ok(t):
    # cancel-ok is sent even for a tag the channel never had.
    c = pyamqp_conn(t)
    ch = c.channel()
    eq(ch.basic_cancel("never-used"), "never-used")
    ch.queue_declare("", exclusive=True)


@test
def cancel_keeps_unacked_ackable(t):
    c = t.conn()
    ch = c.channel()
    q = t.queue(ch)
    for i in range(3):
        ch.basic_publish("", q, b"%d" % i)
    col = Collector()
    tag = ch.basic_consume(q, col)
    pump_until(c, lambda: len(col) >= 3, what="3 deliveries")
    ch.basic_cancel(tag)
    for m, _, _ in col.msgs:
        ch.basic_ack(m.delivery_tag)
    sync(ch)
    wait_ready(ch, q, 0)


@test
def broker_cancel_on_queue_delete(t):
    c = t.conn()
    ch = c.channel()
    q = t.queue(ch)
    cancels = []
    ch.add_on_cancel_callback(lambda frame: cancels.append(frame))
    tag = ch.basic_consume(q, lambda *a: None)
    t.channel().queue_delete(q)
    pump_until(c, lambda: cancels, what="basic.cancel")
    eq(cancels[0].method.NAME, "Basic.Cancel")
    eq(cancels[0].method.consumer_tag, tag)
    assert ch.is_open
    eq(ch.consumer_tags, [])
    q2 = t.queue(ch)            # the channel still works
    ch.basic_publish("", q2, b"x")
    eq(ch.basic_get(q2, auto_ack=True)[2], b"x")


@test
def broker_cancel_pyamqp(t):
    c = pyamqp_conn(t)
    ch = c.channel()
    q = ch.queue_declare(t.name("q"), auto_delete=False).queue
    t.forget_queue(q)
    cancelled = []
    tag = ch.basic_consume(q, callback=lambda m: None,
                           on_cancel=cancelled.append)
    c2 = pyamqp_conn(t)
    c2.channel().queue_delete(q)
    c.drain_events(timeout=5)
    eq(cancelled, [tag])


@test
def broker_cancel_every_consumer(t):
    c = t.conn()
    chans = [c.channel() for _ in range(3)]
    q = t.queue(chans[0])
    cancels = []
    for ch in chans:
        ch.add_on_cancel_callback(lambda frame: cancels.append(frame))
        ch.basic_consume(q, lambda *a: None)
        ch.basic_consume(q, lambda *a: None)
    t.channel().queue_delete(q)
    pump_until(c, lambda: len(cancels) >= 6, what="6 basic.cancel")
    eq(len(cancels), 6)


@test
def round_robin_between_consumers(t):
    c = t.conn()
    ch = c.channel()
    q = t.queue(ch)
    got = {"a": [], "b": [], "c": []}
    for tag in got:
        ch.basic_consume(q, lambda _c, m, p, b: got[m.consumer_tag].append(b),
                         auto_ack=True, consumer_tag=tag)
    for i in range(30):
        ch.basic_publish("", q, b"%d" % i)
    pump_until(c, lambda: sum(map(len, got.values())) >= 30,
               what="30 deliveries")
    for tag, msgs in got.items():
        eq(len(msgs), 10, "messages for %s" % tag)
    # strictly alternating: each consumer sees every third message
    firsts = sorted((int(got[k][0]), k) for k in got)
    for off, (start, tag) in enumerate(firsts):
        eq(got[tag], [b"%d" % i for i in range(start, 30, 3)], tag)


@test
def round_robin_across_connections(t):
    conns = [t.conn() for _ in range(3)]
    counts = [0, 0, 0]
    for i, c in enumerate(conns):
        ch = c.channel()
        if i == 0:
            q = t.queue(ch)
        ch.basic_qos(prefetch_count=1)

        def on(ch, m, p, b, i=i):
            counts[i] += 1
            ch.basic_ack(m.delivery_tag)
        ch.basic_consume(q, on)
    pub = t.channel()
    for j in range(30):
        pub.basic_publish("", q, b"%d" % j)

    def done():
        for c in conns:
            c.process_data_events(0.01)
        return sum(counts) >= 30
    harness.wait_for(done, 5)
    eq(sum(counts), 30)
    assert all(n > 0 for n in counts), counts


@test
def delivery_tags_per_channel(t):
    c = t.conn()
    ch1, ch2 = c.channel(), c.channel()
    q1, q2 = t.queue(ch1), t.queue(ch2)
    for i in range(3):
        ch1.basic_publish("", q1, b"x")
        ch2.basic_publish("", q2, b"x")
    m1 = consume(c, ch1, q1, 3, auto_ack=False)
    m2 = consume(c, ch2, q2, 3, auto_ack=False)
    eq([m.delivery_tag for m, _, _ in m1], [1, 2, 3])
    eq([m.delivery_tag for m, _, _ in m2], [1, 2, 3])
    ch1.basic_ack(3, multiple=True)
    ch2.basic_ack(3, multiple=True)


@test
def get_and_consume_share_tag_sequence(t):
    c = t.conn()
    ch = c.channel()
    q = t.queue(ch)
    for i in range(4):
        ch.basic_publish("", q, b"%d" % i)
    m, _, _ = ch.basic_get(q)
    eq(m.delivery_tag, 1)
    msgs = consume(c, ch, q, 3, auto_ack=False)
    eq([m.delivery_tag for m, _, _ in msgs], [2, 3, 4])
    ch.basic_ack(0, multiple=True)


@test
def consumer_sees_messages_published_before(t):
    c = t.conn()
    ch = c.channel()
    q = t.queue(ch)
    for i in range(10):
        ch.basic_publish("", q, b"%d" % i)
    msgs = consume(c, ch, q, 10)
    eq([b for _, _, b in msgs], [b"%d" % i for i in range(10)])


@test
def pika_consume_generator(t):
    c = t.conn()
    ch = c.channel()
    q = t.queue(ch)
    for i in range(3):
        ch.basic_publish("", q, b"%d" % i)
    got = []
    for m, p, body in ch.consume(q, inactivity_timeout=5):
        assert m is not None, "inactivity timeout"
        got.append(body)
        ch.basic_ack(m.delivery_tag)
        if len(got) == 3:
            break
    requeued = ch.cancel()
    eq(requeued, 0)
    eq(got, [b"0", b"1", b"2"])


harness.run()
