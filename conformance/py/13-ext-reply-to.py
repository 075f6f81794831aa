"""Direct reply-to (amq.rabbitmq.reply-to) with pika and py-amqp, as
RabbitMQ 3.10: a no-ack consumer on the pseudo-queue, a request published
on the same channel with reply_to=amq.rabbitmq.reply-to (the broker
rewrites it to amq.rabbitmq.reply-to.<token>), replies published to that
name through the default exchange delivered straight to the consumer; the
error cases with RabbitMQ's texts."""
import socket
import time

import pika

import harness
from py_util import (test, eq, channel_error, sync, Collector, pump_until,
                     pyamqp_conn)
from ext_util import REPLY_TO, wait_get


def _requester(t):
    """A connection with a reply consumer: (conn, channel, collector, tag)."""
    c = t.conn()
    ch = c.channel()
    col = Collector()
    tag = ch.basic_consume(REPLY_TO, col, auto_ack=True)
    return c, ch, col, tag


def _server_queue(t):
    ch = t.channel()
    return ch, t.queue(ch)


@test
def rpc_roundtrip(t):
    c, ch, col, tag = _requester(t)
    sch, sq = _server_queue(t)
    ch.basic_publish("", sq, b"request", pika.BasicProperties(
        reply_to=REPLY_TO, correlation_id="c-1"))
    m, p, body = wait_get(sch, sq)
    eq(body, b"request")
    assert p.reply_to.startswith(REPLY_TO + "."), p.reply_to
    assert len(p.reply_to) > len(REPLY_TO) + 1, p.reply_to
    eq(p.correlation_id, "c-1")
    sch.basic_publish("", p.reply_to, b"response", pika.BasicProperties(
        correlation_id=p.correlation_id, headers={"k": "v"}))
    pump_until(c, lambda: len(col) >= 1, 5, "the reply")
    method, props, body = col.msgs[0]
    eq(body, b"response")
    eq(method.consumer_tag, tag)
    eq(method.exchange, "")
    eq(method.routing_key, p.reply_to)
    eq(method.redelivered, False)
    eq(props.correlation_id, "c-1")
    eq(props.headers, {"k": "v"})


@test
def several_replies_in_order(t):
    c, ch, col, tag = _requester(t)
    sch, sq = _server_queue(t)
    for i in range(3):
        ch.basic_publish("", sq, b"q%d" % i,
                         pika.BasicProperties(reply_to=REPLY_TO))
    names = set()
    for i in range(3):
        m, p, body = wait_get(sch, sq)
        names.add(p.reply_to)
        sch.basic_publish("", p.reply_to, b"r" + body[1:])
    eq(len(names), 1)                  # one name per channel
    pump_until(c, lambda: len(col) >= 3, 5, "3 replies")
    eq(col.bodies(), [b"r0", b"r1", b"r2"])


@test
def reply_delivery_tag_does_not_use_up_a_tag(t):
    # RabbitMQ 3.10 sends a reply with the channel's next delivery tag
    # without using it up: the next ordinary delivery gets the same tag.
    c, ch, col, tag = _requester(t)
    q = t.queue(ch)
    other = Collector()
    ch.basic_consume(q, other, auto_ack=True)
    sch, sq = _server_queue(t)
    ch.basic_publish("", sq, b"q", pika.BasicProperties(reply_to=REPLY_TO))
    m, p, body = wait_get(sch, sq)
    seen = []
    for kind, body in (("r", b"r0"), ("n", b"n0"), ("r", b"r1"),
                       ("n", b"n1"), ("n", b"n2"), ("r", b"r2"),
                       ("r", b"r3")):
        sch.basic_publish("", p.reply_to if kind == "r" else q, body)
        pump_until(c, lambda: len(col) + len(other) > len(seen), 5, body)
        last = (col if kind == "r" else other).msgs[-1]
        seen.append((last[2], last[0].delivery_tag))
    eq(seen, [(b"r0", 1), (b"n0", 1), (b"r1", 2), (b"n1", 2), (b"n2", 3),
              (b"r2", 4), (b"r3", 4)])


@test
def declare_pseudo_queue(t):
    # Passive or not, without consuming: declare-ok with 0 messages and
    # (always) 1 consumer.
    ch = t.channel()
    for passive in (True, False):
        ok = ch.queue_declare(REPLY_TO, passive=passive)
        eq((ok.method.queue, ok.method.message_count,
            ok.method.consumer_count), (REPLY_TO, 0, 1))


@test
def declare_live_reply_name_passively(t):
    c, ch, col, tag = _requester(t)
    sch, sq = _server_queue(t)
    ch.basic_publish("", sq, b"q", pika.BasicProperties(reply_to=REPLY_TO))
    m, p, body = wait_get(sch, sq)
    ok = sch.queue_declare(p.reply_to, passive=True)
    eq((ok.method.queue, ok.method.message_count,
        ok.method.consumer_count), (p.reply_to, 0, 1))


@test
def declare_unknown_reply_name_404(t):
    ch = t.channel()
    name = REPLY_TO + ".bogus"
    with channel_error(404, "NOT_FOUND - no queue '%s' in vhost '%s'"
                       % (name, t.vhost)):
        ch.queue_declare(name, passive=True)


@test
def consume_with_acks_406(t):
    ch = t.channel()
    with channel_error(406, "PRECONDITION_FAILED - reply consumer cannot "
                       "acknowledge"):
        ch.basic_consume(REPLY_TO, lambda *a: None, auto_ack=False)


@test
def second_reply_consumer_406(t):
    ch = t.channel()
    ch.basic_consume(REPLY_TO, lambda *a: None, auto_ack=True)
    with channel_error(406, "PRECONDITION_FAILED - reply consumer already "
                       "set"):
        ch.basic_consume(REPLY_TO, lambda *a: None, auto_ack=True)


@test
def reply_consumers_on_two_channels(t):
    c = t.conn()
    for _ in range(2):
        c.channel().basic_consume(REPLY_TO, lambda *a: None, auto_ack=True)


@test
def exclusive_reply_consumer_accepted(t):
    ch = t.channel()
    ch.basic_consume(REPLY_TO, lambda *a: None, auto_ack=True,
                     exclusive=True)


@test
def publish_reply_to_without_consumer_406(t):
    ch = t.channel()
    sch, sq = _server_queue(t)
    with channel_error(406, "PRECONDITION_FAILED - fast reply consumer does "
                       "not exist"):
        ch.basic_publish("", sq, b"q", pika.BasicProperties(reply_to=REPLY_TO))
        sync(ch)
    eq(sch.basic_get(sq, auto_ack=True)[0], None)


@test
def publish_reply_to_on_another_channel_406(t):
    c, ch, col, tag = _requester(t)
    other = c.channel()
    sch, sq = _server_queue(t)
    with channel_error(406, "PRECONDITION_FAILED - fast reply consumer does "
                       "not exist"):
        other.basic_publish("", sq, b"q",
                            pika.BasicProperties(reply_to=REPLY_TO))
        sync(other)


@test
def publish_reply_to_after_cancel_406(t):
    c, ch, col, tag = _requester(t)
    ch.basic_cancel(tag)
    sch, sq = _server_queue(t)
    with channel_error(406, "PRECONDITION_FAILED - fast reply consumer does "
                       "not exist"):
        ch.basic_publish("", sq, b"q", pika.BasicProperties(reply_to=REPLY_TO))
        sync(ch)


@test
def basic_get_on_pseudo_queue_404(t):
    ch = t.channel()
    with channel_error(404, "NOT_FOUND - no queue '%s' in vhost '%s'"
                       % (REPLY_TO, t.vhost)):
        ch.basic_get(REPLY_TO, auto_ack=True)


@test
def bind_pseudo_queue_404(t):
    ch = t.channel()
    with channel_error(404, "NOT_FOUND - no queue '%s' in vhost '%s'"
                       % (REPLY_TO, t.vhost)):
        ch.queue_bind(REPLY_TO, "amq.direct", "k")


@test
def publish_to_pseudo_queue_itself_is_unroutable(t):
    ch = t.channel()
    ch.confirm_delivery()
    try:
        ch.basic_publish("", REPLY_TO, b"r", mandatory=True)
    except pika.exceptions.UnroutableError as e:
        r = e.messages[0].method
        eq((r.reply_code, r.reply_text, r.routing_key),
           (312, "NO_ROUTE", REPLY_TO))
    else:
        raise AssertionError("publish to %s was not returned" % REPLY_TO)


@test
def reply_to_unknown_name_returned_or_dropped(t):
    ch = t.channel()
    name = REPLY_TO + ".bogus"
    ch.basic_publish("", name, b"r")   # not mandatory: dropped
    sync(ch)
    ch.confirm_delivery()
    try:
        ch.basic_publish("", name, b"r", mandatory=True)
    except pika.exceptions.UnroutableError as e:
        r = e.messages[0].method
        eq((r.reply_code, r.reply_text, r.exchange, r.routing_key),
           (312, "NO_ROUTE", "", name))
    else:
        raise AssertionError("reply to an unknown name was not returned")


@test
def reply_after_requester_left_is_returned(t):
    c, ch, col, tag = _requester(t)
    sch, sq = _server_queue(t)
    ch.basic_publish("", sq, b"q", pika.BasicProperties(reply_to=REPLY_TO))
    m, p, body = wait_get(sch, sq)
    c.close()
    sch.confirm_delivery()
    end = time.time() + 5
    while True:
        try:
            sch.basic_publish("", p.reply_to, b"late", mandatory=True)
        except pika.exceptions.UnroutableError:
            return
        # The requester's channel may still be going away: poll.
        if time.time() >= end:
            raise AssertionError("reply to a closed requester routed")
        time.sleep(0.05)


@test
def reply_to_through_an_exchange_is_not_routed(t):
    # Only the default exchange knows reply names.
    c, ch, col, tag = _requester(t)
    sch, sq = _server_queue(t)
    ch.basic_publish("", sq, b"q", pika.BasicProperties(reply_to=REPLY_TO))
    m, p, body = wait_get(sch, sq)
    sch.confirm_delivery()
    try:
        sch.basic_publish("amq.direct", p.reply_to, b"r", mandatory=True)
    except pika.exceptions.UnroutableError:
        pass
    else:
        raise AssertionError("reply through amq.direct was routed")


@test
def pyamqp_rpc_roundtrip(t):
    import amqp
    c = pyamqp_conn(t)
    ch = c.channel()
    got = []
    ch.basic_consume(REPLY_TO, callback=got.append, no_ack=True)
    sch, sq = _server_queue(t)
    ch.basic_publish(amqp.Message(b"ping", reply_to=REPLY_TO,
                                  correlation_id="x"), "", sq)
    m, p, body = wait_get(sch, sq)
    sch.basic_publish("", p.reply_to, b"pong",
                      pika.BasicProperties(correlation_id="x"))
    end = time.time() + 5
    while not got and time.time() < end:
        try:
            c.drain_events(timeout=0.1)
        except socket.timeout:
            pass
    eq([(g.body, g.properties.get("correlation_id")) for g in got],
       [(b"pong", "x")])


harness.run()
