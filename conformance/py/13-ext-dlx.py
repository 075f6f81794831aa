"""Dead-lettering (x-dead-letter-exchange, x-dead-letter-routing-key) with
pika, checked against the headers RabbitMQ 3.10 writes, octet for octet:
the x-death array (newest death first; a first death writes count, reason,
queue, time, exchange, routing-keys[, original-expiration] in that order;
when x-death exists already, the table for this death, new or with its
count incremented, is written sorted by key and moved to the front, the
others are left as they were), x-first-death-*, the
headers table sorted by key, count incremented per (queue, reason), the
expiration property moved to original-expiration, CC kept and used for
routing, automatic cycles broken, a missing exchange dropping silently.
Reasons covered: rejected (reject, nack), expired (queue TTL and per
message), maxlen (drop-head, reject-publish-dlx).  delivery_limit is in
13-ext-delivery-limit.py."""
import datetime

import pika

import harness
from py_util import test, eq, sync, wait_ready, drain, pump_until
from ext_util import (raw_get, check_x_death, x_death_entry,
                      x_death_entry_sorted, header_keys, holds, wait_get,
                      let_pass, get_empty, strings)


def _dl_setup(t, ch, xtype="fanout", bind_key="", **qargs):
    """A dead-letter exchange with one queue bound, and a source queue
    dead-lettering to it.  Queues are not exclusive: raw_get reads them on
    a connection of its own."""
    dlx = t.exchange(ch, xtype)
    dlq = t.queue(ch)
    ch.queue_bind(dlq, dlx, bind_key)
    args = {"x-dead-letter-exchange": dlx}
    args.update(qargs)
    src = t.queue(ch, arguments=args)
    return dlx, dlq, src


def _reject_one(ch, q, requeue=False, nack=False):
    m, _, body = ch.basic_get(q, auto_ack=False)
    assert m is not None, "nothing in %s" % q
    if nack:
        ch.basic_nack(m.delivery_tag, requeue=requeue)
    else:
        ch.basic_reject(m.delivery_tag, requeue=requeue)
    return body


# Reasons and the x-death layout ---------------------------------------

@test
def reject_dead_letters_with_x_death(t):
    ch = t.channel()
    dlx, dlq, src = _dl_setup(t, ch)
    ch.basic_publish("", src, b"body", pika.BasicProperties(
        content_type="text/plain", correlation_id="c-1",
        headers={"zzz": 1, "aaa": "two"}))
    _reject_one(ch, src)
    m = raw_get(t, dlq)
    eq(m.body, b"body")
    eq(m.method["exchange"], dlx)
    eq(m.method["routing_key"], src)
    eq(m.method["redelivered"], False)
    eq(m.prop("content_type"), "text/plain")
    eq(m.prop("correlation_id"), "c-1")
    # The whole headers table comes back sorted by key.
    eq(header_keys(m), ["aaa", "x-death", "x-first-death-exchange",
                        "x-first-death-queue", "x-first-death-reason", "zzz"])
    eq(m.header("aaa"), ("S", b"two"))
    eq(m.header("zzz"), ("I", 1))
    check_x_death(m, [x_death_entry("rejected", src, "", [src])],
                  ("rejected", src, ""))


@test
def nack_dead_letters_as_rejected(t):
    ch = t.channel()
    dlx, dlq, src = _dl_setup(t, ch)
    ch.basic_publish("", src, b"n")
    _reject_one(ch, src, nack=True)
    m = raw_get(t, dlq)
    eq(header_keys(m), ["x-death", "x-first-death-exchange",
                        "x-first-death-queue", "x-first-death-reason"])
    check_x_death(m, [x_death_entry("rejected", src, "", [src])],
                  ("rejected", src, ""))


@test
def nack_multiple_dead_letters_in_order(t):
    ch = t.channel()
    dlx, dlq, src = _dl_setup(t, ch)
    for i in range(3):
        ch.basic_publish("", src, b"m%d" % i)
    tags = [ch.basic_get(src, auto_ack=False)[0].delivery_tag
            for _ in range(3)]
    ch.basic_nack(tags[-1], multiple=True, requeue=False)
    wait_ready(ch, dlq, 3)
    eq(drain(ch, dlq), [b"m0", b"m1", b"m2"])


@test
def requeue_does_not_dead_letter(t):
    ch = t.channel()
    dlx, dlq, src = _dl_setup(t, ch)
    ch.basic_publish("", src, b"r")
    _reject_one(ch, src, requeue=True)
    _reject_one(ch, src, requeue=True, nack=True)
    m, _, body = ch.basic_get(src, auto_ack=True)
    eq((body, m.redelivered), (b"r", True))
    get_empty(ch, dlq)


@test
def consumer_reject_dead_letters(t):
    c = t.conn()
    ch = c.channel()
    dlx, dlq, src = _dl_setup(t, ch)
    seen = []

    def on(ch_, method, props, body):
        seen.append(body)
        ch_.basic_reject(method.delivery_tag, requeue=False)
    ch.basic_consume(src, on)
    ch.basic_publish("", src, b"c1")
    ch.basic_publish("", src, b"c2")
    pump_until(c, lambda: len(seen) >= 2, 5, "2 deliveries")
    wait_ready(ch, dlq, 2)
    eq(drain(ch, dlq), [b"c1", b"c2"])


@test
def queue_ttl_expiry_dead_letters(t):
    ch = t.channel()
    x = t.exchange(ch, "direct")
    dlx, dlq, src = _dl_setup(t, ch, **{"x-message-ttl": 50})
    ch.queue_bind(src, x, "rk")
    ch.basic_publish(x, "rk", b"e")
    m = raw_get(t, dlq)
    eq(m.method["routing_key"], "rk")
    eq(m.prop("expiration"), None)
    check_x_death(m, [x_death_entry("expired", src, x, ["rk"])],
                  ("expired", src, x))


@test
def per_message_expiry_dead_letters_with_original_expiration(t):
    ch = t.channel()
    dlx, dlq, src = _dl_setup(t, ch)
    ch.basic_publish("", src, b"e", pika.BasicProperties(expiration="50"))
    m = raw_get(t, dlq)
    eq(m.prop("expiration"), None)     # removed: it would expire again
    check_x_death(m, [x_death_entry("expired", src, "", [src],
                                    original_expiration="50")],
                  ("expired", src, ""))


@test
def rejected_message_with_expiration_keeps_it_in_x_death(t):
    ch = t.channel()
    dlx, dlq, src = _dl_setup(t, ch)
    ch.basic_publish("", src, b"r", pika.BasicProperties(expiration="60000"))
    _reject_one(ch, src)
    m = raw_get(t, dlq)
    eq(m.prop("expiration"), None)
    check_x_death(m, [x_death_entry("rejected", src, "", [src],
                                    original_expiration="60000")],
                  ("rejected", src, ""))


@test
def expired_at_head_dead_lettered_in_order(t):
    ch = t.channel()
    dlx, dlq, src = _dl_setup(t, ch)
    ch.basic_publish("", src, b"keep")
    ch.basic_publish("", src, b"e1", pika.BasicProperties(expiration="30"))
    ch.basic_publish("", src, b"e2", pika.BasicProperties(expiration="30"))
    wait_ready(ch, src, 3)
    let_pass(30)
    get_empty(ch, dlq)                 # behind "keep": not yet at the head
    eq(ch.basic_get(src, auto_ack=True)[2], b"keep")
    wait_ready(ch, dlq, 2)
    eq(drain(ch, dlq), [b"e1", b"e2"])


@test
def max_length_drop_head_dead_letters(t):
    ch = t.channel()
    dlx, dlq, src = _dl_setup(t, ch, **{"x-max-length": 2})
    for i in range(4):
        ch.basic_publish("", src, b"m%d" % i)
    m = raw_get(t, dlq)
    eq(m.body, b"m0")
    check_x_death(m, [x_death_entry("maxlen", src, "", [src])],
                  ("maxlen", src, ""))
    eq(wait_get(ch, dlq)[2], b"m1")
    eq(drain(ch, src), [b"m2", b"m3"])


@test
def reject_publish_dlx_dead_letters_the_refused_message(t):
    ch = t.channel()
    dlx, dlq, src = _dl_setup(t, ch, **{"x-max-length": 1,
                                        "x-overflow": "reject-publish-dlx"})
    ch.confirm_delivery()
    ch.basic_publish("", src, b"fits")
    try:
        ch.basic_publish("", src, b"refused")
    except pika.exceptions.NackError:
        pass
    else:
        raise AssertionError("publish over the limit was acked")
    m = raw_get(t, dlq)
    eq(m.body, b"refused")
    check_x_death(m, [x_death_entry("maxlen", src, "", [src])],
                  ("maxlen", src, ""))
    eq(drain(ch, src), [b"fits"])


@test
def reject_publish_does_not_dead_letter(t):
    ch = t.channel()
    dlx, dlq, src = _dl_setup(t, ch, **{"x-max-length": 1,
                                        "x-overflow": "reject-publish"})
    ch.confirm_delivery()
    ch.basic_publish("", src, b"fits")
    try:
        ch.basic_publish("", src, b"refused")
    except pika.exceptions.NackError:
        pass
    get_empty(ch, dlq)


# Routing of dead-lettered messages ------------------------------------

@test
def dead_letter_routing_key_replaces_keys_and_drops_cc(t):
    ch = t.channel()
    dlx, dlq, src = _dl_setup(t, ch, "direct", "newkey",
                              **{"x-dead-letter-routing-key": "newkey"})
    ch.basic_publish("", src, b"m", pika.BasicProperties(
        headers={"CC": ["elsewhere"], "h": 1}))
    _reject_one(ch, src)
    m = raw_get(t, dlq)
    eq(m.method["routing_key"], "newkey")
    # x-death keeps the keys the message was published with, CC included;
    # the CC header itself is removed when the routing key is replaced.
    eq(header_keys(m), ["h", "x-death", "x-first-death-exchange",
                        "x-first-death-queue", "x-first-death-reason"])
    check_x_death(m, [x_death_entry("rejected", src, "",
                                    [src, "elsewhere"])],
                  ("rejected", src, ""))


@test
def dead_letter_keeps_routing_key_and_cc(t):
    ch = t.channel()
    x = t.exchange(ch, "direct")
    dlx = t.exchange(ch, "direct")
    by_key = t.queue(ch)
    by_cc = t.queue(ch)
    ch.queue_bind(by_key, dlx, "k1")
    ch.queue_bind(by_cc, dlx, "cc2")
    src = t.queue(ch, arguments={"x-dead-letter-exchange": dlx,
                                 "x-message-ttl": 30})
    ch.queue_bind(src, x, "k1")
    ch.basic_publish(x, "k1", b"m", pika.BasicProperties(
        headers={"CC": ["cc1", "cc2"], "BCC": ["bcc1"]}))
    m = raw_get(t, by_cc)
    eq(m.method["routing_key"], "k1")
    eq(header_keys(m), ["CC", "x-death", "x-first-death-exchange",
                        "x-first-death-queue", "x-first-death-reason"])
    eq(m.header("CC"), ("A", strings("cc1", "cc2")))
    check_x_death(m, [x_death_entry("expired", src, x,
                                    ["k1", "cc1", "cc2"])],
                  ("expired", src, x))
    eq(raw_get(t, by_key).body, b"m")


@test
def dead_letter_to_default_exchange(t):
    ch = t.channel()
    dlq = t.queue(ch)
    src = t.queue(ch, arguments={"x-dead-letter-exchange": "",
                                 "x-dead-letter-routing-key": dlq})
    ch.basic_publish("", src, b"d")
    _reject_one(ch, src)
    m = raw_get(t, dlq)
    eq((m.method["exchange"], m.method["routing_key"]), ("", dlq))
    check_x_death(m, [x_death_entry("rejected", src, "", [src])],
                  ("rejected", src, ""))


@test
def missing_dead_letter_exchange_drops_silently(t):
    ch = t.channel()
    src = t.queue(ch, arguments={"x-dead-letter-exchange": t.name("none")})
    ch.basic_publish("", src, b"gone")
    _reject_one(ch, src)
    sync(ch)                           # the channel is still open
    get_empty(ch, src)
    wait_ready(ch, src, 0)


@test
def delete_and_purge_do_not_dead_letter(t):
    ch = t.channel()
    dlx, dlq, src = _dl_setup(t, ch)
    ch.basic_publish("", src, b"p")
    wait_ready(ch, src, 1)
    ch.queue_purge(src)
    ch.basic_publish("", src, b"d")
    wait_ready(ch, src, 1)
    ch.queue_delete(src)
    ch.basic_publish("", dlq, b"marker")
    eq(drain(ch, dlq), [b"marker"])


# Repeated deaths ------------------------------------------------------

@test
def count_increments_for_the_same_queue_and_reason(t):
    ch = t.channel()
    dlx, dlq, src = _dl_setup(t, ch)
    ch.basic_publish("", src, b"again")
    _reject_one(ch, src)
    m, p, body = wait_get(ch, dlq)
    ch.basic_publish("", src, body, p)  # the client sends it back
    _reject_one(ch, src)
    m = raw_get(t, dlq)
    # One table, count 2, its fields now sorted by key.
    check_x_death(m, [x_death_entry_sorted("rejected", src, "", [src], 2)],
                  ("rejected", src, ""))


@test
def count_increment_keeps_time_and_keys_of_the_entry(t):
    # Only count changes: the entry keeps its time, exchange and
    # routing-keys (here a client-supplied entry with an old time).
    ch = t.channel()
    dlx, dlq, src = _dl_setup(t, ch)
    old = datetime.datetime(2020, 1, 2, 3, 4, 5)
    hdr = {"x-death": [{"count": 1, "reason": "rejected", "queue": src,
                        "time": old, "exchange": "old-x",
                        "routing-keys": ["old-key"]}],
           "x-first-death-reason": "rejected",
           "x-first-death-queue": src, "x-first-death-exchange": "old-x"}
    ch.basic_publish("", src, b"m", pika.BasicProperties(headers=hdr))
    _reject_one(ch, src)
    m = raw_get(t, dlq)
    check_x_death(m, [x_death_entry_sorted("rejected", src, "old-x",
                                           ["old-key"], 2,
                                           time_=1577934245)],
                  ("rejected", src, "old-x"))


@test
def deaths_in_two_queues_newest_first(t):
    ch = t.channel()
    dlx, dlq, a = _dl_setup(t, ch)
    b = t.queue(ch, arguments={"x-dead-letter-exchange": dlx})
    ch.basic_publish("", a, b"two")
    _reject_one(ch, a)
    m, p, body = wait_get(ch, dlq)
    ch.basic_publish("", b, body, p)
    _reject_one(ch, b, nack=True)
    m, p, body = wait_get(ch, dlq)
    ch.basic_publish("", a, body, p)
    _reject_one(ch, a)
    m = raw_get(t, dlq)
    # a's entry (count 2) moved to the front; both tables sorted by key;
    # x-first-death-* still name the first death.
    check_x_death(m, [x_death_entry_sorted("rejected", a, "", [a], 2),
                      x_death_entry_sorted("rejected", b, "", [b], 1)],
                  ("rejected", a, ""))


@test
def reject_cycle_to_the_same_queue_is_allowed(t):
    # Cycles with a rejection in them are the client's doing: not broken.
    ch = t.channel()
    q = t.name("q")
    t.queue(ch, q, arguments={"x-dead-letter-exchange": "",
                              "x-dead-letter-routing-key": q})
    ch.basic_publish("", q, b"loop")
    for n in (1, 2, 3):
        _reject_one(ch, q)
        m, p, body = wait_get(ch, q, auto_ack=False)
        eq(body, b"loop")
        eq(m.redelivered, False)
        eq([(d["count"], d["reason"]) for d in p.headers["x-death"]],
           [(n, "rejected")])
        ch.basic_reject(m.delivery_tag, requeue=True)


@test
def ttl_cycle_to_the_same_queue_is_dropped(t):
    # q expires messages to a fanout exchange bound to q itself and to a
    # spy: the spy gets the message, q (a fully automatic cycle) does not.
    ch = t.channel()
    dlx = t.exchange(ch, "fanout")
    spy = t.queue(ch)
    q = t.queue(ch, arguments={"x-dead-letter-exchange": dlx,
                               "x-message-ttl": 50})
    ch.queue_bind(spy, dlx)
    ch.queue_bind(q, dlx)
    ch.basic_publish("", q, b"cycle")
    m = raw_get(t, spy)
    check_x_death(m, [x_death_entry("expired", q, "", [q])],
                  ("expired", q, ""))
    holds(lambda: ch.queue_declare(q, passive=True).method.message_count == 0
          and ch.basic_get(q, auto_ack=True)[0] is None, 0.4,
          "the message came back to the queue it expired from")


@test
def ttl_cycle_through_two_queues_is_dropped(t):
    # a -(expired)-> b -(expired)-> a: the second hop closes the cycle.
    ch = t.channel()
    xa = t.exchange(ch, "fanout")
    xb = t.exchange(ch, "fanout")
    spy_a = t.queue(ch)
    spy_b = t.queue(ch)
    a = t.queue(ch, arguments={"x-dead-letter-exchange": xa,
                               "x-message-ttl": 50})
    b = t.queue(ch, arguments={"x-dead-letter-exchange": xb,
                               "x-message-ttl": 50})
    ch.queue_bind(b, xa)
    ch.queue_bind(spy_a, xa)
    ch.queue_bind(a, xb)
    ch.queue_bind(spy_b, xb)
    ch.basic_publish("", a, b"cycle")
    m = raw_get(t, spy_b)
    # b's entry names the exchange the message reached b through (xa) and
    # the routing keys it has kept from its publication; it was written
    # when x-death already existed, so sorted; a's is left as written.
    check_x_death(m, [x_death_entry_sorted("expired", b, xa, [a], 1),
                      x_death_entry("expired", a, "", [a])],
                  ("expired", a, ""))
    eq(raw_get(t, spy_a).body, b"cycle")
    holds(lambda: ch.basic_get(a, auto_ack=True)[0] is None, 0.4,
          "the message came back to the queue it first expired from")


@test
def expiry_after_rejections_in_same_queue_is_a_cycle(t):
    # The cycle check looks at the deaths up to the newest one in the
    # target queue: a message rejected in q and then expiring from q is
    # not routed back to q, whatever came before.  q dead-letters to a
    # fanout exchange bound to q and to a spy.
    ch = t.channel()
    dlx = t.exchange(ch, "fanout")
    spy = t.queue(ch)
    q = t.queue(ch, arguments={"x-dead-letter-exchange": dlx})
    ch.queue_bind(spy, dlx)
    ch.queue_bind(q, dlx)
    ch.basic_publish("", q, b"r")
    _reject_one(ch, q)                 # rejected: back in q and in spy
    wait_get(ch, spy)
    m, p, body = wait_get(ch, q)
    p.expiration = "30"
    ch.basic_publish("", q, body, p)
    m = raw_get(t, spy)
    xd = m.header("x-death")[1]
    eq([(dict(e)["reason"][1], dict(e)["count"][1]) for _, e in xd],
       [(b"expired", 1), (b"rejected", 1)])
    holds(lambda: ch.basic_get(q, auto_ack=True)[0] is None, 0.3,
          "the expired message came back")


harness.run()
