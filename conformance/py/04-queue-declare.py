"""queue.declare with pika: server-named queues, passive, exclusive and
auto-delete lifetimes, equivalence checks, declare-ok counts."""
import re

import pika

import harness
from py_util import (test, eq, channel_error, queue_exists, wait_gone,
                     wait_ready, pump_until)


def _no_queue(t, q):
    return "NOT_FOUND - no queue '%s' in vhost '%s'" % (q, t.vhost)


def _locked(t, q):
    return ("RESOURCE_LOCKED - cannot obtain exclusive access to locked "
            "queue '%s' in vhost '%s'. It could be originally declared on "
            "another connection or the exclusive property value does not "
            "match that of the original declaration." % (q, t.vhost))


def _ineq(t, arg, q, received, current):
    return ("PRECONDITION_FAILED - inequivalent arg '%s' for queue '%s' in "
            "vhost '%s': received %s but current is %s"
            % (arg, q, t.vhost, received, current))


@test
def server_named_queue(t):
    ch = t.channel()
    ok = ch.queue_declare("", exclusive=True)
    q = ok.method.queue
    assert re.match(r"^amq\.gen-[A-Za-z0-9_-]{22}$", q), q
    eq(ok.method.message_count, 0)
    eq(ok.method.consumer_count, 0)


@test
def server_names_are_unique(t):
    ch = t.channel()
    names = {ch.queue_declare("", exclusive=True).method.queue
             for _ in range(50)}
    eq(len(names), 50, "distinct server-generated names")


@test
def server_named_non_exclusive(t):
    ch = t.channel()
    q = t.queue(ch, "")
    assert q.startswith("amq.gen-"), q
    other = t.channel()
    other.queue_declare(q, passive=True)


@test
def named_queue_declare_ok(t):
    ch = t.channel()
    name = t.name("q")
    ok = ch.queue_declare(name)
    t.forget_queue(name)
    eq(ok.method.queue, name)
    eq((ok.method.message_count, ok.method.consumer_count), (0, 0))


@test
def redeclare_is_idempotent(t):
    ch = t.channel()
    q = t.queue(ch, durable=True, arguments={"x-max-length": 100})
    ch.basic_publish("", q, b"x")
    wait_ready(ch, q, 1)
    ok = ch.queue_declare(q, durable=True, arguments={"x-max-length": 100})
    eq(ok.method.message_count, 1)


@test
def declare_ok_counts(t):
    ch = t.channel()
    q = t.queue(ch)
    for i in range(7):
        ch.basic_publish("", q, b"%d" % i)
    # RabbitMQ answers declare-ok ahead of queued publishes (its queue
    # process prioritises the stat call), so counts are polled.
    wait_ready(ch, q, 7)
    ok = ch.queue_declare(q, passive=True)
    eq((ok.method.message_count, ok.method.consumer_count), (7, 0))
    c2 = t.conn()
    got = []
    cons = [c2.channel() for _ in range(3)]
    for cch in cons:
        cch.basic_qos(prefetch_count=1)
        cch.basic_consume(q, lambda *a: got.append(a))
    pump_until(c2, lambda: len(got) >= 3, what="3 deliveries")
    wait_ready(ch, q, 4)
    ok = ch.queue_declare(q, passive=True)
    # Three messages are out unacked: they are not counted as ready.
    eq((ok.method.message_count, ok.method.consumer_count), (4, 3))
    ok = ch.queue_declare(q)
    eq((ok.method.message_count, ok.method.consumer_count), (4, 3))


@test
def passive_missing_404(t):
    ch = t.channel()
    q = t.name("missing")
    with channel_error(404, _no_queue(t, q)):
        ch.queue_declare(q, passive=True)


@test
def passive_empty_name_404(t):
    # Only methods that name a queue fall back to the last declared one;
    # a passive declare of '' does not.
    ch = t.channel()
    ch.queue_declare("", exclusive=True)
    with channel_error(404, _no_queue(t, "")):
        ch.queue_declare("", passive=True)


@test
def passive_ignores_other_flags(t):
    ch = t.channel()
    q = t.queue(ch)
    ch.queue_declare(q, passive=True, durable=True, auto_delete=True)


@test
def reserved_amq_prefix_403(t):
    ch = t.channel()
    q = "amq." + t.name("q")
    with channel_error(403, "ACCESS_REFUSED - queue name '%s' contains "
                       "reserved prefix 'amq.*'" % q):
        ch.queue_declare(q)


@test
def passive_amq_prefix_is_404_not_403(t):
    ch = t.channel()
    q = "amq.gen-" + t.name("none")
    with channel_error(404, _no_queue(t, q)):
        ch.queue_declare(q, passive=True)


@test
def mismatch_durable_406(t):
    ch = t.channel()
    q = t.queue(ch)
    with channel_error(406, _ineq(t, "durable", q, "'true'", "'false'")):
        ch.queue_declare(q, durable=True)


@test
def mismatch_durable_other_way_406(t):
    ch = t.channel()
    q = t.queue(ch, durable=True)
    with channel_error(406, _ineq(t, "durable", q, "'false'", "'true'")):
        ch.queue_declare(q)


@test
def mismatch_auto_delete_406(t):
    ch = t.channel()
    q = t.queue(ch)
    with channel_error(406, _ineq(t, "auto_delete", q, "'true'", "'false'")):
        ch.queue_declare(q, auto_delete=True)


@test
def mismatch_argument_value_406(t):
    ch = t.channel()
    q = t.queue(ch, arguments={"x-max-length": 10})
    with channel_error(406, _ineq(t, "x-max-length", q, "'20'", "'10'")):
        ch.queue_declare(q, arguments={"x-max-length": 20})


@test
def mismatch_argument_missing_406(t):
    ch = t.channel()
    q = t.queue(ch, arguments={"x-max-length": 10})
    with channel_error(406, _ineq(t, "x-max-length", q, "none",
                                  "the value '10' of type 'signedint'")):
        ch.queue_declare(q)


@test
def mismatch_argument_added_406(t):
    ch = t.channel()
    q = t.queue(ch)
    with channel_error(406, _ineq(t, "x-message-ttl", q,
                                  "the value '1000' of type 'signedint'",
                                  "none")):
        ch.queue_declare(q, arguments={"x-message-ttl": 1000})


@test
def mismatch_exclusive_405(t):
    ch = t.channel()
    q = t.queue(ch)
    with channel_error(405, _locked(t, q)):
        ch.queue_declare(q, exclusive=True)


@test
def exclusive_from_other_connection_405(t):
    owner = t.channel()
    q = owner.queue_declare(t.name("excl"), exclusive=True).method.queue
    other = t.conn()
    with channel_error(405, _locked(t, q)):
        other.channel().queue_declare(q, passive=True)
    with channel_error(405, _locked(t, q)):
        other.channel().queue_declare(q, exclusive=True)
    with channel_error(405, _locked(t, q)):
        other.channel().queue_declare(q)


@test
def exclusive_get_consume_purge_delete_405(t):
    owner = t.channel()
    q = owner.queue_declare(t.name("excl"), exclusive=True).method.queue
    owner.basic_publish("", q, b"mine")
    other = t.conn()
    for op in (lambda ch: ch.basic_get(q),
               lambda ch: ch.basic_consume(q, lambda *a: None),
               lambda ch: ch.queue_purge(q),
               lambda ch: ch.queue_delete(q),
               lambda ch: ch.queue_bind(q, "amq.fanout")):
        with channel_error(405, _locked(t, q)):
            op(other.channel())
    eq(owner.queue_declare(q, passive=True).method.message_count, 1)


@test
def exclusive_publish_from_other_connection_ok(t):
    owner = t.channel()
    q = owner.queue_declare(t.name("excl"), exclusive=True).method.queue
    other = t.channel()
    other.basic_publish("", q, b"from outside")
    wait_ready(owner, q, 1)


@test
def exclusive_shared_by_channels_of_owner(t):
    c = t.conn()
    ch1, ch2 = c.channel(), c.channel()
    q = ch1.queue_declare(t.name("excl"), exclusive=True).method.queue
    ch2.queue_declare(q, passive=True)
    ch2.basic_publish("", q, b"x")
    eq(ch2.basic_get(q, auto_ack=True)[2], b"x")


@test
def exclusive_deleted_on_connection_close(t):
    c = t.conn()
    q = c.channel().queue_declare(t.name("excl"), exclusive=True).method.queue
    watcher = t.conn()
    assert queue_exists(watcher, q)
    c.close()
    wait_gone(watcher, q)


@test
def exclusive_kept_on_channel_close(t):
    c = t.conn()
    ch = c.channel()
    q = ch.queue_declare(t.name("excl"), exclusive=True).method.queue
    ch.close()
    c.channel().queue_declare(q, passive=True)


@test
def auto_delete_after_last_consumer_cancels(t):
    ch = t.channel()
    q = t.queue(ch, auto_delete=True)
    t1 = ch.basic_consume(q, lambda *a: None)
    t2 = ch.basic_consume(q, lambda *a: None)
    ch.basic_cancel(t1)
    watcher = t.conn()
    assert queue_exists(watcher, q)
    ch.basic_cancel(t2)
    wait_gone(watcher, q)


@test
def auto_delete_not_deleted_before_first_consumer(t):
    ch = t.channel()
    q = t.queue(ch, auto_delete=True)
    ch.basic_publish("", q, b"x")
    eq(ch.basic_get(q, auto_ack=True)[2], b"x")     # get is not a consumer
    ch.queue_declare(q, passive=True)


@test
def auto_delete_when_consumer_channel_closes(t):
    c = t.conn()
    ch = c.channel()
    q = t.queue(ch, auto_delete=True)
    ch.basic_consume(q, lambda *a: None)
    watcher = t.conn()
    ch.close()
    wait_gone(watcher, q)


@test
def auto_delete_when_consumer_connection_closes(t):
    c = t.conn()
    ch = c.channel()
    q = t.queue(ch, auto_delete=True)
    ch.basic_consume(q, lambda *a: None)
    watcher = t.conn()
    c.close()
    wait_gone(watcher, q)


@test
def invalid_argument_type_406(t):
    ch = t.channel()
    q = t.name("q")
    t.forget_queue(q)
    with channel_error(406, "PRECONDITION_FAILED - invalid arg 'x-max-length'"
                       " for queue '%s' in vhost '%s': \"expected integer, "
                       "got longstr\"" % (q, t.vhost)):
        ch.queue_declare(q, arguments={"x-max-length": "ten"})


@test
def invalid_negative_ttl_406(t):
    ch = t.channel()
    q = t.name("q")
    t.forget_queue(q)
    with channel_error(406, "PRECONDITION_FAILED - invalid arg "
                       "'x-message-ttl' for queue '%s' in vhost '%s': "
                       "{value_negative,-1}" % (q, t.vhost)):
        ch.queue_declare(q, arguments={"x-message-ttl": -1})


@test
def long_queue_name(t):
    ch = t.channel()
    q = (t.name("long") + "-" + "x" * 255)[:255]
    t.queue(ch, q)
    ch.queue_declare(q, passive=True)


harness.run()
