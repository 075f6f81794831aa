"""queue.bind, queue.unbind, queue.purge and queue.delete with pika."""
import pika

import harness
from py_util import (test, eq, channel_error, routed, wait_ready, sync,
                     consume, pump_until)


def _no_queue(t, q):
    return "NOT_FOUND - no queue '%s' in vhost '%s'" % (q, t.vhost)


def _no_exchange(t, x):
    return "NOT_FOUND - no exchange '%s' in vhost '%s'" % (x, t.vhost)


DEFAULT_403 = "ACCESS_REFUSED - operation not permitted on the default exchange"


@test
def bind_and_route(t):
    ch = t.channel()
    x = t.exchange(ch, "direct")
    q = t.queue(ch)
    ok = ch.queue_bind(q, x, "rk")
    eq(ok.method.NAME, "Queue.BindOk")
    eq(routed(ch, x, "rk", [q]), [q])


@test
def bind_is_idempotent(t):
    ch = t.channel()
    x = t.exchange(ch, "direct")
    q = t.queue(ch)
    for _ in range(3):
        ch.queue_bind(q, x, "rk")
    ch.queue_unbind(q, x, "rk")
    eq(routed(ch, x, "rk", [q]), [])


@test
def bind_with_different_arguments_are_distinct(t):
    ch = t.channel()
    x = t.exchange(ch, "direct")
    q = t.queue(ch)
    ch.queue_bind(q, x, "rk", arguments={"a": 1})
    ch.queue_bind(q, x, "rk", arguments={"a": 2})
    ch.queue_unbind(q, x, "rk", arguments={"a": 1})
    eq(routed(ch, x, "rk", [q]), [q])    # the a=2 binding remains
    ch.queue_unbind(q, x, "rk", arguments={"a": 2})
    eq(routed(ch, x, "rk", [q]), [])


@test
def bind_missing_exchange_404(t):
    ch = t.channel()
    q = t.queue(ch)
    x = t.name("missing")
    with channel_error(404, _no_exchange(t, x)):
        ch.queue_bind(q, x, "k")


@test
def bind_missing_queue_404(t):
    ch = t.channel()
    q = t.name("missing")
    with channel_error(404, _no_queue(t, q)):
        ch.queue_bind(q, "amq.direct", "k")


@test
def bind_default_exchange_403(t):
    ch = t.channel()
    q = t.queue(ch)
    with channel_error(403, DEFAULT_403):
        ch.queue_bind(q, "", q)


@test
def unbind_default_exchange_403(t):
    ch = t.channel()
    q = t.queue(ch)
    with channel_error(403, DEFAULT_403):
        ch.queue_unbind(q, "", q)


@test
def unbind_missing_binding_ok(t):
    # RabbitMQ 3.10 answers unbind-ok when there is no such binding.
    ch = t.channel()
    x = t.exchange(ch, "direct")
    q = t.queue(ch)
    ok = ch.queue_unbind(q, x, "never-bound")
    eq(ok.method.NAME, "Queue.UnbindOk")


@test
def unbind_missing_queue_or_exchange_ok(t):
    # ...and also when the queue or the exchange does not exist.
    ch = t.channel()
    q = t.queue(ch)
    eq(ch.queue_unbind(t.name("missing"), "amq.direct", "k").method.NAME,
       "Queue.UnbindOk")
    eq(ch.queue_unbind(q, t.name("missing"), "k").method.NAME,
       "Queue.UnbindOk")


@test
def bind_empty_name_uses_last_declared_queue(t):
    ch = t.channel()
    x = t.exchange(ch, "fanout")
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind("", x)
    eq(routed(ch, x, "", [q]), [q])
    ch.queue_unbind("", x)
    eq(routed(ch, x, "", [q]), [])


@test
def empty_name_without_declared_queue_404(t):
    ch = t.channel()
    with channel_error(404, "NOT_FOUND - no previously declared queue"):
        ch.queue_bind("", "amq.fanout")


@test
def get_purge_delete_with_empty_name(t):
    ch = t.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    for b in (b"1", b"2", b"3"):
        ch.basic_publish("", q, b)
    m, _, body = ch.basic_get("", auto_ack=True)
    eq((m.routing_key, body), (q, b"1"))
    eq(ch.queue_purge("").method.message_count, 2)
    ch.basic_publish("", q, b"4")
    eq(ch.queue_delete("").method.message_count, 1)


@test
def purge_returns_count(t):
    ch = t.channel()
    q = t.queue(ch)
    for i in range(12):
        ch.basic_publish("", q, b"%d" % i)
    wait_ready(ch, q, 12)
    eq(ch.queue_purge(q).method.message_count, 12)
    wait_ready(ch, q, 0)
    eq(ch.queue_purge(q).method.message_count, 0)


@test
def purge_leaves_unacked(t):
    ch = t.channel()
    q = t.queue(ch)
    for i in range(5):
        ch.basic_publish("", q, b"%d" % i)
    m, _, _ = ch.basic_get(q)           # one unacked
    wait_ready(ch, q, 4)
    eq(ch.queue_purge(q).method.message_count, 4)
    ch.basic_nack(m.delivery_tag, requeue=True)
    wait_ready(ch, q, 1)
    eq(ch.basic_get(q, auto_ack=True)[2], b"0")


@test
def purge_missing_404(t):
    ch = t.channel()
    q = t.name("missing")
    with channel_error(404, _no_queue(t, q)):
        ch.queue_purge(q)


@test
def delete_returns_count(t):
    ch = t.channel()
    q = t.queue(ch)
    for i in range(9):
        ch.basic_publish("", q, b"%d" % i)
    wait_ready(ch, q, 9)
    eq(ch.queue_delete(q).method.message_count, 9)
    with channel_error(404, _no_queue(t, q)):
        ch.queue_declare(q, passive=True)


@test
def delete_missing_ok(t):
    # RabbitMQ 3.10 answers delete-ok (count 0) for a missing queue.
    ch = t.channel()
    ok = ch.queue_delete(t.name("missing"))
    eq(ok.method.message_count, 0)
    ok = ch.queue_delete(t.name("missing"), if_unused=True, if_empty=True)
    eq(ok.method.message_count, 0)


@test
def delete_if_unused_with_consumer_406(t):
    c = t.conn()
    cons = c.channel()
    q = t.queue(cons)
    cons.basic_consume(q, lambda *a: None)
    ch = c.channel()
    with channel_error(406, "PRECONDITION_FAILED - queue '%s' in vhost '%s' "
                       "in use" % (q, t.vhost)):
        ch.queue_delete(q, if_unused=True)
    c.channel().queue_declare(q, passive=True)


@test
def delete_if_unused_without_consumer(t):
    ch = t.channel()
    q = t.queue(ch)
    ch.basic_publish("", q, b"x")
    wait_ready(ch, q, 1)
    eq(ch.queue_delete(q, if_unused=True).method.message_count, 1)


@test
def delete_if_empty_with_messages_406(t):
    ch = t.channel()
    q = t.queue(ch)
    ch.basic_publish("", q, b"x")
    wait_ready(ch, q, 1)
    with channel_error(406, "PRECONDITION_FAILED - queue '%s' in vhost '%s' "
                       "not empty" % (q, t.vhost)):
        ch.queue_delete(q, if_empty=True)
    ch = t.channel()
    ch.queue_declare(q, passive=True)


@test
def delete_if_empty_ignores_unacked(t):
    # Only ready messages count: a queue whose messages are all unacked
    # is "empty" for if-empty.
    ch = t.channel()
    q = t.queue(ch)
    ch.basic_publish("", q, b"x")
    m, _, _ = ch.basic_get(q)
    assert m is not None
    eq(ch.queue_delete(q, if_empty=True).method.message_count, 0)


@test
def delete_if_empty_on_empty_queue(t):
    ch = t.channel()
    q = t.queue(ch)
    eq(ch.queue_delete(q, if_empty=True).method.message_count, 0)


@test
def delete_removes_bindings(t):
    ch = t.channel()
    x = t.exchange(ch, "fanout")
    q = t.queue(ch)
    ch.queue_bind(q, x)
    ch.queue_delete(q)
    q2 = t.queue(ch, q)                 # same name, new queue, no binding
    eq(routed(ch, x, "", [q2]), [])


@test
def delete_cancels_consumers(t):
    c = t.conn()
    ch = c.channel()
    q = t.queue(ch)
    cancelled = []
    ch.add_on_cancel_callback(lambda frame: cancelled.append(frame))
    tag = ch.basic_consume(q, lambda *a: None)
    t.channel().queue_delete(q)
    pump_until(c, lambda: cancelled, what="basic.cancel from the broker")
    eq(cancelled[0].method.consumer_tag, tag)
    assert ch.is_open


@test
def delete_unacked_messages_go(t):
    c = t.conn()
    ch = c.channel()
    q = t.queue(ch)
    for i in range(3):
        ch.basic_publish("", q, b"%d" % i)
    msgs = consume(c, ch, q, 3, auto_ack=False)
    eq(len(msgs), 3)
    ok = t.channel().queue_delete(q)
    eq(ok.method.message_count, 0)      # unacked ones are not counted
    # acking a message of a deleted queue is not an error
    ch.basic_ack(msgs[0][0].delivery_tag)
    sync(ch)


harness.run()
