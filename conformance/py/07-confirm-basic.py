"""Publisher confirms with pika (synchronous confirm_delivery), py-amqp
(asynchronous acks, multiple) and kombu (confirm_publish)."""
import time

import amqp
import kombu
import pika
import pika.exceptions

import harness
from py_util import (test, eq, channel_error, sync, wait_ready, drain,
                     pyamqp_conn, deadline)


@test
def confirm_routed(t):
    ch = t.channel()
    q = t.queue(ch)
    ch.confirm_delivery()
    for i in range(10):
        ch.basic_publish("", q, b"%d" % i)      # raises on nack
    wait_ready(ch, q, 10)


@test
def confirm_unroutable_is_acked(t):
    ch = t.channel()
    x = t.exchange(ch, "direct")
    ch.confirm_delivery()
    ch.basic_publish(x, "nobody", b"dropped")   # ack, no exception
    ch.basic_publish("", t.name("missing"), b"dropped")


@test
def confirm_unroutable_mandatory_returned_then_acked(t):
    ch = t.channel()
    x = t.exchange(ch, "direct")
    ch.confirm_delivery()
    try:
        ch.basic_publish(x, "nobody", b"back", mandatory=True)
    except pika.exceptions.UnroutableError as e:
        (r,) = e.messages
        eq((r.method.reply_code, r.method.reply_text, r.body),
           (312, "NO_ROUTE", b"back"))
        return
    raise AssertionError("no basic.return for an unroutable message")


@test
def confirm_missing_exchange_404(t):
    ch = t.channel()
    ch.confirm_delivery()
    x = t.name("missing")
    with channel_error(404, "NOT_FOUND - no exchange '%s' in vhost '%s'"
                       % (x, t.vhost)):
        ch.basic_publish(x, "k", b"x")


@test
def confirm_select_twice_ok(t):
    c = pyamqp_conn(t)
    ch = c.channel()
    ch.confirm_select()
    ch.confirm_select()
    ch.queue_declare("", exclusive=True)


@test
def confirm_after_tx_406(t):
    ch = t.channel()
    ch.tx_select()
    with channel_error(406, "PRECONDITION_FAILED - cannot switch from tx to "
                       "confirm mode"):
        ch.confirm_delivery()


@test
def tx_after_confirm_406(t):
    ch = t.channel()
    ch.confirm_delivery()
    with channel_error(406, "PRECONDITION_FAILED - cannot switch from "
                       "confirm to tx mode"):
        ch.tx_select()


def _confirm_channel(t):
    """A py-amqp channel in confirm mode recording ack/nack/return events
    in arrival order."""
    c = pyamqp_conn(t)
    ch = c.channel()
    events = []
    ch.events["basic_ack"].add(lambda tag, multi: events.append(
        ("ack", tag, multi)))
    ch.events["basic_nack"].add(lambda tag, multi: events.append(
        ("nack", tag, multi)))
    ch.events["basic_return"].add(lambda exc, x, rk, msg: events.append(
        ("return", exc.reply_code, exc.reply_text, rk, msg.body)))
    ch.confirm_select()
    return c, ch, events


def _confirmed(events):
    """Publish sequence numbers covered by the acks/nacks so far.

    RabbitMQ confirms in any order (an unroutable message is acked at once,
    a routed one when its queue has it), so a multiple ack covers every
    still-unconfirmed tag up to its own; a single ack must name a tag not
    confirmed before."""
    done = set()
    order = []
    for e in events:
        if e[0] not in ("ack", "nack"):
            continue
        _, tag, multi = e
        if multi:
            new = [n for n in range(1, tag + 1) if n not in done]
        else:
            assert tag not in done, "tag %d confirmed twice: %r" % (tag,
                                                                   events)
            new = [tag]
        done.update(new)
        order.extend(new)
    return order


def _drain_until(c, cond):
    while not cond():
        c.drain_events(timeout=5)


@test
def async_confirms_cover_every_publish(t):
    c, ch, events = _confirm_channel(t)
    q = ch.queue_declare("", exclusive=True).queue
    n = 500
    for i in range(n):
        ch.basic_publish(amqp.Message(b"%d" % i), "", q)
    _drain_until(c, lambda: len(_confirmed(events)) >= n)
    got = _confirmed(events)
    eq(sorted(got), list(range(1, n + 1)), "confirmed sequence numbers")
    eq(len(got), len(set(got)), "no tag confirmed twice")
    assert all(e[0] == "ack" for e in events), events


@test
def async_confirms_multiple_semantics(t):
    # Whether the broker coalesces acks is its choice; whatever it sends,
    # a multiple ack covers every earlier unconfirmed tag and a single ack
    # exactly one, and together they cover each publish once.
    c, ch, events = _confirm_channel(t)
    qs = [ch.queue_declare("", exclusive=True).queue for _ in range(3)]
    n = 300
    for i in range(n):
        ch.basic_publish(amqp.Message(b"%d" % i), "", qs[i % 3])
    _drain_until(c, lambda: len(_confirmed(events)) >= n)
    eq(sorted(_confirmed(events)), list(range(1, n + 1)))


@test
def async_return_precedes_ack(t):
    c, ch, events = _confirm_channel(t)
    x = t.name("x")
    ch.exchange_declare(x, "direct", auto_delete=False)
    t.forget_exchange(x)
    ch.basic_publish(amqp.Message(b"lost"), x, "nobody", mandatory=True)
    _drain_until(c, lambda: len(_confirmed(events)) >= 1)
    eq(events[0], ("return", 312, "NO_ROUTE", "nobody", b"lost"))
    eq(events[1][:2], ("ack", 1))


@test
def async_mixed_routed_and_unroutable(t):
    c, ch, events = _confirm_channel(t)
    q = ch.queue_declare("", exclusive=True).queue
    for i in range(20):
        rk = q if i % 2 == 0 else t.name("missing")
        ch.basic_publish(amqp.Message(b"%d" % i), "", rk, mandatory=True)
    _drain_until(c, lambda: len(_confirmed(events)) >= 20)
    eq(sorted(_confirmed(events)), list(range(1, 21)))
    returns = [e for e in events if e[0] == "return"]
    eq([e[4] for e in returns], [b"%d" % i for i in range(1, 20, 2)])
    # every return arrives before the ack that covers its publish
    for i, e in enumerate(events):
        if e[0] == "return":
            n = int(e[4]) + 1           # publish sequence number
            assert n not in _confirmed(events[:i]), \
                "return for %d after its ack: %r" % (n, events)


@test
def confirm_tags_count_publishes_only(t):
    # basic.get and consumer deliveries do not advance the publish sequence.
    c, ch, events = _confirm_channel(t)
    q = ch.queue_declare("", exclusive=True).queue
    ch.basic_publish(amqp.Message(b"a"), "", q)
    _drain_until(c, lambda: len(_confirmed(events)) >= 1)
    m = ch.basic_get(q, no_ack=False)
    eq(m.delivery_tag, 1)
    ch.basic_ack(m.delivery_tag)
    ch.basic_publish(amqp.Message(b"b"), "", q)
    _drain_until(c, lambda: len(_confirmed(events)) >= 2)
    eq(_confirmed(events), [1, 2])


@test
def confirm_nack_on_reject_publish_overflow(t):
    ch = t.channel()
    q = t.queue(ch, arguments={"x-max-length": 1,
                               "x-overflow": "reject-publish"})
    ch.confirm_delivery()
    ch.basic_publish("", q, b"fits")
    try:
        ch.basic_publish("", q, b"rejected")
    except pika.exceptions.NackError:
        pass
    else:
        raise AssertionError("publish to a full reject-publish queue acked")
    eq(drain(ch, q), [b"fits"])


@test
def confirm_persistent_to_durable_queue(t):
    ch = t.channel()
    q = t.queue(ch, durable=True)
    ch.confirm_delivery()
    props = pika.BasicProperties(delivery_mode=2)
    for i in range(20):
        ch.basic_publish("", q, b"%d" % i, props)
    wait_ready(ch, q, 20)
    m, p, _ = ch.basic_get(q, auto_ack=True)
    eq(p.delivery_mode, 2)


@test
def confirm_fanout_to_many_queues_one_ack(t):
    c, ch, events = _confirm_channel(t)
    x = t.name("x")
    ch.exchange_declare(x, "fanout", auto_delete=False)
    t.forget_exchange(x)
    qs = [ch.queue_declare("", exclusive=True).queue for _ in range(5)]
    for q in qs:
        ch.queue_bind(q, x)
    ch.basic_publish(amqp.Message(b"m"), x, "")
    _drain_until(c, lambda: len(_confirmed(events)) >= 1)
    eq(_confirmed(events), [1])
    eq(len([e for e in events if e[0] == "ack"]), 1)


@test
def kombu_confirm_publish(t):
    with kombu.Connection(t.kombu_url(), connect_timeout=5,
                          transport_options={"confirm_publish": True}) as c:
        name = t.name("kq")
        t.forget_queue(name)
        # no exchange: the queue is reached through the default exchange
        q = kombu.Queue(name, routing_key=name)
        with c.channel() as ch:
            q(ch).declare()
            p = kombu.Producer(ch)
            for i in range(5):
                p.publish({"n": i}, routing_key=q.name, serializer="json")
            got = []
            deadline_at = time.time() + 5
            while len(got) < 5 and time.time() < deadline_at:
                m = q(ch).get(no_ack=True)
                if m is not None:
                    got.append(m.payload["n"])
            eq(got, [0, 1, 2, 3, 4])


harness.run()
