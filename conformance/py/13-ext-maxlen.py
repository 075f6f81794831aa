"""Queue length limits (x-max-length, x-max-length-bytes, x-overflow) with
pika, as RabbitMQ 3.10: drop-head drops the oldest ready messages (unacked
ones do not count; a requeue over the limit drops from the head), bytes
are body bytes, reject-publish refuses with basic.nack (never
basic.return), reject-publish-dlx also dead-letters the refused message
(its x-death is checked in 13-ext-dlx.py), and bad values get RabbitMQ's
texts."""
import pika

import harness
from py_util import (test, eq, channel_error, sync, wait_ready, drain,
                     Collector, pump_until)
from ext_util import arg_error, get_empty


def _q(t, ch, **args):
    return t.queue(ch, arguments=args)


def _nacked(ch, queue, body, **kw):
    """Publish on a confirm channel; True if nacked, False if acked."""
    try:
        ch.basic_publish("", queue, body, **kw)
    except pika.exceptions.NackError:
        return True
    return False


# drop-head -------------------------------------------------------------

@test
def drop_head_keeps_the_newest(t):
    ch = t.channel()
    q = _q(t, ch, **{"x-max-length": 2})
    for i in range(5):
        ch.basic_publish("", q, b"m%d" % i)
    wait_ready(ch, q, 2)
    eq(drain(ch, q), [b"m3", b"m4"])


@test
def drop_head_is_the_default_overflow(t):
    ch = t.channel()
    q = _q(t, ch, **{"x-max-length": 1, "x-overflow": "drop-head"})
    ch.confirm_delivery()
    ch.basic_publish("", q, b"a")
    ch.basic_publish("", q, b"b")        # acked: drop-head never refuses
    eq(drain(ch, q), [b"b"])


@test
def max_length_bytes_counts_body_bytes_only(t):
    ch = t.channel()
    q = _q(t, ch, **{"x-max-length-bytes": 25})
    big = pika.BasicProperties(headers={"pad": "x" * 200})
    for i in range(3):
        ch.basic_publish("", q, b"%010d" % i, big)
    wait_ready(ch, q, 2)
    eq(drain(ch, q), [b"0000000001", b"0000000002"])


@test
def max_length_bytes_drops_until_it_fits(t):
    ch = t.channel()
    q = _q(t, ch, **{"x-max-length-bytes": 10})
    for body in (b"aaa", b"bbb", b"ccc", b"dddddddd"):
        ch.basic_publish("", q, body)
    wait_ready(ch, q, 1)
    eq(drain(ch, q), [b"dddddddd"])


@test
def both_limits_the_tighter_wins(t):
    ch = t.channel()
    q = _q(t, ch, **{"x-max-length": 10, "x-max-length-bytes": 25})
    for i in range(4):
        ch.basic_publish("", q, b"%010d" % i)
    wait_ready(ch, q, 2)
    eq(drain(ch, q), [b"0000000002", b"0000000003"])


@test
def max_length_zero_drops_everything(t):
    ch = t.channel()
    q = _q(t, ch, **{"x-max-length": 0})
    ch.basic_publish("", q, b"gone")
    sync(ch)
    get_empty(ch, q)


@test
def max_length_zero_still_feeds_a_waiting_consumer(t):
    # A message a consumer can take at once never waits in the queue.
    c = t.conn()
    ch = c.channel()
    q = _q(t, ch, **{"x-max-length": 0})
    col = Collector()
    ch.basic_consume(q, col, auto_ack=True)
    pub = c.channel()
    pub.basic_publish("", q, b"a")
    pub.basic_publish("", q, b"b")
    pump_until(c, lambda: len(col) >= 2, 5, "2 deliveries")
    eq(col.bodies(), [b"a", b"b"])


@test
def unacked_messages_do_not_count(t):
    ch = t.channel()
    q = _q(t, ch, **{"x-max-length": 1})
    ch.basic_publish("", q, b"held")
    m, _, _ = ch.basic_get(q, auto_ack=False)
    ch.basic_publish("", q, b"ready")
    wait_ready(ch, q, 1)
    ch.basic_ack(m.delivery_tag)
    eq(drain(ch, q), [b"ready"])


@test
def drop_head_requeue_over_limit_drops_from_head(t):
    # The requeued message goes back to the head and is the one dropped.
    ch = t.channel()
    q = _q(t, ch, **{"x-max-length": 1})
    ch.basic_publish("", q, b"1")
    m, _, _ = ch.basic_get(q, auto_ack=False)
    ch.basic_publish("", q, b"2")
    ch.basic_publish("", q, b"3")
    wait_ready(ch, q, 1)
    ch.basic_reject(m.delivery_tag, requeue=True)
    wait_ready(ch, q, 1)
    eq(drain(ch, q), [b"3"])


# reject-publish --------------------------------------------------------

@test
def reject_publish_nacks_and_keeps_the_old(t):
    ch = t.channel()
    q = _q(t, ch, **{"x-max-length": 2, "x-overflow": "reject-publish"})
    ch.confirm_delivery()
    eq([_nacked(ch, q, b"m%d" % i) for i in range(4)],
       [False, False, True, True])
    eq(drain(ch, q), [b"m0", b"m1"])


@test
def reject_publish_mandatory_is_nacked_not_returned(t):
    ch = t.channel()
    q = _q(t, ch, **{"x-max-length": 0, "x-overflow": "reject-publish"})
    ch.confirm_delivery()
    try:
        ch.basic_publish("", q, b"m", mandatory=True)
    except pika.exceptions.UnroutableError:
        raise AssertionError("refused publish came back as basic.return")
    except pika.exceptions.NackError:
        pass
    else:
        raise AssertionError("refused publish was acked")


@test
def reject_publish_without_confirms_drops_silently(t):
    ch = t.channel()
    q = _q(t, ch, **{"x-max-length": 1, "x-overflow": "reject-publish"})
    ch.basic_publish("", q, b"kept")
    ch.basic_publish("", q, b"dropped")
    sync(ch)
    eq(drain(ch, q), [b"kept"])


@test
def reject_publish_max_length_bytes(t):
    ch = t.channel()
    q = _q(t, ch, **{"x-max-length-bytes": 10,
                     "x-overflow": "reject-publish"})
    ch.confirm_delivery()
    eq([_nacked(ch, q, b) for b in (b"12345", b"67890", b"x")],
       [False, False, True])
    eq(drain(ch, q), [b"12345", b"67890"])


@test
def reject_publish_accepts_again_after_consuming(t):
    ch = t.channel()
    q = _q(t, ch, **{"x-max-length": 1, "x-overflow": "reject-publish"})
    ch.confirm_delivery()
    eq(_nacked(ch, q, b"a"), False)
    eq(_nacked(ch, q, b"b"), True)
    eq(ch.basic_get(q, auto_ack=True)[2], b"a")
    eq(_nacked(ch, q, b"c"), False)
    eq(drain(ch, q), [b"c"])


@test
def reject_publish_unacked_not_counted_requeue_may_exceed(t):
    ch = t.channel()
    q = _q(t, ch, **{"x-max-length": 1, "x-overflow": "reject-publish"})
    ch.confirm_delivery()
    eq(_nacked(ch, q, b"1"), False)
    m, _, _ = ch.basic_get(q, auto_ack=False)
    eq(_nacked(ch, q, b"2"), False)      # "1" is unacked: not counted
    eq(_nacked(ch, q, b"3"), True)
    ch.basic_reject(m.delivery_tag, requeue=True)
    wait_ready(ch, q, 2)                # a requeue is never refused
    eq(drain(ch, q), [b"1", b"2"])


@test
def reject_publish_zero_refuses_even_with_a_consumer(t):
    c = t.conn()
    ch = c.channel()
    q = _q(t, ch, **{"x-max-length": 0, "x-overflow": "reject-publish"})
    col = Collector()
    ch.basic_consume(q, col, auto_ack=True)
    pub = c.channel()
    pub.confirm_delivery()
    eq(_nacked(pub, q, b"m"), True)
    c.process_data_events(time_limit=0.2)   # a delivery would be here
    eq(len(col), 0)


@test
def reject_publish_nack_only_for_the_full_queue(t):
    # A message routed to a full queue and to one with room is nacked
    # (RabbitMQ nacks when any target queue refuses) yet delivered to the
    # queue with room.
    ch = t.channel()
    x = t.exchange(ch, "fanout")
    full = _q(t, ch, **{"x-max-length": 0, "x-overflow": "reject-publish"})
    room = _q(t, ch)
    ch.queue_bind(full, x)
    ch.queue_bind(room, x)
    ch.confirm_delivery()
    try:
        ch.basic_publish(x, "", b"m")
    except pika.exceptions.NackError:
        pass
    else:
        raise AssertionError("publish reaching a full queue was acked")
    eq(drain(ch, room), [b"m"])
    eq(drain(ch, full), [])


# Validation ------------------------------------------------------------

def _bad(t, args, key, why):
    ch = t.channel()
    q = t.name("q")
    t.forget_queue(q)
    with channel_error(406, arg_error(t, key, q, why)):
        ch.queue_declare(q, arguments=args)


@test
def overflow_unknown_value_406(t):
    _bad(t, {"x-overflow": "bogus"}, "x-overflow", "invalid_overflow")


@test
def overflow_wrong_type_406(t):
    _bad(t, {"x-overflow": 1}, "x-overflow", "{unacceptable_type,signedint}")


@test
def overflow_case_sensitive_406(t):
    _bad(t, {"x-overflow": "Drop-Head"}, "x-overflow", "invalid_overflow")


@test
def max_length_negative_406(t):
    _bad(t, {"x-max-length": -1}, "x-max-length", "{value_negative,-1}")


@test
def max_length_bytes_negative_406(t):
    _bad(t, {"x-max-length-bytes": -1}, "x-max-length-bytes",
         "{value_negative,-1}")


@test
def max_length_bytes_string_406(t):
    _bad(t, {"x-max-length-bytes": "10"}, "x-max-length-bytes",
         '"expected integer, got longstr"')


@test
def max_length_huge_accepted(t):
    ch = t.channel()
    _q(t, ch, **{"x-max-length": 2 ** 63 - 1})
    _q(t, ch, **{"x-max-length-bytes": 2 ** 40})


harness.run()
