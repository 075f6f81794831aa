"""Publish/subscribe scenarios with pika: fanout broadcast to several
subscriber connections, topic subscriptions with wildcards, late joiners,
unsubscribing."""
import collections

import pika

import harness
from py_util import test, eq, Collector, pump_until


class Subscriber:
    """A connection with an exclusive server-named queue bound to x."""

    def __init__(self, t, x, keys=("",)):
        self.conn = t.conn()
        self.ch = self.conn.channel()
        self.q = self.ch.queue_declare("", exclusive=True).method.queue
        for k in keys:
            self.ch.queue_bind(self.q, x, k)
        self.col = Collector()
        self.tag = self.ch.basic_consume(self.q, self.col, auto_ack=True)

    def bodies(self):
        return self.col.bodies()

    def keys(self):
        return [m.routing_key for m, _, _ in self.col.msgs]


def _pump_until(subs, cond, timeout=5):
    ok = harness.wait_for(lambda: [s.conn.process_data_events(0.01)
                                   for s in subs] and cond(), timeout)
    assert ok, "timed out: %r" % [s.bodies() for s in subs]


@test
def fanout_broadcast(t):
    pub = t.channel()
    x = t.exchange(pub, "fanout")
    subs = [Subscriber(t, x) for _ in range(4)]
    for i in range(25):
        pub.basic_publish(x, "", b"news-%d" % i)
    want = [b"news-%d" % i for i in range(25)]
    _pump_until(subs, lambda: all(len(s.col) >= 25 for s in subs))
    for s in subs:
        eq(s.bodies(), want)


@test
def fanout_late_joiner_misses_earlier(t):
    pub = t.channel()
    x = t.exchange(pub, "fanout")
    early = Subscriber(t, x)
    pub.basic_publish(x, "", b"first")
    _pump_until([early], lambda: len(early.col) >= 1)
    late = Subscriber(t, x)
    pub.basic_publish(x, "", b"second")
    _pump_until([early, late], lambda: len(late.col) >= 1 and
                len(early.col) >= 2)
    eq(early.bodies(), [b"first", b"second"])
    eq(late.bodies(), [b"second"])


@test
def fanout_subscriber_leaves(t):
    pub = t.channel()
    x = t.exchange(pub, "fanout")
    a, b = Subscriber(t, x), Subscriber(t, x)
    pub.basic_publish(x, "", b"1")
    _pump_until([a, b], lambda: len(a.col) >= 1 and len(b.col) >= 1)
    b.conn.close()              # its exclusive queue and binding go away
    pub.basic_publish(x, "", b"2")
    _pump_until([a], lambda: len(a.col) >= 2)
    eq(a.bodies(), [b"1", b"2"])
    eq(b.bodies(), [b"1"])


@test
def topic_subscriptions(t):
    pub = t.channel()
    x = t.exchange(pub, "topic")
    subs = {
        "all": Subscriber(t, x, ["#"]),
        "kern": Subscriber(t, x, ["kern.*"]),
        "critical": Subscriber(t, x, ["*.critical"]),
        "kern+crit": Subscriber(t, x, ["kern.*", "*.critical"]),
        "deep": Subscriber(t, x, ["app.#.error"]),
    }
    keys = ["kern.info", "kern.critical", "auth.critical", "auth.info",
            "app.error", "app.web.error", "app.web.api.error", "app.web.info",
            "kern", "kern.info.extra"]
    for k in keys:
        pub.basic_publish(x, k, k.encode())
    want = {
        "all": keys,
        "kern": ["kern.info", "kern.critical"],
        "critical": ["kern.critical", "auth.critical"],
        "kern+crit": ["kern.info", "kern.critical", "auth.critical"],
        "deep": ["app.error", "app.web.error", "app.web.api.error"],
    }
    # A last message every subscriber matches shows that all before it
    # have arrived (one publisher, one queue each: FIFO).
    pub.basic_publish(x, "kern.critical", b"end")
    pub.basic_publish(x, "app.end.error", b"end")
    _pump_until(list(subs.values()),
                lambda: all(b"end" in s.bodies() for s in subs.values()))
    for name, s in subs.items():
        got = [k for k, b in zip(s.keys(), s.bodies()) if b != b"end"]
        eq(got, want[name], name)


@test
def topic_on_amq_topic_many_subscribers(t):
    pub = t.channel()
    base = t.name("stock").replace("-", "_")
    subs = [Subscriber(t, "amq.topic", [base + ".us.*"]),
            Subscriber(t, "amq.topic", [base + ".*.nyse"]),
            Subscriber(t, "amq.topic", [base + ".#"])]
    for k in ("us.nyse", "us.nasdaq", "eu.nyse", "eu.lse.x", "us.nyse"):
        pub.basic_publish("amq.topic", base + "." + k, k.encode())
    # the last us.nyse reaches everyone and comes after the rest
    _pump_until(subs, lambda: all(s.bodies()[-1:] == [b"us.nyse"] and
                                  len(s.col) >= 3 for s in subs))
    eq(subs[0].bodies(), [b"us.nyse", b"us.nasdaq", b"us.nyse"])
    eq(subs[1].bodies(), [b"us.nyse", b"eu.nyse", b"us.nyse"])
    eq(subs[2].bodies(), [b"us.nyse", b"us.nasdaq", b"eu.nyse", b"eu.lse.x",
                          b"us.nyse"])


@test
def headers_pubsub(t):
    pub = t.channel()
    x = t.exchange(pub, "headers")
    pdf = Subscriber(t, x, [])
    pdf.ch.queue_bind(pdf.q, x, "", arguments={"x-match": "all",
                                               "format": "pdf"})
    anyrep = Subscriber(t, x, [])
    anyrep.ch.queue_bind(anyrep.q, x, "", arguments={
        "x-match": "any", "type": "report", "urgent": True})
    for fmt, typ, urgent in (("pdf", "report", False), ("zip", "log", True),
                             ("pdf", "log", False), ("txt", "memo", False)):
        pub.basic_publish(x, "", ("%s/%s" % (fmt, typ)).encode(),
                          pika.BasicProperties(headers={
                              "format": fmt, "type": typ, "urgent": urgent}))
    _pump_until([pdf, anyrep], lambda: len(pdf.col) >= 2 and
                len(anyrep.col) >= 2)
    eq(pdf.bodies(), [b"pdf/report", b"pdf/log"])
    eq(anyrep.bodies(), [b"pdf/report", b"zip/log"])


harness.run()
