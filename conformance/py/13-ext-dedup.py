"""Message deduplication (Warren only), with pika: the interface of the
third-party rabbitmq-message-deduplication plugin, which Debian's RabbitMQ
does not ship, so against any other broker every case is reported as
skipped.

Exchange level: type "x-message-deduplication", routing like fanout
(routing keys are ignored).  Arguments: x-cache-size (required, integer >
0, or a string of digits), x-cache-ttl (optional, integer > 0: ms an entry
is kept), x-cache-persistence ("memory" or "disk").  A message whose
x-deduplication-header value was seen within the window is not routed: it
is still confirmed (basic.ack) and, being unroutable, returned 312
NO_ROUTE when mandatory.  A message header x-cache-ttl overrides the
exchange's TTL for that message.  When the cache is full an old entry
makes room.  Messages without the header are never deduplicated.

Queue level: x-message-deduplication = true on queue.declare.  A message
whose x-deduplication-header equals that of a message still in the queue
(ready or unacked) is not enqueued, but confirmed as if it were; the entry
is freed when that message is acked, fetched without ack, dropped
(max-length) or purged, not when it is requeued."""
import re
import time

import pika

from py_util import (test, eq, channel_error, sync, drain, wait_ready,
                     Collector, pump_until)
from ext_util import run_warren_only, let_pass, get_empty

DEDUP = "x-deduplication-header"


def _size_error(name="x-cache-size"):
    return re.compile(r"PRECONDITION_FAILED - (Missing or )?[Ii]nvalid "
                      r"argument,\s+'%s' must be an integer greater than 0$"
                      % name)


def _dx(t, ch, size=100, ttl=None, **more):
    args = {"x-cache-size": size}
    if ttl is not None:
        args["x-cache-ttl"] = ttl
    args.update(more)
    return t.exchange(ch, "x-message-deduplication", arguments=args)


def _bound(t, ch, x, key="any"):
    q = t.queue(ch)
    ch.queue_bind(q, x, key)
    return q


def _msg(key, **more):
    h = {DEDUP: key}
    h.update(more)
    return pika.BasicProperties(headers=h)


# Exchange: declaring -----------------------------------------------------

@test
def exchange_declare_argument_types(t):
    ch = t.channel()
    _dx(t, ch, 10)
    _dx(t, ch, 10, 1000)
    _dx(t, ch, "10", "1000")            # strings of digits are accepted
    _dx(t, ch, 10, **{"x-cache-persistence": "memory"})


def _bad_declare(t, args, text):
    ch = t.channel()
    x = t.name("dx")
    t.forget_exchange(x)
    with channel_error(406, text):
        ch.exchange_declare(x, "x-message-deduplication", arguments=args)


@test
def exchange_without_cache_size_406(t):
    _bad_declare(t, {}, _size_error())


@test
def exchange_cache_size_zero_406(t):
    _bad_declare(t, {"x-cache-size": 0}, _size_error())


@test
def exchange_cache_size_not_a_number_406(t):
    _bad_declare(t, {"x-cache-size": "ten"}, _size_error())


@test
def exchange_cache_ttl_zero_406(t):
    _bad_declare(t, {"x-cache-size": 10, "x-cache-ttl": 0},
                 _size_error("x-cache-ttl"))


@test
def exchange_cache_persistence_unknown_406(t):
    _bad_declare(t, {"x-cache-size": 10, "x-cache-persistence": "tape"},
                 re.compile(r"PRECONDITION_FAILED - Invalid argument,\s+"
                            r"'x-cache-persistence' must be either 'disk' "
                            r"or 'memory'$"))


# Exchange: routing -------------------------------------------------------

@test
def exchange_routes_like_fanout(t):
    ch = t.channel()
    x = _dx(t, ch)
    q1 = _bound(t, ch, x, "one")
    q2 = _bound(t, ch, x, "two")
    ch.basic_publish(x, "neither", b"m", _msg("k1"))
    eq((drain(ch, q1), drain(ch, q2)), ([b"m"], [b"m"]))


@test
def exchange_duplicate_not_routed(t):
    ch = t.channel()
    x = _dx(t, ch)
    q = _bound(t, ch, x)
    for i in range(5):
        ch.basic_publish(x, "", b"%d" % i, _msg("same"))
    ch.basic_publish(x, "", b"other", _msg("different"))
    sync(ch)
    eq(drain(ch, q), [b"0", b"other"])


@test
def exchange_without_header_never_deduplicated(t):
    ch = t.channel()
    x = _dx(t, ch)
    q = _bound(t, ch, x)
    for i in range(3):
        ch.basic_publish(x, "", b"%d" % i)
        ch.basic_publish(x, "", b"h%d" % i,
                         pika.BasicProperties(headers={"other": "same"}))
    sync(ch)
    eq(len(drain(ch, q)), 6)


@test
def exchange_duplicate_is_confirmed(t):
    ch = t.channel()
    x = _dx(t, ch)
    q = _bound(t, ch, x)
    ch.confirm_delivery()
    for i in range(3):
        ch.basic_publish(x, "", b"%d" % i, _msg("c"))   # raises on nack
    eq(drain(ch, q), [b"0"])


@test
def exchange_mandatory_duplicate_returned(t):
    # The plugin's exchange routes a duplicate nowhere: with mandatory it
    # comes back as unroutable.
    ch = t.channel()
    x = _dx(t, ch)
    q = _bound(t, ch, x)
    ch.confirm_delivery()
    ch.basic_publish(x, "", b"first", _msg("m"), mandatory=True)
    try:
        ch.basic_publish(x, "", b"dup", _msg("m"), mandatory=True)
    except pika.exceptions.UnroutableError as e:
        r = e.messages[0]
        eq((r.method.reply_code, r.method.reply_text, r.body),
           (312, "NO_ROUTE", b"dup"))
    else:
        raise AssertionError("mandatory duplicate was not returned")
    eq(drain(ch, q), [b"first"])


@test
def exchange_cache_ttl_expires_entries(t):
    ch = t.channel()
    x = _dx(t, ch, ttl=300)
    q = _bound(t, ch, x)
    start = time.time()
    ch.basic_publish(x, "", b"1", _msg("t"))
    ch.basic_publish(x, "", b"2", _msg("t"))
    sync(ch)
    let_pass(300, start)
    ch.basic_publish(x, "", b"3", _msg("t"))
    ch.basic_publish(x, "", b"4", _msg("t"))
    sync(ch)
    eq(drain(ch, q), [b"1", b"3"])


@test
def exchange_message_cache_ttl_overrides(t):
    ch = t.channel()
    x = _dx(t, ch, ttl=60000)
    q = _bound(t, ch, x)
    start = time.time()
    ch.basic_publish(x, "", b"1", _msg("o", **{"x-cache-ttl": 200}))
    ch.basic_publish(x, "", b"2", _msg("o"))
    sync(ch)
    let_pass(200, start)
    ch.basic_publish(x, "", b"3", _msg("o"))
    sync(ch)
    eq(drain(ch, q), [b"1", b"3"])


@test
def exchange_without_ttl_remembers(t):
    ch = t.channel()
    x = _dx(t, ch)
    q = _bound(t, ch, x)
    start = time.time()
    ch.basic_publish(x, "", b"1", _msg("forever"))
    sync(ch)
    let_pass(300, start)
    ch.basic_publish(x, "", b"2", _msg("forever"))
    sync(ch)
    eq(drain(ch, q), [b"1"])


@test
def exchange_full_cache_forgets(t):
    ch = t.channel()
    x = _dx(t, ch, size=1)
    q = _bound(t, ch, x)
    for body, key in ((b"1", "this"), (b"2", "that"), (b"3", "this")):
        ch.basic_publish(x, "", body, _msg(key))
    sync(ch)
    eq(drain(ch, q), [b"1", b"2", b"3"])


@test
def exchange_caches_are_per_exchange(t):
    ch = t.channel()
    x1 = _dx(t, ch)
    x2 = _dx(t, ch)
    q = _bound(t, ch, x1)
    ch.queue_bind(q, x2, "")
    ch.basic_publish(x1, "", b"a", _msg("shared"))
    ch.basic_publish(x2, "", b"b", _msg("shared"))
    sync(ch)
    eq(drain(ch, q), [b"a", b"b"])


@test
def exchange_deduplicates_before_empty_routes(t):
    # A message routed nowhere still enters the cache.
    ch = t.channel()
    x = _dx(t, ch)
    ch.basic_publish(x, "", b"lost", _msg("early"))
    sync(ch)
    q = _bound(t, ch, x)
    ch.basic_publish(x, "", b"dup", _msg("early"))
    sync(ch)
    eq(drain(ch, q), [])


# Queue level -------------------------------------------------------------

def _dq(t, ch, **more):
    args = {"x-message-deduplication": True}
    args.update(more)
    return t.queue(ch, arguments=args)


@test
def queue_duplicate_not_enqueued_but_confirmed(t):
    ch = t.channel()
    q = _dq(t, ch)
    ch.confirm_delivery()
    for i in range(3):
        ch.basic_publish("", q, b"%d" % i, _msg("k"))   # raises on nack
    ch.basic_publish("", q, b"other", _msg("k2"))
    eq(drain(ch, q), [b"0", b"other"])


@test
def queue_mandatory_duplicate_not_returned(t):
    ch = t.channel()
    q = _dq(t, ch)
    ch.confirm_delivery()
    ch.basic_publish("", q, b"1", _msg("k"), mandatory=True)
    ch.basic_publish("", q, b"2", _msg("k"), mandatory=True)
    eq(drain(ch, q), [b"1"])


@test
def queue_header_free_again_after_consumption(t):
    ch = t.channel()
    q = _dq(t, ch)
    ch.basic_publish("", q, b"1", _msg("k"))
    eq(drain(ch, q), [b"1"])            # no-ack get frees the entry
    ch.basic_publish("", q, b"2", _msg("k"))
    eq(drain(ch, q), [b"2"])


@test
def queue_unacked_still_counts_until_ack(t):
    ch = t.channel()
    q = _dq(t, ch)
    ch.basic_publish("", q, b"1", _msg("k"))
    m, _, _ = ch.basic_get(q, auto_ack=False)
    ch.basic_publish("", q, b"2", _msg("k"))
    sync(ch)
    get_empty(ch, q)
    ch.basic_ack(m.delivery_tag)
    ch.basic_publish("", q, b"3", _msg("k"))
    eq(drain(ch, q), [b"3"])


@test
def queue_requeue_keeps_the_entry(t):
    ch = t.channel()
    q = _dq(t, ch)
    ch.basic_publish("", q, b"1", _msg("k"))
    m, _, _ = ch.basic_get(q, auto_ack=False)
    ch.basic_reject(m.delivery_tag, requeue=True)
    ch.basic_publish("", q, b"2", _msg("k"))
    sync(ch)
    eq(drain(ch, q), [b"1"])


@test
def queue_consumer_ack_frees_the_entry(t):
    c = t.conn()
    ch = c.channel()
    q = _dq(t, ch)
    col = Collector(ack=True)
    ch.basic_consume(q, col, auto_ack=False)
    pub = c.channel()
    pub.confirm_delivery()
    pub.basic_publish("", q, b"1", _msg("k"))
    pump_until(c, lambda: len(col) >= 1, 5, "the first message")
    ch.basic_publish("", q, b"2", _msg("k"))    # after the ack, in order
    pump_until(c, lambda: len(col) >= 2, 5, "the second message")
    eq(col.bodies(), [b"1", b"2"])


@test
def queue_without_header_never_deduplicated(t):
    ch = t.channel()
    q = _dq(t, ch)
    for i in range(3):
        ch.basic_publish("", q, b"%d" % i)
    wait_ready(ch, q, 3)


@test
def queue_purge_frees_entries(t):
    ch = t.channel()
    q = _dq(t, ch)
    ch.basic_publish("", q, b"1", _msg("k"))
    wait_ready(ch, q, 1)
    ch.queue_purge(q)
    ch.basic_publish("", q, b"2", _msg("k"))
    eq(drain(ch, q), [b"2"])


@test
def queue_drop_head_frees_entry(t):
    ch = t.channel()
    q = _dq(t, ch, **{"x-max-length": 1})
    ch.basic_publish("", q, b"1", _msg("a"))
    ch.basic_publish("", q, b"2", _msg("b"))     # drops "1"
    ch.basic_publish("", q, b"3", _msg("a"))     # "a" is free again
    sync(ch)
    eq(drain(ch, q), [b"3"])


@test
def queue_deduplication_is_per_queue(t):
    ch = t.channel()
    x = t.exchange(ch, "fanout")
    q1 = _dq(t, ch)
    q2 = _dq(t, ch)
    ch.queue_bind(q1, x)
    ch.queue_bind(q2, x)
    ch.basic_publish(x, "", b"1", _msg("k"))
    ch.basic_publish("", q2, b"direct", _msg("k2"))
    ch.basic_publish(x, "", b"2", _msg("k2"))    # dup only in q2
    sync(ch)
    eq((drain(ch, q1), drain(ch, q2)), ([b"1", b"2"], [b"1", b"direct"]))


@test
def queue_deduplication_false_is_ordinary(t):
    ch = t.channel()
    q = t.queue(ch, arguments={"x-message-deduplication": False})
    for i in range(2):
        ch.basic_publish("", q, b"%d" % i, _msg("k"))
    wait_ready(ch, q, 2)


run_warren_only()
