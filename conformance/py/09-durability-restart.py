"""What survives a restart, and what does not, for every kind of durable
entity: exchanges of every type with their flags and arguments, queues with
their arguments (declare-ok equivalence after the restart: the same
arguments are accepted, different ones refused with 406), bindings (keys,
header arguments, exchange-to-exchange: routing still works), messages
(persistent ones in durable queues only; shared by several queues; order;
all 14 properties and the headers byte for byte), deletions, purges, acks,
the redelivered flag of delivered-unacked messages, auto-delete queues that
never had a consumer.

Each scenario sets things up, then warrend restarts and the scenario checks
the result; that runs three times with fresh names:
  term  - SIGTERM and start: a clean stop commits what is pending;
  kill  - SIGKILL once a confirm shows everything is committed;
  kill2 - SIGKILL, start, SIGKILL again at once, start: recovery itself
          must leave the store as it found it.
A few scenarios need restarts of their own and run after those: tx.commit-ok
and a publisher confirm followed at once by SIGKILL, messages published to
a queue emptied before a restart and then crashed (not redelivered), and
no message row left behind by a queue deleted with an unacked message and
a crash (read from warren.db).  Warren only: it restarts the broker.
"""
import decimal
import os
import re
import sqlite3
import time
import traceback

import pika
import pika.exceptions

import rawamqp as raw
from py_util import channel_error, eq, routed, drain, sync
from warren_proc import Warren, Tap, commit_barrier, skip_if_foreign, \
    finish

MODES = ["term", "kill", "kill2"]
PERSISTENT = pika.BasicProperties(delivery_mode=2)
TRANSIENT = pika.BasicProperties(delivery_mode=1)


class Ctx:
    """Connections and names of one mode."""

    def __init__(self, warren, mode):
        self.w = warren
        self.mode = mode
        self.conns = []
        self.shared = None

    def n(self, name):
        return "dr-%s-%s" % (self.mode, name)

    def conn(self):
        c = self.w.pika()
        self.conns.append(c)
        return c

    def ch(self):
        """A channel on a connection shared by the scenario checks."""
        if self.shared is None or not self.shared.is_open:
            self.shared = self.conn()
        return self.shared.channel()

    def refused(self, code, pattern, fn):
        """fn(channel) must close the channel with code (and a text that
        matches pattern)."""
        ch = self.ch()
        with channel_error(code, re.compile(pattern) if pattern else None):
            fn(ch)
            sync(ch)

    def close_all(self):
        for c in self.conns:
            try:
                if c.is_open:
                    c.close()
            except Exception:
                pass
        self.conns = []
        self.shared = None


def publish(ch, exchange, key, bodies, props=PERSISTENT):
    for b in bodies:
        ch.basic_publish(exchange, key, b, props)
    sync(ch)            # the broker has routed them


def count(ch, queue):
    return ch.queue_declare(queue, passive=True).method.message_count


def gone(ctx, queue=None, exchange=None):
    ch = ctx.ch()
    try:
        if queue:
            ch.queue_declare(queue, passive=True)
        else:
            ch.exchange_declare(exchange, passive=True)
    except pika.exceptions.ChannelClosedByBroker as e:
        if e.reply_code == 404:
            return True
        raise
    ch.close()
    return False


def get_all(ch, queue):
    """[(body, redelivered, properties)] by basic.get with auto-ack."""
    out = []
    while True:
        m, p, body = ch.basic_get(queue, auto_ack=True)
        if m is None:
            return out
        out.append((body, m.redelivered, p))


# Scenarios ----------------------------------------------------------------
# Each is a pair: setup(ctx) -> state, before the restart; check(ctx, state)
# after it.


def exchanges_setup(ctx):
    ch = ctx.ch()
    n = ctx.n
    ch.exchange_declare(n("ae"), "fanout", durable=True)
    ch.queue_declare(n("ae-q"), durable=True)
    ch.queue_bind(n("ae-q"), n("ae"))
    ch.exchange_declare(n("direct"), "direct", durable=True,
                        arguments={"alternate-exchange": n("ae")})
    ch.exchange_declare(n("fanout-ad"), "fanout", durable=True,
                        auto_delete=True)
    ch.exchange_declare(n("topic-int"), "topic", durable=True, internal=True,
                        arguments={"x-note": "kept"})
    ch.exchange_declare(n("headers"), "headers", durable=True,
                        arguments={"alternate-exchange": n("ae"),
                                   "x-extra": 7})
    # The plugins' exchange types (Warren has both built in).
    ch.exchange_declare(n("delayed"), "x-delayed-message", durable=True,
                        arguments={"x-delayed-type": "topic"})
    ch.exchange_declare(n("dedup"), "x-message-deduplication", durable=True,
                        arguments={"x-cache-size": 100})
    ch.queue_bind(n("ae-q"), n("dedup"))
    # An internal exchange is reachable only through another exchange.
    ch.queue_declare(n("int-q"), durable=True)
    ch.queue_bind(n("int-q"), n("topic-int"), "t.#")
    ch.exchange_bind(n("topic-int"), n("direct"), "t.x")
    sync(ch)


def exchanges_check(ctx, _):
    n = ctx.n
    decl = [("direct", "direct", {}, {"alternate-exchange": n("ae")}),
            ("fanout-ad", "fanout", {"auto_delete": True}, None),
            ("topic-int", "topic", {"internal": True}, {"x-note": "kept"}),
            ("headers", "headers", {}, {"alternate-exchange": n("ae"),
                                        "x-extra": 7}),
            ("ae", "fanout", {}, None),
            ("delayed", "x-delayed-message", {}, {"x-delayed-type": "topic"}),
            ("dedup", "x-message-deduplication", {}, {"x-cache-size": 100})]
    ch = ctx.ch()
    for name, xtype, flags, args in decl:
        ch.exchange_declare(n(name), passive=True)
        ch.exchange_declare(n(name), xtype, durable=True, arguments=args,
                            **flags)
    what = "inequivalent arg '%s' for exchange '" + n("%s") + "'"
    ctx.refused(406, ".*" + what % ("type", "direct"),
                lambda c: c.exchange_declare(n("direct"), "fanout",
                                             durable=True))
    ctx.refused(406, ".*" + what % ("durable", "direct"),
                lambda c: c.exchange_declare(n("direct"), "direct",
                                             durable=False))
    ctx.refused(406, ".*" + what % ("auto_delete", "fanout-ad"),
                lambda c: c.exchange_declare(n("fanout-ad"), "fanout",
                                             durable=True))
    ctx.refused(406, ".*" + what % ("internal", "topic-int"),
                lambda c: c.exchange_declare(n("topic-int"), "topic",
                                             durable=True))
    ctx.refused(406, ".*" + what % ("alternate-exchange", "direct"),
                lambda c: c.exchange_declare(
                    n("direct"), "direct", durable=True,
                    arguments={"alternate-exchange": n("other")}))
    ctx.refused(406, ".*" + what % ("type", "delayed"),
                lambda c: c.exchange_declare(n("delayed"), "topic",
                                             durable=True))
    ctx.refused(406, ".*" + what % ("type", "dedup"),
                lambda c: c.exchange_declare(n("dedup"), "fanout",
                                             durable=True))
    ctx.refused(403, ".*cannot publish to internal exchange",
                lambda c: c.basic_publish(n("topic-int"), "t.x", b"no"))
    ch = ctx.ch()
    # The alternate exchange still catches what the direct one cannot
    # route; the internal topic exchange is still fed through its binding.
    eq(routed(ch, n("direct"), "nobody", [n("ae-q"), n("int-q")]),
       [n("ae-q")], "unroutable on the direct exchange")
    eq(routed(ch, n("headers"), "", [n("ae-q"), n("int-q")],
              headers={"x": 1}), [n("ae-q")], "unroutable on headers")
    eq(routed(ch, n("direct"), "t.x", [n("ae-q"), n("int-q")]),
       [n("int-q")], "through the exchange binding to the internal one")
    eq(routed(ch, n("dedup"), "", [n("ae-q"), n("int-q")]), [n("ae-q")],
       "the deduplicating exchange routes as fanout")
    # auto-delete came back too: losing its only binding deletes it.
    ch.queue_bind(n("ae-q"), n("fanout-ad"))
    ch.queue_unbind(n("ae-q"), n("fanout-ad"))
    if not gone(ctx, exchange=n("fanout-ad")):
        raise AssertionError("auto-delete exchange survived losing its last "
                             "binding after the restart")


QUEUE_ARGS = {
    "maxlen": {"x-max-length": 3},
    "ttl-dlx": {"x-message-ttl": 3600000,
                "x-dead-letter-exchange": "DLX",
                "x-dead-letter-routing-key": "dead"},
    "bytes": {"x-max-length-bytes": 1000, "x-overflow": "reject-publish"},
    "expires": {"x-expires": 3600000, "x-custom": "not compared"},
    "prio": {"x-max-priority": 5, "x-queue-mode": "lazy"},
    "sac": {"x-single-active-consumer": True, "x-delivery-limit": 9},
}
# One changed value per queue, to be refused after the restart.
QUEUE_ARGS_CHANGED = {
    "maxlen": ("x-max-length", 4),
    "ttl-dlx": ("x-dead-letter-routing-key", "other"),
    "bytes": ("x-overflow", "drop-head"),
    "expires": ("x-expires", 3600001),
    "prio": ("x-max-priority", 6),
    "sac": ("x-single-active-consumer", False),
}


def queue_args(ctx, k):
    a = dict(QUEUE_ARGS[k])
    if "x-dead-letter-exchange" in a:
        a["x-dead-letter-exchange"] = ctx.n("dlx")
    return a


def queues_setup(ctx):
    ch = ctx.ch()
    ch.exchange_declare(ctx.n("dlx"), "direct", durable=True)
    for k in QUEUE_ARGS:
        ch.queue_declare(ctx.n("qa-" + k), durable=True,
                         arguments=queue_args(ctx, k))
    # x-max-length 3 keeps the newest three (drop-head).
    publish(ch, "", ctx.n("qa-maxlen"), [b"m%d" % i for i in range(5)])


def queues_check(ctx, _):
    ch = ctx.ch()
    for k in QUEUE_ARGS:
        q = ctx.n("qa-" + k)
        ch.queue_declare(q, passive=True)
        ch.queue_declare(q, durable=True, arguments=queue_args(ctx, k))
    for k, (key, val) in QUEUE_ARGS_CHANGED.items():
        q = ctx.n("qa-" + k)
        args = queue_args(ctx, k)
        args[key] = val
        ctx.refused(406, ".*inequivalent arg '%s' for queue '%s'" % (key, q),
                    lambda c: c.queue_declare(q, durable=True,
                                              arguments=args))
        # An argument left out is a difference too.
        args = queue_args(ctx, k)
        del args[key]
        ctx.refused(406, ".*inequivalent arg '%s' for queue '%s'" % (key, q),
                    lambda c: c.queue_declare(q, durable=True,
                                              arguments=args))
    q = ctx.n("qa-maxlen")
    ctx.refused(406, ".*inequivalent arg 'durable' for queue '%s'" % q,
                lambda c: c.queue_declare(q, durable=False,
                                          arguments=queue_args(ctx,
                                                               "maxlen")))
    ch = ctx.ch()
    eq(count(ch, q), 3, "x-max-length 3 queue after the restart")
    # The limit still applies after the restart.
    publish(ch, "", q, [b"m5", b"m6"])
    eq(drain(ch, q), [b"m4", b"m5", b"m6"], "x-max-length 3 queue")


def bindings_setup(ctx):
    ch = ctx.ch()
    n = ctx.n
    ch.exchange_declare(n("b-direct"), "direct", durable=True)
    ch.exchange_declare(n("b-topic"), "topic", durable=True)
    ch.exchange_declare(n("b-headers"), "headers", durable=True)
    ch.exchange_declare(n("b-src"), "direct", durable=True)
    ch.exchange_declare(n("b-dst"), "fanout", durable=True)
    for i in range(1, 6):
        ch.queue_declare(n("b-q%d" % i), durable=True)
    ch.queue_bind(n("b-q1"), n("b-direct"), "k1")
    ch.queue_bind(n("b-q1"), n("b-direct"), "k2")
    ch.queue_bind(n("b-q1"), n("b-direct"), "unbound")
    ch.queue_bind(n("b-q2"), n("b-topic"), "a.*.c")
    ch.queue_bind(n("b-q2"), n("b-topic"), "#.z")
    ch.queue_bind(n("b-q3"), n("b-headers"), "",
                  arguments={"x-match": "all", "a": 1, "b": "x"})
    ch.queue_bind(n("b-q4"), n("b-headers"), "",
                  arguments={"x-match": "any", "c": True, "d": "y"})
    ch.exchange_bind(n("b-dst"), n("b-src"), "e2e")
    ch.queue_bind(n("b-q5"), n("b-dst"))
    ch.queue_unbind(n("b-q1"), n("b-direct"), "unbound")
    sync(ch)


def bindings_check(ctx, _):
    ch = ctx.ch()
    n = ctx.n
    qs = [n("b-q%d" % i) for i in range(1, 6)]
    cases = [
        (n("b-direct"), "k1", None, [n("b-q1")]),
        (n("b-direct"), "k2", None, [n("b-q1")]),
        (n("b-direct"), "unbound", None, []),
        (n("b-topic"), "a.b.c", None, [n("b-q2")]),
        (n("b-topic"), "x.y.z", None, [n("b-q2")]),
        (n("b-topic"), "a.b", None, []),
        (n("b-headers"), "", {"a": 1, "b": "x"}, [n("b-q3")]),
        (n("b-headers"), "", {"a": 1}, []),
        (n("b-headers"), "", {"d": "y"}, [n("b-q4")]),
        (n("b-headers"), "", {"a": 1, "b": "x", "c": True},
         [n("b-q3"), n("b-q4")]),
        (n("b-src"), "e2e", None, [n("b-q5")]),
        (n("b-src"), "other", None, []),
    ]
    for x, key, headers, want in cases:
        eq(routed(ch, x, key, qs, headers=headers), sorted(want),
           "%s %r %r" % (x, key, headers))
    # The bindings are the same objects as before: unbinding them works.
    ch.queue_unbind(n("b-q1"), n("b-direct"), "k1")
    ch.exchange_unbind(n("b-dst"), n("b-src"), "e2e")
    eq(routed(ch, n("b-direct"), "k1", qs), [], "k1 after unbind")
    eq(routed(ch, n("b-src"), "e2e", qs), [], "e2e after unbind")


def transient_setup(ctx):
    n = ctx.n
    keep = ctx.conn()           # open until the restart
    ch = keep.channel()
    ch.queue_declare(n("t-transient-q"), durable=False)
    ch.exchange_declare(n("t-transient-x"), "fanout", durable=False)
    # RabbitMQ makes an exclusive queue non-durable whatever was asked.
    ch.queue_declare(n("t-exclusive"), durable=True, exclusive=True)
    ch.queue_declare(n("t-durable"), durable=True)
    ch.exchange_declare(n("t-durable-x"), "fanout", durable=True)
    # Bindings with one transient end are not durable.
    ch.queue_bind(n("t-transient-q"), n("t-durable-x"))
    ch.queue_bind(n("t-durable"), n("t-transient-x"))
    ch.exchange_bind(n("t-transient-x"), n("t-durable-x"))
    publish(ch, "", n("t-transient-q"), [b"persistent-in-transient"])
    publish(ch, "", n("t-exclusive"), [b"persistent-in-exclusive"])
    for i in range(6):
        publish(ch, "", n("t-durable"), [b"d%d" % i],
                PERSISTENT if i % 2 == 0 else TRANSIENT)
    # A message routed to both: only the durable queue keeps it.
    publish(ch, n("t-durable-x"), "", [b"both"])
    publish(ch, "", n("t-durable"), [b"default-mode"],
            pika.BasicProperties(content_type="text/plain"))


def transient_check(ctx, _):
    n = ctx.n
    for q in ("t-transient-q", "t-exclusive"):
        if not gone(ctx, queue=n(q)):
            raise AssertionError("queue %s survived the restart" % n(q))
    if not gone(ctx, exchange=n("t-transient-x")):
        raise AssertionError("transient exchange survived the restart")
    ch = ctx.ch()
    got = get_all(ch, n("t-durable"))
    eq([b for b, _, _ in got], [b"d0", b"d2", b"d4", b"both"],
       "persistent messages of the durable queue, in order")
    # Its binding from the transient exchange went with that exchange, and
    # the durable exchange lost its bindings to transient things.
    ch.queue_declare(n("t-transient-q"), durable=False)
    eq(routed(ch, n("t-durable-x"), "", [n("t-durable"), n("t-transient-q")]),
       [], "durable fanout whose bindings all had a transient end")


def shared_setup(ctx):
    ch = ctx.ch()
    n = ctx.n
    ch.exchange_declare(n("s-fan"), "fanout", durable=True)
    for i in (1, 2, 3):
        ch.queue_declare(n("s-q%d" % i), durable=True)
        ch.queue_bind(n("s-q%d" % i), n("s-fan"))
    bodies = [os.urandom(i * 37) for i in range(20)]
    publish(ch, n("s-fan"), "", bodies)
    # Settle the first five in one queue only: the rows stay for the
    # other two.
    for _ in range(5):
        m, _, _ = ch.basic_get(n("s-q2"))
        ch.basic_ack(m.delivery_tag)
    sync(ch)
    return bodies


def shared_check(ctx, bodies):
    ch = ctx.ch()
    n = ctx.n
    eq(drain(ch, n("s-q1")), bodies, "s-q1")
    eq(drain(ch, n("s-q2")), bodies[5:], "s-q2 (first five acked)")
    eq(drain(ch, n("s-q3")), bodies, "s-q3")


# Every field type a table may hold (rawamqp.field_value's types).
ALL_TYPES_HEADERS = [
    ("bool", raw.Typed("t", True)), ("int8", raw.Typed("b", -5)),
    ("uint8", raw.Typed("B", 250)), ("int16", raw.Typed("s", -300)),
    ("uint16", raw.Typed("u", 65000)), ("int32", raw.Typed("I", -70000)),
    ("uint32", raw.Typed("i", 4000000000)),
    ("int64", raw.Typed("l", -2 ** 40)), ("uint64", raw.Typed("L", 2 ** 63)),
    ("float", raw.Typed("f", 1.5)), ("double", raw.Typed("d", -2.25)),
    ("decimal", raw.Typed("D", decimal.Decimal("3.14"))),
    ("longstr", raw.Typed("S", b"caf\xc3\xa9 \x00 bytes")),
    ("bytes", raw.Typed("x", bytes(range(256)))),
    ("array", raw.Typed("A", [1, "two", [3], {"four": 4}])),
    ("timestamp", raw.Typed("T", 1700000000)),
    ("table", raw.Typed("F", {"nested": {"deeper": True}})),
    ("void", raw.Typed("V", None)),
]


def props_variants(ctx):
    """Raw property lists: all 14 properties, a few, none but
    delivery_mode."""
    full = raw.basic_properties(
        content_type="application/x-test", content_encoding="x-enc",
        headers=ALL_TYPES_HEADERS, delivery_mode=2, priority=7,
        correlation_id="corr-1", reply_to="reply.here",
        expiration="86400000", message_id="msg-1", timestamp=1700000001,
        type="kind", user_id="guest", app_id="app", cluster_id="cluster")
    some = raw.basic_properties(delivery_mode=2, headers={"only": "this"},
                                priority=0)
    bare = raw.basic_properties(delivery_mode=2)
    return [full, some, bare]


def props_setup(ctx):
    q = ctx.n("p-q")
    c = raw.connect(ctx.w)
    try:
        c.declare_queue(1, q, durable=True)
        sent = []
        sizes = [0, 1, 300, 131072 - 8, 131072 * 2 + 5]
        for i, (props, size) in enumerate(
                [(p, s) for p in props_variants(ctx) for s in sizes]):
            body = os.urandom(size)
            key = q
            data = raw.method_frame(1, raw.BASIC_PUBLISH,
                                    raw.basic_publish_args("", key))
            data += raw.frame(raw.FRAME_HEADER, 1, raw.header_payload(
                len(body), properties=props))
            step = c.frame_max - 8
            for j in range(0, len(body), step):
                data += raw.body_frame(1, body[j:j + step])
            c.send(data)
            sent.append((props, body))
        c.declare_queue(1, q, durable=True)    # a round trip
        c.close()
    finally:
        c.close_socket()
    return sent


def props_check(ctx, sent):
    q = ctx.n("p-q")
    c = raw.connect(ctx.w)
    try:
        for i, (props, body) in enumerate(sent):
            r = c.get(1, q)
            if r is None:
                raise AssertionError("message %d of %d is missing"
                                     % (i, len(sent)))
            ok, header, got = r
            eq(header.payload[12:], props, "property bytes of message %d"
               % i)
            if got != body:
                raise AssertionError("body of message %d differs (%d bytes, "
                                     "sent %d)" % (i, len(got), len(body)))
            eq((ok.args["exchange"], ok.args["routing_key"]), ("", q),
               "exchange and routing key of message %d" % i)
        eq(c.get(1, q), None, "after the last message")
        c.close()
    finally:
        c.close_socket()


def deleted_setup(ctx):
    n = ctx.n
    ch = ctx.ch()
    ch.queue_declare(n("d-q-del"), durable=True)
    publish(ch, "", n("d-q-del"), [b"gone with the queue"])
    ch.queue_declare(n("d-q-keep"), durable=True)
    ch.exchange_declare(n("d-x-del"), "direct", durable=True)
    ch.exchange_declare(n("d-x-keep"), "direct", durable=True)
    ch.exchange_declare(n("d-x-src"), "fanout", durable=True)
    ch.queue_bind(n("d-q-keep"), n("d-x-del"), "k")
    ch.queue_bind(n("d-q-keep"), n("d-x-keep"), "k")
    ch.exchange_bind(n("d-x-keep"), n("d-x-src"), "k")
    # Commit the lot, so the deletions below undo rows that exist.
    commit_barrier(ctx.shared)
    ch = ctx.ch()
    ch.queue_delete(n("d-q-del"))
    ch.exchange_delete(n("d-x-del"))
    ch.queue_unbind(n("d-q-keep"), n("d-x-keep"), "k")
    ch.exchange_unbind(n("d-x-keep"), n("d-x-src"), "k")
    sync(ch)


def deleted_check(ctx, _):
    n = ctx.n
    if not gone(ctx, queue=n("d-q-del")):
        raise AssertionError("deleted queue came back")
    if not gone(ctx, exchange=n("d-x-del")):
        raise AssertionError("deleted exchange came back")
    ch = ctx.ch()
    ch.queue_declare(n("d-q-keep"), passive=True)
    ch.exchange_declare(n("d-x-keep"), passive=True)
    ch.exchange_declare(n("d-x-src"), passive=True)
    eq(routed(ch, n("d-x-keep"), "k", [n("d-q-keep")]), [],
       "unbound queue binding")
    ch.queue_bind(n("d-q-keep"), n("d-x-keep"), "k")
    eq(routed(ch, n("d-x-src"), "k", [n("d-q-keep")]), [],
       "unbound exchange binding")
    # A queue declared again under the old name starts empty.
    eq(ch.queue_declare(n("d-q-del"), durable=True).method.message_count, 0,
       "messages of the deleted queue")


def purge_setup(ctx):
    ch = ctx.ch()
    q = ctx.n("pg-q")
    ch.queue_declare(q, durable=True)
    publish(ch, "", q, [b"before %d" % i for i in range(10)])
    commit_barrier(ctx.shared)
    ch = ctx.ch()
    eq(ch.queue_purge(q).method.message_count, 10, "purged")
    publish(ch, "", q, [b"after 1", b"after 2"])


def purge_check(ctx, _):
    eq(drain(ctx.ch(), ctx.n("pg-q")), [b"after 1", b"after 2"],
       "queue purged before the restart")


def acks_setup(ctx):
    ch = ctx.ch()
    q = ctx.n("ack-q")
    ch.queue_declare(q, durable=True)
    publish(ch, "", q, [b"a%d" % i for i in range(10)])
    tags = [ch.basic_get(q)[0].delivery_tag for _ in range(7)]
    ch.basic_ack(tags[1], multiple=True)        # a0 a1
    ch.basic_ack(tags[3])                       # a3
    ch.basic_reject(tags[4], requeue=False)     # a4: dropped
    ch.basic_nack(tags[5], requeue=False)       # a5: dropped
    ch.basic_nack(tags[6], requeue=True)        # a6: back, redelivered
    ch.basic_reject(tags[2], requeue=True)      # a2: back, redelivered
    sync(ch)
    ch.close()


def acks_check(ctx, _):
    got = get_all(ctx.ch(), ctx.n("ack-q"))
    eq([b for b, _, _ in got], [b"a2", b"a6", b"a7", b"a8", b"a9"],
       "what was not acked or dropped")
    # After a crash Warren flags every recovered message redelivered
    # ("may have been delivered"): delivered marks reach the disk after
    # the deliveries.  A clean restart keeps the exact flags.
    eq([r for _, r, _ in got], [True] * 5 if ctx.mode != "term" else
       [True, True, False, False, False], "redelivered flags")


def redelivered_setup(ctx):
    q = ctx.n("rd-q")
    keep = ctx.conn()           # holds three unacked until the restart
    ch = keep.channel()
    ch.queue_declare(q, durable=True)
    publish(ch, "", q, [b"r%d" % i for i in range(6)])
    for i in range(3):
        m, _, body = ch.basic_get(q)
        eq((body, m.redelivered), (b"r%d" % i, False), "first delivery")
    sync(ch)


def redelivered_check(ctx, _):
    got = get_all(ctx.ch(), ctx.n("rd-q"))
    crashed = ctx.mode != "term"    # see acks_check
    eq([(b, r) for b, r, _ in got],
       [(b"r0", True), (b"r1", True), (b"r2", True), (b"r3", crashed),
        (b"r4", crashed), (b"r5", crashed)],
       "delivered-unacked before the restart, then never delivered")


def autodelete_setup(ctx):
    ch = ctx.ch()
    n = ctx.n
    ch.queue_declare(n("ad-never"), durable=True, auto_delete=True)
    publish(ch, "", n("ad-never"), [b"x1", b"x2"])
    ch.queue_declare(n("ad-used"), durable=True, auto_delete=True)
    tag = ch.basic_consume(n("ad-used"), lambda *a: None)
    ch.basic_cancel(tag)
    sync(ch)


def autodelete_check(ctx, _):
    n = ctx.n
    if not gone(ctx, queue=n("ad-used")):
        raise AssertionError("auto-delete queue deleted by its last "
                             "consumer came back")
    q = n("ad-never")
    ctx.refused(406, ".*inequivalent arg 'auto_delete' for queue '%s'" % q,
                lambda c: c.queue_declare(q, durable=True))
    ch = ctx.ch()
    eq(count(ch, q), 2, "auto-delete queue that never had a consumer")
    eq(drain(ch, q), [b"x1", b"x2"], "its messages")
    # Still auto-delete: the first consumer's cancel deletes it.
    tag = ch.basic_consume(q, lambda *a: None)
    ch.basic_cancel(tag)
    if not gone(ctx, queue=q):
        raise AssertionError("recovered auto-delete queue not deleted when "
                             "its consumer left")


SCENARIOS = [
    ("exchanges_every_type_flags_and_args", exchanges_setup, exchanges_check),
    ("queue_args_equivalence", queues_setup, queues_check),
    ("bindings_keys_headers_e2e_route", bindings_setup, bindings_check),
    ("transient_things_do_not_survive", transient_setup, transient_check),
    ("shared_message_in_each_queue", shared_setup, shared_check),
    ("properties_headers_bodies_byte_for_byte", props_setup, props_check),
    ("deleted_and_unbound_stay_so", deleted_setup, deleted_check),
    ("purge_survives", purge_setup, purge_check),
    ("acked_and_dropped_stay_gone", acks_setup, acks_check),
    ("delivered_unacked_come_back_redelivered", redelivered_setup,
     redelivered_check),
    ("auto_delete_queue_never_consumed_survives", autodelete_setup,
     autodelete_check),
]


# Scenarios with restarts of their own --------------------------------------


def after_empty_restart(w):
    """A durable queue emptied by acks, restarted, then given new messages
    that nobody consumes: after a clean restart those are not redelivered
    (their positions come after every delivered one)."""
    q = "dr-seq-q"
    c = w.pika()
    ch = c.channel()
    ch.queue_declare(q, durable=True)
    publish(ch, "", q, [b"old%d" % i for i in range(5)])
    eq(len(drain(ch, q)), 5, "old messages")
    commit_barrier(c)
    c.close()
    w.restart("term", wrapped=False)    # the next stop is a kill
    c = w.pika()
    ch = c.channel()
    ch.confirm_delivery()
    for i in range(3):
        ch.basic_publish("", q, b"new%d" % i, PERSISTENT)
    c.close()
    w.restart("term", wrapped=False)
    got = get_all(w.pika().channel(), q)
    eq([(b, r) for b, r, _ in got],
       [(b"new0", False), (b"new1", False), (b"new2", False)],
       "messages published after the restart, never delivered")


def ttl_runs_through_a_restart(w):
    """Queued messages keep their expiry time in the store: one whose TTL
    ran out while warrend was down is gone after the restart, one whose
    TTL has not is still there."""
    c = w.pika()
    ch = c.channel()
    ch.queue_declare("dr-ttl-short", durable=True,
                     arguments={"x-message-ttl": 300})
    ch.queue_declare("dr-ttl-long", durable=True,
                     arguments={"x-message-ttl": 600000})
    publish(ch, "", "dr-ttl-short", [b"short"])
    publish(ch, "", "dr-ttl-long", [b"long"])
    commit_barrier(c)
    c.close()
    w.kill()
    time.sleep(0.5)     # the short TTL runs out while warrend is down
    w.start()
    ch = w.pika().channel()
    eq([b for b, _, _ in get_all(ch, "dr-ttl-short")], [],
       "expired while warrend was down")
    eq([b for b, _, _ in get_all(ch, "dr-ttl-long")], [b"long"],
       "not expired yet")


def tx_commit_ok_is_durable(w):
    """tx.commit-ok promises the store has the messages: SIGKILL right
    after it loses nothing."""
    q = "dr-tx-q"
    c = w.pika()
    ch = c.channel()
    ch.queue_declare(q, durable=True)
    ch.tx_select()
    for i in range(50):
        ch.basic_publish("", q, b"tx%d" % i, PERSISTENT)
    ch.tx_commit()
    w.restart("kill", wrapped=False)
    eq(drain(w.pika().channel(), q), [b"tx%d" % i for i in range(50)],
       "messages of a committed transaction")


def confirm_is_durable(w):
    """A publisher confirm promises the same: SIGKILL right after it."""
    q = "dr-confirm-q"
    c = w.pika()
    ch = c.channel()
    ch.queue_declare(q, durable=True)
    ch.confirm_delivery()
    for i in range(20):
        ch.basic_publish("", q, b"c%d" % i, PERSISTENT)
    w.restart("kill")                   # the last one: a clean stop next
    eq(drain(w.pika().channel(), q), [b"c%d" % i for i in range(20)],
       "confirmed messages")


def orphan_rows_after_crash(_):
    """A queue deleted while one of its messages is delivered and unacked;
    a crash before the ack: the message row must not stay in the store
    for ever with nothing to refer to it."""
    w = Warren(prefix="warren-orphan-")
    try:
        w.start(wrapped=False)
        c = w.pika()
        ch = c.channel()
        ch.queue_declare("dr-orphan-q", durable=True)
        publish(ch, "", "dr-orphan-q", [b"o" * 1000])
        m, _, _ = c.channel().basic_get("dr-orphan-q")     # not acked
        ch.queue_delete("dr-orphan-q")
        commit_barrier(c)
        w.kill()
        w.start()
        w.stop()
        con = sqlite3.connect(os.path.join(w.datadir, "warren.db"))
        try:
            # Every table with a msg_id column refers to messages
            # (queue_msg, delayed, ...).
            refs = [r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND "
                "name != 'message' AND sql LIKE '%msg_id%'")]
            where = " AND ".join("id NOT IN (SELECT msg_id FROM %s)" % t
                                 for t in refs)
            n = con.execute("SELECT count(*) FROM message WHERE " +
                            where).fetchone()[0]
        finally:
            con.close()
        eq("queue_msg" in refs, True, "tables referring to messages: %r"
           % refs)
        eq(n, 0, "message rows no queue refers to, after a restart")
    finally:
        w.cleanup()


EXTRA = [
    ("new_messages_after_restart_not_redelivered", after_empty_restart,
     None),
    ("ttl_runs_through_a_restart", ttl_runs_through_a_restart, None),
    ("tx_commit_ok_then_kill", tx_commit_ok_is_durable, None),
    ("confirm_then_kill", confirm_is_durable, None),
    ("no_orphan_message_rows_after_crash", orphan_rows_after_crash, None),
]

NAMES = ["%s_%s" % (name, mode) for mode in MODES
         for name, _, _ in SCENARIOS] + [name for name, _, _ in EXTRA]


def run_mode(w, tap, mode, clean_next):
    """Set up every scenario, restart as mode says, check every scenario.
    clean_next: the broker left running will be stopped cleanly (so it
    may run under BROKER_WRAPPER)."""
    ctx = Ctx(w, mode)
    states = {}
    failed = {}
    for name, setup, _ in SCENARIOS:
        try:
            states[name] = setup(ctx)
        except Exception:
            failed[name] = "setup failed:\n" + traceback.format_exc()
    try:
        if mode == "term":
            w.stop()
        else:
            commit_barrier(ctx.conn())
            w.kill()
        if mode == "kill2":
            w.start(wrapped=False)
            w.kill()
        w.start(wrapped=clean_next)
    except Exception:
        why = "restart failed:\n" + traceback.format_exc()
        for name, _, _ in SCENARIOS:
            failed.setdefault(name, why)
    ctx.close_all()
    for name, _, check in SCENARIOS:
        tname = "%s_%s" % (name, mode)
        if name in failed:
            tap.not_ok(tname, failed[name])
            continue
        tap.run(tname, lambda: check(ctx, states[name]), timeout=20)
        ctx.close_all()


def main():
    skip_if_foreign(NAMES)
    w = Warren(prefix="warren-restart-")
    tap = Tap(NAMES, w)
    tap.plan()
    w.start()
    for i, mode in enumerate(MODES):
        if not w.running():
            w.start(wrapped=mode == "term")
        # Only the first extra case begins with a clean stop.
        clean_next = (MODES + ["term"])[i + 1] == "term"
        run_mode(w, tap, mode, clean_next)
    for name, fn, todo in EXTRA:
        if not w.running():
            w.start()
        tap.run(name, lambda: fn(w), timeout=30, todo=todo)
    if w.running():
        tap.comment("final stop")
        w.stop()
    finish()


if __name__ == "__main__":
    main()
