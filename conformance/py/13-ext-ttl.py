"""Message TTL: x-message-ttl on a queue and the expiration property, with
pika, as RabbitMQ 3.10: expired messages are never delivered, TTL 0 means
"now or never", per-message expiry is applied at the head of the queue,
the smaller of the two TTLs wins, and bad values get RabbitMQ's texts.
Dead-lettering of expired messages is in 13-ext-dlx.py."""
import decimal
import time

import pika

import harness
from py_util import (test, eq, channel_error, sync, wait_ready, drain,
                     Collector, pump_until, ready_count)
from ext_util import (arg_error, expected_integer, let_pass, get_empty,
                      MAX_TTL)


def _q(t, ch, **args):
    return t.queue(ch, arguments=args)


def _exp(ms):
    return pika.BasicProperties(expiration=str(ms))


# Queue TTL ------------------------------------------------------------

@test
def queue_ttl_expired_messages_leave_the_queue(t):
    # RabbitMQ drops expired messages from the head on a timer: the count
    # falls to 0 without anyone fetching.
    ch = t.channel()
    q = _q(t, ch, **{"x-message-ttl": 100})
    ch.confirm_delivery()               # enqueued before the count is read
    for i in range(3):
        ch.basic_publish("", q, b"m%d" % i)
    wait_ready(ch, q, 0, timeout=5)
    get_empty(ch, q)


@test
def queue_ttl_basic_get_after_expiry_is_empty(t):
    ch = t.channel()
    q = _q(t, ch, **{"x-message-ttl": 80})
    ch.basic_publish("", q, b"old")
    sync(ch)
    let_pass(80)
    get_empty(ch, q)
    ch.basic_publish("", q, b"new")
    eq(drain(ch, q), [b"new"])


@test
def queue_ttl_not_delivered_to_a_late_consumer(t):
    c = t.conn()
    ch = c.channel()
    q = _q(t, ch, **{"x-message-ttl": 80})
    ch.basic_publish("", q, b"old")
    sync(ch)
    let_pass(80)
    col = Collector()
    ch.basic_consume(q, col, auto_ack=True)
    ch.basic_publish("", q, b"new")
    pump_until(c, lambda: len(col) >= 1, 5, "the fresh message")
    # FIFO: had "old" survived it would have come first.
    eq(col.bodies(), [b"new"])


@test
def queue_ttl_expires_while_consumer_is_at_prefetch_limit(t):
    c = t.conn()
    ch = c.channel()
    q = _q(t, ch, **{"x-message-ttl": 150})
    ch.basic_qos(prefetch_count=1)
    col = Collector()
    ch.basic_consume(q, col, auto_ack=False)
    ch.basic_publish("", q, b"m1")
    ch.basic_publish("", q, b"m2")
    pump_until(c, lambda: len(col) >= 1, 5, "m1")
    start = time.time()
    let_pass(150, start)
    ch.basic_ack(col.msgs[0][0].delivery_tag)     # credit for one more
    ch.basic_publish("", q, b"m3")
    pump_until(c, lambda: len(col) >= 2, 5, "m3")
    eq(col.bodies(), [b"m1", b"m3"])              # m2 expired waiting


@test
def queue_ttl_requeued_message_keeps_its_expiry(t):
    # The expiry time is fixed at publish; a message requeued after it has
    # passed is dropped, not given a new lease.
    ch = t.channel()
    q = _q(t, ch, **{"x-message-ttl": 120})
    ch.basic_publish("", q, b"r")
    m, _, _ = ch.basic_get(q, auto_ack=False)
    let_pass(120)
    ch.basic_reject(m.delivery_tag, requeue=True)
    get_empty(ch, q)
    wait_ready(ch, q, 0)


@test
def queue_ttl_zero_without_consumer_drops(t):
    ch = t.channel()
    q = _q(t, ch, **{"x-message-ttl": 0})
    ch.basic_publish("", q, b"z")
    get_empty(ch, q)
    wait_ready(ch, q, 0)


@test
def queue_ttl_zero_delivered_to_a_waiting_consumer(t):
    c = t.conn()
    ch = c.channel()
    q = _q(t, ch, **{"x-message-ttl": 0})
    col = Collector()
    ch.basic_consume(q, col, auto_ack=True)
    pub = c.channel()
    for i in range(3):
        pub.basic_publish("", q, b"z%d" % i)
    pump_until(c, lambda: len(col) >= 3, 5, "3 deliveries")
    eq(col.bodies(), [b"z0", b"z1", b"z2"])


@test
def queue_ttl_zero_consumer_without_credit_loses_message(t):
    c = t.conn()
    ch = c.channel()
    q = _q(t, ch, **{"x-message-ttl": 0})
    ch.basic_qos(prefetch_count=1)
    col = Collector()
    ch.basic_consume(q, col, auto_ack=False)
    pub = c.channel()
    pub.basic_publish("", q, b"y1")
    pub.basic_publish("", q, b"y2")     # no credit: expires at once
    pump_until(c, lambda: len(col) >= 1, 5, "y1")
    eq(ready_count(pub, q), 0)
    ch.basic_ack(col.msgs[0][0].delivery_tag)
    # Published on the acking channel, so that the ack arrives first.
    ch.basic_publish("", q, b"y3")
    pump_until(c, lambda: len(col) >= 2, 5, "y3")
    eq(col.bodies(), [b"y1", b"y3"])


# Per-message expiration -----------------------------------------------

@test
def expiration_expired_message_not_got(t):
    ch = t.channel()
    q = _q(t, ch)
    ch.basic_publish("", q, b"old", _exp(80))
    ch.basic_publish("", q, b"keep")
    sync(ch)
    let_pass(80)
    eq(drain(ch, q), [b"keep"])


@test
def expiration_property_delivered_unchanged(t):
    ch = t.channel()
    q = _q(t, ch)
    ch.basic_publish("", q, b"m", _exp(60000))
    m, p, _ = ch.basic_get(q, auto_ack=True)
    eq(p.expiration, "60000")


@test
def expiration_zero_without_consumer_drops(t):
    ch = t.channel()
    q = _q(t, ch)
    ch.basic_publish("", q, b"z", _exp(0))
    ch.basic_publish("", q, b"stays")
    eq(drain(ch, q), [b"stays"])


@test
def expiration_zero_delivered_to_a_waiting_consumer(t):
    c = t.conn()
    ch = c.channel()
    q = _q(t, ch)
    col = Collector()
    ch.basic_consume(q, col, auto_ack=True)
    pub = c.channel()
    pub.basic_publish("", q, b"now", _exp(0))
    pump_until(c, lambda: len(col) >= 1, 5, "the expiration-0 message")
    eq(col.bodies(), [b"now"])
    eq(col.msgs[0][1].expiration, "0")


@test
def expiration_applied_only_at_the_head(t):
    # Expired messages behind a live one stay counted until they reach the
    # head; then they are dropped rather than delivered.
    ch = t.channel()
    q = _q(t, ch)
    ch.basic_publish("", q, b"A")
    ch.basic_publish("", q, b"B", _exp(50))
    ch.basic_publish("", q, b"C", _exp(50))
    wait_ready(ch, q, 3)
    let_pass(50)
    eq(ready_count(ch, q), 3)
    m, _, body = ch.basic_get(q, auto_ack=True)
    eq(body, b"A")
    get_empty(ch, q)
    wait_ready(ch, q, 0)


@test
def expiration_mixed_ttls_in_one_queue(t):
    ch = t.channel()
    q = _q(t, ch)
    ch.basic_publish("", q, b"long", _exp(60000))
    ch.basic_publish("", q, b"short", _exp(50))
    ch.basic_publish("", q, b"none")
    ch.basic_publish("", q, b"short2", _exp(60))
    ch.basic_publish("", q, b"long2", _exp(30000))
    wait_ready(ch, q, 5)
    let_pass(60)
    eq(drain(ch, q), [b"long", b"none", b"long2"])


@test
def expiration_shorter_than_queue_ttl_wins(t):
    ch = t.channel()
    q = _q(t, ch, **{"x-message-ttl": 60000})
    ch.basic_publish("", q, b"short", _exp(50))
    ch.basic_publish("", q, b"default")
    sync(ch)
    let_pass(50)
    eq(drain(ch, q), [b"default"])


@test
def queue_ttl_shorter_than_expiration_wins(t):
    ch = t.channel()
    q = _q(t, ch, **{"x-message-ttl": 50})
    ch.basic_publish("", q, b"long", _exp(60000))
    sync(ch)
    let_pass(50)
    get_empty(ch, q)


@test
def expiration_accepts_what_erlang_reads_as_integer(t):
    # string:to_integer/1: a leading + and leading zeros are fine.
    ch = t.channel()
    q = _q(t, ch)
    for body, exp in ((b"plus", "+60000"), (b"zeros", "0060000")):
        ch.basic_publish("", q, body, pika.BasicProperties(expiration=exp))
    ch.basic_publish("", q, b"max", _exp(MAX_TTL))
    eq(drain(ch, q), [b"plus", b"zeros", b"max"])


def _bad_expiration(t, value, why):
    ch = t.channel()
    q = _q(t, ch)
    with channel_error(406, "PRECONDITION_FAILED - invalid expiration '%s': "
                       "%s" % (value, why)):
        ch.basic_publish("", q, b"m", pika.BasicProperties(expiration=value))
        sync(ch)


@test
def expiration_not_a_number_406(t):
    _bad_expiration(t, "abc", "no_integer")


@test
def expiration_empty_406(t):
    _bad_expiration(t, "", "no_integer")


@test
def expiration_leading_space_406(t):
    _bad_expiration(t, " 10", "no_integer")


@test
def expiration_negative_406(t):
    _bad_expiration(t, "-1", "{value_negative,-1}")


@test
def expiration_fraction_406(t):
    _bad_expiration(t, "1.5", '{leftover_string,".5"}')


@test
def expiration_trailing_garbage_406(t):
    _bad_expiration(t, "10 ", '{leftover_string," "}')


@test
def expiration_exponent_406(t):
    _bad_expiration(t, "1e3", '{leftover_string,"e3"}')


@test
def expiration_too_large_406(t):
    _bad_expiration(t, str(MAX_TTL + 1), "{value_too_large,%d}"
                    % (MAX_TTL + 1))


@test
def expiration_error_nothing_enqueued(t):
    ch = t.channel()
    q = _q(t, ch)
    with channel_error(406):
        ch.basic_publish("", q, b"bad", pika.BasicProperties(expiration="x"))
        sync(ch)
    eq(drain(t.channel(), q), [])


# x-message-ttl validation ---------------------------------------------

def _bad_ttl(t, value, why):
    ch = t.channel()
    q = t.name("q")
    t.forget_queue(q)
    with channel_error(406, arg_error(t, "x-message-ttl", q, why)):
        ch.queue_declare(q, arguments={"x-message-ttl": value})


@test
def message_ttl_string_406(t):
    _bad_ttl(t, "10", expected_integer("longstr"))


@test
def message_ttl_decimal_406(t):
    _bad_ttl(t, decimal.Decimal("1.5"), expected_integer("decimal"))


@test
def message_ttl_bool_406(t):
    _bad_ttl(t, True, expected_integer("bool"))


@test
def message_ttl_too_large_406(t):
    _bad_ttl(t, MAX_TTL + 1, "{value_too_large,%d}" % (MAX_TTL + 1))


@test
def message_ttl_bounds_accepted(t):
    ch = t.channel()
    _q(t, ch, **{"x-message-ttl": 0})
    _q(t, ch, **{"x-message-ttl": MAX_TTL})
    _q(t, ch, **{"x-message-ttl": 2 ** 32})       # a long, not a signedint


harness.run()
