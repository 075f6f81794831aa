"""basic.publish with pika and py-amqp: mandatory returns, errors, the
immediate flag, property and header round trips, body sizes, FIFO order,
basic.get."""
import datetime
import decimal

import amqp
import pika

import harness
from py_util import (test, eq, channel_error, connection_error, sync,
                     pump_until, drain, wait_ready, consume, deadline)


def _pyamqp(t):
    b = t.broker
    c = amqp.Connection("%s:%d" % (b.host, b.port), userid=b.user,
                        password=b.password, virtual_host=b.vhost,
                        connect_timeout=5, read_timeout=5, write_timeout=5)
    c.connect()
    t.on_cleanup(c.collect)
    t.on_cleanup(c.close)
    return c


def _returns(ch):
    got = []
    ch.add_on_return_callback(lambda _ch, m, p, b: got.append((m, p, b)))
    return got


@test
def mandatory_unroutable_is_returned(t):
    c = t.conn()
    ch = c.channel()
    got = _returns(ch)
    x = t.exchange(ch, "direct")
    props = pika.BasicProperties(message_id="m1", headers={"h": 1})
    ch.basic_publish(x, "nobody", b"come back", props, mandatory=True)
    pump_until(c, lambda: got, what="basic.return")
    m, p, body = got[0]
    eq((m.reply_code, m.reply_text, m.exchange, m.routing_key),
       (312, "NO_ROUTE", x, "nobody"))
    eq(body, b"come back")
    eq((p.message_id, p.headers), ("m1", {"h": 1}))


@test
def mandatory_default_exchange_missing_queue(t):
    c = t.conn()
    ch = c.channel()
    got = _returns(ch)
    q = t.name("missing")
    ch.basic_publish("", q, b"x", mandatory=True)
    pump_until(c, lambda: got, what="basic.return")
    m = got[0][0]
    eq((m.reply_code, m.reply_text, m.exchange, m.routing_key),
       (312, "NO_ROUTE", "", q))


@test
def mandatory_routed_is_not_returned(t):
    c = t.conn()
    ch = c.channel()
    got = _returns(ch)
    q = t.queue(ch)
    ch.basic_publish("", q, b"x", mandatory=True)
    # a later mandatory return would arrive before this round trip's reply
    ch.basic_publish("", t.name("missing"), b"marker", mandatory=True)
    pump_until(c, lambda: got, what="basic.return of the marker")
    eq([b for _, _, b in got], [b"marker"])
    eq(drain(ch, q), [b"x"])


@test
def mandatory_fanout_without_bindings(t):
    c = t.conn()
    ch = c.channel()
    got = _returns(ch)
    x = t.exchange(ch, "fanout")
    for i in range(3):
        ch.basic_publish(x, "", b"%d" % i, mandatory=True)
    pump_until(c, lambda: len(got) >= 3, what="3 returns")
    eq([b for _, _, b in got], [b"0", b"1", b"2"])


@test
def non_mandatory_unroutable_dropped(t):
    c = t.conn()
    ch = c.channel()
    got = _returns(ch)
    x = t.exchange(ch, "direct")
    ch.basic_publish(x, "nobody", b"gone")
    ch.basic_publish(x, "nobody", b"marker", mandatory=True)
    pump_until(c, lambda: got, what="basic.return of the marker")
    eq([b for _, _, b in got], [b"marker"])


@test
def publish_missing_exchange_404(t):
    c = t.conn()
    ch = c.channel()
    x = t.name("missing")
    ch.basic_publish(x, "k", b"x")
    with channel_error(404, "NOT_FOUND - no exchange '%s' in vhost '%s'"
                       % (x, t.vhost)):
        sync(ch)
    assert c.is_open


@test
def publish_missing_exchange_mandatory_404(t):
    ch = t.channel()
    x = t.name("missing")
    ch.basic_publish(x, "k", b"x", mandatory=True)
    with channel_error(404, "NOT_FOUND - no exchange '%s' in vhost '%s'"
                       % (x, t.vhost)):
        sync(ch)


@test
def immediate_flag_not_implemented(t):
    c = _pyamqp(t)
    ch = c.channel()
    q = ch.queue_declare("", exclusive=True).queue
    try:
        ch.basic_publish(amqp.Message(b"x"), "", q, immediate=True)
        ch.basic_qos(0, 0, False)
    except amqp.exceptions.AMQPNotImplementedError as e:
        eq((e.code, e.reply_text), (540, "NOT_IMPLEMENTED - immediate=true"))
        eq(e.method_sig, (60, 40), "failing method (basic.publish)")
        # a connection exception: the whole connection is gone
        assert not c.connected, "connection still open"
        return
    raise AssertionError("immediate=true accepted")


@test
def user_id_must_match_login(t):
    ch = t.channel()
    q = t.queue(ch)
    ch.basic_publish("", q, b"x",
                     pika.BasicProperties(user_id=t.broker.user))
    eq(ch.basic_get(q, auto_ack=True)[1].user_id, t.broker.user)
    ch.basic_publish("", q, b"x", pika.BasicProperties(user_id="mallory"))
    with channel_error(406, "PRECONDITION_FAILED - user_id property set to "
                       "'mallory' but authenticated user was '%s'"
                       % t.broker.user):
        sync(ch)


@test
def invalid_expiration_406(t):
    ch = t.channel()
    q = t.queue(ch)
    ch.basic_publish("", q, b"x", pika.BasicProperties(expiration="soon"))
    with channel_error(406, "PRECONDITION_FAILED - invalid expiration "
                       "'soon': no_integer"):
        sync(ch)


ALL_PROPS = dict(
    content_type="application/json", content_encoding="gzip",
    headers={"k": "v"}, delivery_mode=2, priority=7,
    correlation_id="corr-1", reply_to="reply.queue", expiration="600000",
    message_id="msg-1", timestamp=1700000000, type="event.created",
    app_id="conformance", cluster_id="cluster-x")


@test
def all_properties_round_trip_get(t):
    ch = t.channel()
    q = t.queue(ch)
    props = pika.BasicProperties(user_id=t.broker.user, **ALL_PROPS)
    ch.basic_publish("", q, b"{}", props)
    m, p, body = ch.basic_get(q, auto_ack=True)
    eq(body, b"{}")
    for k, v in ALL_PROPS.items():
        eq(getattr(p, k), v, k)
    eq(p.user_id, t.broker.user, "user_id")


@test
def all_properties_round_trip_consume(t):
    c = t.conn()
    ch = c.channel()
    q = t.queue(ch)
    props = pika.BasicProperties(user_id=t.broker.user, **ALL_PROPS)
    ch.basic_publish("", q, b"{}", props)
    (m, p, body), = consume(c, ch, q, 1)
    for k, v in ALL_PROPS.items():
        eq(getattr(p, k), v, k)


@test
def no_properties_round_trip(t):
    ch = t.channel()
    q = t.queue(ch)
    ch.basic_publish("", q, b"bare")
    m, p, body = ch.basic_get(q, auto_ack=True)
    for k in list(ALL_PROPS) + ["user_id"]:
        eq(getattr(p, k), None, k)


@test
def each_property_alone(t):
    ch = t.channel()
    q = t.queue(ch)
    for k, v in ALL_PROPS.items():
        ch.basic_publish("", q, b"x", pika.BasicProperties(**{k: v}))
        _, p, _ = ch.basic_get(q, auto_ack=True)
        eq(getattr(p, k), v, k)
        for other in ALL_PROPS:
            if other != k:
                eq(getattr(p, other), None, "%s with only %s" % (other, k))


HEADERS = {
    "str": "text", "empty": "", "unicode": "h\u00e9llo \u2713",
    "int": 1, "neg": -5, "zero": 0, "int32max": 2**31 - 1,
    "big": 2**40,       # pika decodes 'l' as unsigned: negatives via py-amqp
    "true": True, "false": False, "void": None,
    "bytes": b"\x00\x01\xfe\xff",
    "array": [1, "a", [2, 3], {"in": "array"}], "emptyarray": [],
    "table": {"a": {"b": {"c": 1}}}, "emptytable": {},
    "decimal": decimal.Decimal("3.14"),
    "timestamp": datetime.datetime(2020, 1, 2, 3, 4, 5),
}


@test
def header_field_types_pika(t):
    ch = t.channel()
    q = t.queue(ch)
    ch.basic_publish("", q, b"h", pika.BasicProperties(headers=HEADERS))
    _, p, _ = ch.basic_get(q, auto_ack=True)
    for k, v in HEADERS.items():
        eq(p.headers.get(k, "<missing>"), v, "header " + k)
        got = p.headers[k]
        # bool is an int: compare it exactly; pika decodes 'l' as a long
        # (an int subclass).
        ok = (type(got) is bool) if isinstance(v, bool) else (
            isinstance(got, type(v)) and type(got) is not bool)
        assert ok, "header %s: type %r, expected %r" % (k, type(got),
                                                         type(v))
    eq(sorted(p.headers), sorted(HEADERS))


@test
def header_field_types_pyamqp(t):
    # py-amqp also sends floats (field type 'd') and picks other integer
    # encodings than pika.
    c = _pyamqp(t)
    ch = c.channel()
    q = ch.queue_declare("", exclusive=True).queue
    hdrs = {"float": 1.5, "negfloat": -0.25, "int": 7, "big": 2**40,
            "bigneg": -2**40, "neg": -3,
            "str": "s", "bool": True, "list": [1.5, "x"],
            "nested": {"f": 2.5}, "ts": datetime.datetime(2021, 5, 6, 7, 8)}
    ch.basic_publish(amqp.Message(b"x", application_headers=hdrs,
                                  content_type="text/plain",
                                  priority=3), "", q)
    m = ch.basic_get(q, no_ack=True)
    assert m is not None, "message not queued"
    eq(m.body, b"x")
    eq(m.properties["content_type"], "text/plain")
    eq(m.properties["priority"], 3)
    for k, v in hdrs.items():
        eq(m.headers.get(k), v, "header " + k)


@test
def empty_body(t):
    c = t.conn()
    ch = c.channel()
    q = t.queue(ch)
    ch.basic_publish("", q, b"", pika.BasicProperties(message_id="e"))
    m, p, body = ch.basic_get(q, auto_ack=True)
    eq((body, p.message_id), (b"", "e"))
    ch.basic_publish("", q, b"")
    (m, p, body), = consume(c, ch, q, 1)
    eq(body, b"")


@test
def binary_body(t):
    ch = t.channel()
    q = t.queue(ch)
    body = bytes(range(256)) * 4 + b"\xce\x00\xce"  # includes frame-end octets
    ch.basic_publish("", q, body)
    eq(ch.basic_get(q, auto_ack=True)[2], body)


@test
def one_mib_body(t):
    c = t.conn()
    ch = c.channel()
    q = t.queue(ch)
    body = bytes((i * 7 + i // 256) % 256 for i in range(1 << 20))
    ch.basic_publish("", q, body)
    eq(ch.basic_get(q, auto_ack=True)[2], body, "1 MiB via basic.get")
    ch.basic_publish("", q, body)
    (m, p, got), = consume(c, ch, q, 1)
    assert got == body, "1 MiB via basic.consume differs"


@test
def body_exactly_frame_sized(t):
    # frame_max 4096: a body frame carries at most 4088 octets.
    c = t.conn(frame_max=4096)
    ch = c.channel()
    q = t.queue(ch)
    for n in (4087, 4088, 4089, 8176, 8177, 100000):
        body = (b"%d-" % n) * n
        body = body[:n]
        ch.basic_publish("", q, body)
        eq(ch.basic_get(q, auto_ack=True)[2], body, "%d octets" % n)


@test
def fifo_order(t):
    c = t.conn()
    ch = c.channel()
    q = t.queue(ch)
    n = 2000
    for i in range(n):
        ch.basic_publish("", q, b"%d" % i)
    msgs = consume(c, ch, q, n)
    eq([b for _, _, b in msgs], [b"%d" % i for i in range(n)])


@test
def fifo_order_via_get(t):
    ch = t.channel()
    q = t.queue(ch)
    for i in range(50):
        ch.basic_publish("", q, b"%d" % i)
    eq(drain(ch, q), [b"%d" % i for i in range(50)])


@test
def basic_get_message_count(t):
    ch = t.channel()
    q = t.queue(ch)
    for i in range(3):
        ch.basic_publish("", q, b"%d" % i, pika.BasicProperties(type="t"))
    counts = []
    for i in range(3):
        m, p, body = ch.basic_get(q, auto_ack=True)
        counts.append(m.message_count)
        eq((m.exchange, m.routing_key, m.redelivered, body, p.type),
           ("", q, False, b"%d" % i, "t"))
    eq(counts, [2, 1, 0])
    eq(ch.basic_get(q, auto_ack=True), (None, None, None), "get-empty")


@test
def basic_get_empty_queue(t):
    ch = t.channel()
    q = t.queue(ch)
    eq(ch.basic_get(q), (None, None, None))
    eq(ch.basic_get(q, auto_ack=True), (None, None, None))


@test
def basic_get_delivery_tags_increase(t):
    ch = t.channel()
    q = t.queue(ch)
    for i in range(5):
        ch.basic_publish("", q, b"%d" % i)
    tags = [ch.basic_get(q)[0].delivery_tag for _ in range(5)]
    eq(tags, [1, 2, 3, 4, 5])
    ch.basic_ack(5, multiple=True)


@test
def basic_get_missing_queue_404(t):
    ch = t.channel()
    q = t.name("missing")
    with channel_error(404, "NOT_FOUND - no queue '%s' in vhost '%s'"
                       % (q, t.vhost)):
        ch.basic_get(q)


@test
def exchange_and_routing_key_in_delivery(t):
    c = t.conn()
    ch = c.channel()
    x = t.exchange(ch, "topic")
    q = t.queue(ch)
    ch.queue_bind(q, x, "a.#")
    ch.basic_publish(x, "a.b.c", b"x")
    (m, _, _), = consume(c, ch, q, 1)
    eq((m.exchange, m.routing_key, m.redelivered), (x, "a.b.c", False))


@test
def long_routing_key(t):
    ch = t.channel()
    x = t.exchange(ch, "direct")
    q = t.queue(ch)
    key = ("k" * 255)
    ch.queue_bind(q, x, key)
    ch.basic_publish(x, key, b"x")
    m, _, _ = ch.basic_get(q, auto_ack=True)
    eq(m.routing_key, key)


@test
def publish_to_several_queues_shares_body(t):
    c = t.conn()
    ch = c.channel()
    x = t.exchange(ch, "fanout")
    qs = [t.queue(ch) for _ in range(5)]
    for q in qs:
        ch.queue_bind(q, x)
    body = b"shared" * 10000
    ch.basic_publish(x, "", body)
    for q in qs:
        eq(ch.basic_get(q, auto_ack=True)[2], body)


@test
def many_publishers_one_queue(t):
    c = t.conn()
    chans = [c.channel() for _ in range(10)]
    q = t.queue(chans[0])
    for i, ch in enumerate(chans):
        for j in range(20):
            ch.basic_publish("", q, b"%d-%d" % (i, j))
    wait_ready(chans[0], q, 200)
    msgs = drain(chans[0], q)
    eq(len(msgs), 200)
    for i in range(10):   # per-channel order is preserved
        mine = [m for m in msgs if m.startswith(b"%d-" % i)]
        eq(mine, [b"%d-%d" % (i, j) for j in range(20)])


harness.run()
