"""Queue length limits with pika and py-amqp: x-max-length and
x-max-length-bytes with x-overflow drop-head (the default) and
reject-publish (basic.nack under confirms), argument validation."""
import amqp
import pika
import pika.exceptions

import harness
from py_util import (test, eq, channel_error, drain, wait_ready,
                     pyamqp_conn)


def _bad_arg(t, arg, q, why):
    return ("PRECONDITION_FAILED - invalid arg '%s' for queue '%s' in vhost "
            "'%s': %s" % (arg, q, t.vhost, why))


@test
def max_length_drops_head(t):
    ch = t.channel()
    q = t.queue(ch, arguments={"x-max-length": 3})
    for i in range(5):
        ch.basic_publish("", q, b"%d" % i)
    eq(drain(ch, q), [b"2", b"3", b"4"])


@test
def max_length_zero_keeps_nothing(t):
    ch = t.channel()
    q = t.queue(ch, arguments={"x-max-length": 0})
    for i in range(3):
        ch.basic_publish("", q, b"%d" % i)
    eq(drain(ch, q), [])


@test
def max_length_explicit_drop_head(t):
    ch = t.channel()
    q = t.queue(ch, arguments={"x-max-length": 2, "x-overflow": "drop-head"})
    for i in range(4):
        ch.basic_publish("", q, b"%d" % i)
    wait_ready(ch, q, 2)
    eq(drain(ch, q), [b"2", b"3"])


@test
def max_length_bytes_drops_head(t):
    ch = t.channel()
    q = t.queue(ch, arguments={"x-max-length-bytes": 25})
    for i in range(5):
        ch.basic_publish("", q, b"%010d" % i)     # 10 octets each
    eq(drain(ch, q), [b"0000000003", b"0000000004"])


@test
def max_length_bytes_counts_body_only(t):
    # Properties and headers do not count towards the byte limit.
    ch = t.channel()
    q = t.queue(ch, arguments={"x-max-length-bytes": 10})
    props = pika.BasicProperties(headers={"big": "x" * 1000},
                                 message_id="m" * 200)
    ch.basic_publish("", q, b"0123456789", props)
    eq(drain(ch, q), [b"0123456789"])


@test
def both_limits_apply(t):
    ch = t.channel()
    q = t.queue(ch, arguments={"x-max-length": 3, "x-max-length-bytes": 100})
    for i in range(3):
        ch.basic_publish("", q, b"%d" % i)
    ch.basic_publish("", q, b"x" * 90)           # 4 > 3: "0" goes
    ch.basic_publish("", q, b"y" * 20)
    # 4 > 3: "1" goes; then 1 + 90 + 20 > 100 octets: "2" and the x's go
    eq(drain(ch, q), [b"y" * 20])


@test
def unacked_messages_do_not_count(t):
    ch = t.channel()
    q = t.queue(ch, arguments={"x-max-length": 2})
    ch.basic_publish("", q, b"0")
    ch.basic_publish("", q, b"1")
    m0 = ch.basic_get(q)[0]
    m1 = ch.basic_get(q)[0]
    ch.basic_publish("", q, b"2")
    ch.basic_publish("", q, b"3")
    wait_ready(ch, q, 2)
    ch.basic_ack(m1.delivery_tag, multiple=True)
    eq(drain(ch, q), [b"2", b"3"])


@test
def requeue_into_full_queue_drops_head(t):
    # Requeued messages go back to the head, then the limit drops from the
    # head: in RabbitMQ 3.10 the requeued ones are the first to go.
    ch = t.channel()
    q = t.queue(ch, arguments={"x-max-length": 2})
    ch.basic_publish("", q, b"0")
    ch.basic_publish("", q, b"1")
    m0 = ch.basic_get(q)[0]
    m1 = ch.basic_get(q)[0]
    ch.basic_publish("", q, b"2")
    ch.basic_publish("", q, b"3")
    ch.basic_nack(m1.delivery_tag, multiple=True, requeue=True)
    eq(drain(ch, q), [b"2", b"3"])


@test
def reject_publish_keeps_oldest(t):
    ch = t.channel()
    q = t.queue(ch, arguments={"x-max-length": 3,
                               "x-overflow": "reject-publish"})
    for i in range(5):
        ch.basic_publish("", q, b"%d" % i)
    eq(drain(ch, q), [b"0", b"1", b"2"])
    ch.basic_publish("", q, b"after drain")
    eq(drain(ch, q), [b"after drain"])


@test
def reject_publish_nacks_under_confirms(t):
    c = pyamqp_conn(t)
    ch = c.channel()
    q = ch.queue_declare("", exclusive=True, arguments={
        "x-max-length": 2, "x-overflow": "reject-publish"}).queue
    done = {}

    def confirm(kind, tag, multi):
        # a multiple ack/nack covers the tags not confirmed before
        for n in (range(1, tag + 1) if multi else [tag]):
            if multi and n in done:
                continue
            assert n not in done, "tag %d confirmed twice" % n
            done[n] = kind
    ch.events["basic_ack"].add(lambda tag, multi: confirm("ack", tag, multi))
    ch.events["basic_nack"].add(lambda tag, multi: confirm("nack", tag,
                                                           multi))
    ch.confirm_select()
    for i in range(5):
        ch.basic_publish(amqp.Message(b"%d" % i), "", q)
    while len(done) < 5:
        c.drain_events(timeout=5)
    eq(done, {1: "ack", 2: "ack", 3: "nack", 4: "nack", 5: "nack"})


@test
def reject_publish_pika_nack_error(t):
    ch = t.channel()
    q = t.queue(ch, arguments={"x-max-length": 1,
                               "x-overflow": "reject-publish"})
    ch.confirm_delivery()
    ch.basic_publish("", q, b"1")
    try:
        ch.basic_publish("", q, b"2", mandatory=True)
    except pika.exceptions.NackError:
        pass        # nacked, not returned: the message was routed
    else:
        raise AssertionError("publish into a full queue acked")


@test
def reject_publish_one_full_queue_nacks_fanout(t):
    ch = t.channel()
    x = t.exchange(ch, "fanout")
    full = t.queue(ch, arguments={"x-max-length": 1,
                                  "x-overflow": "reject-publish"})
    other = t.queue(ch)
    ch.queue_bind(full, x)
    ch.queue_bind(other, x)
    ch.confirm_delivery()
    ch.basic_publish(x, "", b"1")
    try:
        ch.basic_publish(x, "", b"2")
    except pika.exceptions.NackError:
        pass
    else:
        raise AssertionError("ack although one queue rejected")
    # the queue with room still took it
    eq(drain(ch, other), [b"1", b"2"])
    eq(drain(ch, full), [b"1"])


@test
def invalid_overflow_406(t):
    ch = t.channel()
    q = t.name("q")
    t.forget_queue(q)
    with channel_error(406, _bad_arg(t, "x-overflow", q, "invalid_overflow")):
        ch.queue_declare(q, arguments={"x-overflow": "drop-tail"})


@test
def negative_max_length_406(t):
    ch = t.channel()
    q = t.name("q")
    t.forget_queue(q)
    with channel_error(406, _bad_arg(t, "x-max-length", q,
                                     "{value_negative,-1}")):
        ch.queue_declare(q, arguments={"x-max-length": -1})


@test
def negative_max_length_bytes_406(t):
    ch = t.channel()
    q = t.name("q")
    t.forget_queue(q)
    with channel_error(406, _bad_arg(t, "x-max-length-bytes", q,
                                     "{value_negative,-1}")):
        ch.queue_declare(q, arguments={"x-max-length-bytes": -1})


@test
def max_length_string_406(t):
    ch = t.channel()
    q = t.name("q")
    t.forget_queue(q)
    with channel_error(406, _bad_arg(t, "x-max-length", q,
                                     '"expected integer, got longstr"')):
        ch.queue_declare(q, arguments={"x-max-length": "3"})


@test
def overflow_mismatch_406(t):
    ch = t.channel()
    q = t.queue(ch, arguments={"x-max-length": 1,
                               "x-overflow": "reject-publish"})
    with channel_error(406, "PRECONDITION_FAILED - inequivalent arg "
                       "'x-overflow' for queue '%s' in vhost '%s': received "
                       "'drop-head' but current is 'reject-publish'"
                       % (q, t.vhost)):
        ch.queue_declare(q, arguments={"x-max-length": 1,
                                       "x-overflow": "drop-head"})


harness.run()
