"""x-delivery-limit with pika.

RabbitMQ 3.10 has it on quorum queues only: a classic queue declared with
it is refused (406 "... of queue type rabbit_classic_queue").  Warren has
no quorum queues and deliberately extends x-delivery-limit to its classic
queues, with quorum semantics: a message returned (reject/nack with
requeue, or its channel closing) more than `limit` times is dead-lettered
with reason delivery_limit, or dropped without a dead-letter exchange;
redeliveries carry x-delivery-count (a long: the number of earlier
returns).  The behaviour cases run on a durable quorum queue against
RabbitMQ, which proves the expectations, and on a classic queue against
Warren (the `broker.is_warren` branches)."""
import pika

import harness
from py_util import (test, eq, channel_error, wait_ready, Collector,
                     pump_until)
from ext_util import (raw_get, check_x_death, x_death_entry, get_empty,
                      wait_get, expected_integer, arg_error)


def _limited(t, ch, limit, **more):
    """A queue with x-delivery-limit: quorum on RabbitMQ, classic on
    Warren (which deliberately extends the argument to classic queues)."""
    args = {"x-delivery-limit": limit}
    args.update(more)
    if t.broker.is_warren:
        return t.queue(ch, arguments=args)
    args["x-queue-type"] = "quorum"
    return t.queue(ch, durable=True, arguments=args)


def _count(props):
    return (props.headers or {}).get("x-delivery-count")


@test
def classic_queue_with_delivery_limit(t):
    ch = t.channel()
    if t.broker.is_warren:
        # Warren: accepted on classic queues (deliberate extension).
        q = t.queue(ch, arguments={"x-delivery-limit": 2})
        ch.queue_declare(q, arguments={"x-delivery-limit": 2})
        return
    q = t.name("q")
    t.forget_queue(q)
    with channel_error(406, "PRECONDITION_FAILED - invalid arg "
                       "'x-delivery-limit' for queue '%s' in vhost '%s' of "
                       "queue type rabbit_classic_queue" % (q, t.vhost)):
        ch.queue_declare(q, arguments={"x-delivery-limit": 2})


@test
def limit_exceeded_dead_letters_with_x_death(t):
    ch = t.channel()
    dlx = t.exchange(ch, "fanout")
    dlq = t.queue(ch)
    ch.queue_bind(dlq, dlx)
    q = _limited(t, ch, 2, **{"x-dead-letter-exchange": dlx})
    ch.basic_publish("", q, b"dl", pika.BasicProperties(headers={"h": "v"}))
    counts = []
    for _ in range(3):                  # delivered 3 times, returned 3
        m, p, body = wait_get(ch, q, auto_ack=False)
        eq(body, b"dl")
        counts.append((m.redelivered, _count(p)))
        ch.basic_reject(m.delivery_tag, requeue=True)
    eq(counts[1:], [(True, 1), (True, 2)])
    m = raw_get(t, dlq)
    eq(m.body, b"dl")
    eq(m.header("h"), ("S", b"v"))
    check_x_death(m, [x_death_entry("delivery_limit", q, "", [q])],
                  ("delivery_limit", q, ""))
    get_empty(ch, q)


@test
def consumer_sees_x_delivery_count_on_redeliveries(t):
    c = t.conn()
    ch = c.channel()
    q = _limited(t, ch, 5)
    seen = []

    def on(ch_, method, props, body):
        seen.append((method.redelivered, _count(props)))
        if len(seen) < 3:
            ch_.basic_nack(method.delivery_tag, requeue=True)
        else:
            ch_.basic_ack(method.delivery_tag)
    ch.basic_consume(q, on)
    ch.basic_publish("", q, b"m")
    pump_until(c, lambda: len(seen) >= 3, 5, "3 deliveries")
    # No header on the first delivery to a consumer.
    eq(seen, [(False, None), (True, 1), (True, 2)])


@test
def x_delivery_count_is_a_long(t):
    ch = t.channel()
    q = _limited(t, ch, 5)
    ch.basic_publish("", q, b"m")
    m, _, _ = wait_get(ch, q, auto_ack=False)
    ch.basic_reject(m.delivery_tag, requeue=True)
    m = raw_get(t, q)
    eq(m.header("x-delivery-count"), ("l", 1))


@test
def limit_exceeded_without_dlx_drops(t):
    ch = t.channel()
    q = _limited(t, ch, 1)
    ch.basic_publish("", q, b"gone")
    ch.basic_publish("", q, b"next")
    for _ in range(2):
        m, _, body = wait_get(ch, q, auto_ack=False)
        eq(body, b"gone")
        ch.basic_reject(m.delivery_tag, requeue=True)
    m, _, body = wait_get(ch, q, auto_ack=True)
    eq(body, b"next")
    get_empty(ch, q)


@test
def channel_close_counts_as_a_return(t):
    ch = t.channel()
    q = _limited(t, ch, 5)
    ch.basic_publish("", q, b"m")
    seen = []
    for _ in range(3):
        c = t.conn()
        cch = c.channel()
        col = Collector()
        cch.basic_consume(q, col, auto_ack=False)
        pump_until(c, lambda: len(col) >= 1, 5, "a delivery")
        seen.append(_count(col.msgs[0][1]))
        c.close()                       # unacked: returned to the queue
    eq(seen, [None, 1, 2])


@test
def limit_zero_allows_no_return(t):
    ch = t.channel()
    q = _limited(t, ch, 0)
    ch.basic_publish("", q, b"once")
    m, _, _ = wait_get(ch, q, auto_ack=False)
    ch.basic_reject(m.delivery_tag, requeue=True)
    wait_ready(ch, q, 0)
    get_empty(ch, q)


@test
def reject_without_requeue_is_rejected_not_delivery_limit(t):
    ch = t.channel()
    dlx = t.exchange(ch, "fanout")
    dlq = t.queue(ch)
    ch.queue_bind(dlq, dlx)
    q = _limited(t, ch, 5, **{"x-dead-letter-exchange": dlx})
    ch.basic_publish("", q, b"r")
    m, _, _ = wait_get(ch, q, auto_ack=False)
    ch.basic_reject(m.delivery_tag, requeue=True)
    m, _, _ = wait_get(ch, q, auto_ack=False)
    ch.basic_reject(m.delivery_tag, requeue=False)
    m = raw_get(t, dlq)
    eq(dict(m.header("x-death")[1][0][1])["reason"], ("S", b"rejected"))


@test
def warren_validates_delivery_limit(t):
    # Warren: the same integer checks as the other numeric arguments.
    # RabbitMQ 3.10 refuses the argument on classic queues whatever its
    # value (and does not check it on quorum queues).
    ch = t.channel()
    q = t.name("q")
    t.forget_queue(q)
    if t.broker.is_warren:
        want = arg_error(t, "x-delivery-limit", q, expected_integer("longstr"))
    else:
        want = ("PRECONDITION_FAILED - invalid arg 'x-delivery-limit' for "
                "queue '%s' in vhost '%s' of queue type rabbit_classic_queue"
                % (q, t.vhost))
    with channel_error(406, want):
        ch.queue_declare(q, arguments={"x-delivery-limit": "3"})
    ch = t.channel()
    if t.broker.is_warren:
        want = arg_error(t, "x-delivery-limit", q, "{value_negative,-1}")
    with channel_error(406, want):
        ch.queue_declare(q, arguments={"x-delivery-limit": -1})


harness.run()
