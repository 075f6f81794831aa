"""Sender-selected distribution (CC and BCC headers) with pika, as RabbitMQ
3.10: each longstr in a CC or BCC array is an extra routing key on the same
exchange; a queue matched several times gets one copy; BCC is removed
before delivery (the other headers keep their order), CC is kept; the
delivered routing key is the published one; header names are
case-sensitive; array elements that are not longstr are ignored; a CC or
BCC that is not an array closes the channel with RabbitMQ's 406 text.
(Dead-lettering with CC is in 13-ext-dlx.py.)"""
import pika

import harness
from py_util import test, eq, channel_error, sync, drain
from ext_util import raw_get, header_keys, strings


def _setup(t, ch, xtype="direct", keys=("main", "c1", "c2", "b1")):
    x = t.exchange(ch, xtype)
    qs = {}
    for k in keys:
        qs[k] = t.queue(ch)
        ch.queue_bind(qs[k], x, k)
    return x, qs


def _route(ch, x, qs, headers, key="main", **kw):
    """Publish once; {binding key: [(routing key, headers)]} delivered."""
    ch.basic_publish(x, key, b"m", pika.BasicProperties(headers=headers),
                     **kw)
    sync(ch)
    out = {}
    for k, q in qs.items():
        while True:
            m, p, _ = ch.basic_get(q, auto_ack=True)
            if m is None:
                break
            out.setdefault(k, []).append((m.routing_key, p.headers))
    return out


@test
def cc_routes_to_extra_keys_and_is_kept(t):
    ch = t.channel()
    x, qs = _setup(t, ch)
    got = _route(ch, x, qs, {"CC": ["c1", "c2"]})
    h = {"CC": ["c1", "c2"]}
    eq(got, {"main": [("main", h)], "c1": [("main", h)],
             "c2": [("main", h)]})


@test
def bcc_routes_and_is_removed(t):
    ch = t.channel()
    x, qs = _setup(t, ch)
    got = _route(ch, x, qs, {"BCC": ["b1"], "other": 1})
    eq(got, {"main": [("main", {"other": 1})],
             "b1": [("main", {"other": 1})]})


@test
def cc_and_bcc_together(t):
    ch = t.channel()
    x, qs = _setup(t, ch)
    got = _route(ch, x, qs, {"CC": ["c1"], "BCC": ["b1", "c2"]})
    h = {"CC": ["c1"]}
    eq(got, {k: [("main", h)] for k in ("main", "c1", "c2", "b1")})


@test
def bcc_removal_keeps_header_order(t):
    ch = t.channel()
    q = t.queue(ch)
    ch.basic_publish("", q, b"m", pika.BasicProperties(
        headers={"z": 1, "BCC": ["nowhere"], "a": 2, "CC": ["x"]}))
    m = raw_get(t, q)
    eq(header_keys(m), ["z", "a", "CC"])
    eq(m.header("CC"), ("A", strings("x")))


@test
def bcc_only_leaves_an_empty_table(t):
    ch = t.channel()
    q = t.queue(ch)
    ch.basic_publish("", q, b"m", pika.BasicProperties(
        content_type="t/p", headers={"BCC": ["nowhere"]}))
    m = raw_get(t, q)
    eq(m.props, [("content_type", "t/p"), ("headers", [])])


@test
def queue_matched_twice_gets_one_copy(t):
    ch = t.channel()
    x, qs = _setup(t, ch)
    got = _route(ch, x, qs, {"CC": ["main", "c1", "c1"], "BCC": ["main"]})
    eq(sorted(got), ["c1", "main"])
    eq((len(got["main"]), len(got["c1"])), (1, 1))


@test
def header_names_are_case_sensitive(t):
    ch = t.channel()
    x, qs = _setup(t, ch)
    got = _route(ch, x, qs, {"cc": ["c1"], "Bcc": ["b1"]})
    eq(got, {"main": [("main", {"cc": ["c1"], "Bcc": ["b1"]})]})


@test
def non_string_elements_ignored(t):
    ch = t.channel()
    x, qs = _setup(t, ch)
    got = _route(ch, x, qs, {"CC": [1, ["c1"], "c2"]})
    eq(sorted(got), ["c2", "main"])


@test
def empty_arrays_accepted(t):
    ch = t.channel()
    x, qs = _setup(t, ch)
    got = _route(ch, x, qs, {"CC": [], "BCC": []})
    eq(got, {"main": [("main", {"CC": []})]})


@test
def cc_alone_satisfies_mandatory(t):
    ch = t.channel()
    x, qs = _setup(t, ch)
    ch.confirm_delivery()
    got = _route(ch, x, qs, {"CC": ["c1"]}, key="nowhere", mandatory=True)
    eq(got, {"c1": [("nowhere", {"CC": ["c1"]})]})


@test
def bcc_alone_satisfies_mandatory(t):
    ch = t.channel()
    x, qs = _setup(t, ch)
    ch.confirm_delivery()
    got = _route(ch, x, qs, {"BCC": ["b1"]}, key="nowhere", mandatory=True)
    eq(got, {"b1": [("nowhere", {})]})


@test
def unmatched_cc_still_returned(t):
    ch = t.channel()
    x, qs = _setup(t, ch)
    ch.confirm_delivery()
    try:
        ch.basic_publish(x, "nowhere", b"m", pika.BasicProperties(
            headers={"CC": ["nor-here"], "BCC": ["nor-there"]}),
            mandatory=True)
    except pika.exceptions.UnroutableError as e:
        r = e.messages[0]
        eq((r.method.reply_code, r.method.reply_text, r.method.routing_key),
           (312, "NO_ROUTE", "nowhere"))
        eq(r.properties.headers, {"CC": ["nor-here"]})
    else:
        raise AssertionError("unroutable publish was not returned")


@test
def cc_on_the_default_exchange_names_queues(t):
    ch = t.channel()
    q1 = t.queue(ch)
    q2 = t.queue(ch)
    q3 = t.queue(ch)
    ch.basic_publish("", q1, b"d", pika.BasicProperties(
        headers={"CC": [q2], "BCC": [q3]}))
    sync(ch)
    for q in (q1, q2, q3):
        m, p, body = ch.basic_get(q, auto_ack=True)
        eq((m.routing_key, body, p.headers), (q1, b"d", {"CC": [q2]}))


@test
def cc_with_topic_patterns(t):
    ch = t.channel()
    x, qs = _setup(t, ch, "topic", ("a.*", "#.z", "exact"))
    got = _route(ch, x, qs, {"CC": ["a.b"], "BCC": ["y.z"]}, key="zzz")
    eq(sorted(got), ["#.z", "a.*"])


@test
def cc_with_fanout_changes_nothing(t):
    ch = t.channel()
    x, qs = _setup(t, ch, "fanout", ("one", "two"))
    got = _route(ch, x, qs, {"CC": ["one", "x"], "BCC": ["two"]})
    eq((len(got["one"]), len(got["two"])), (1, 1))


@test
def cc_with_confirms_one_ack(t):
    ch = t.channel()
    x, qs = _setup(t, ch)
    ch.confirm_delivery()
    ch.basic_publish(x, "main", b"m", pika.BasicProperties(
        headers={"CC": ["c1", "c2"], "BCC": ["b1"]}))
    for q in qs.values():
        eq(drain(ch, q), [b"m"])


def _bad_header(t, headers, name, kind):
    ch = t.channel()
    q = t.queue(ch)
    with channel_error(406, 'PRECONDITION_FAILED - invalid message: '
                       '{unacceptable_type_in_header,"%s",%s}' % (name, kind)):
        ch.basic_publish("", q, b"m", pika.BasicProperties(headers=headers))
        sync(ch)
    eq(drain(t.channel(), q), [])


@test
def cc_longstr_406(t):
    _bad_header(t, {"CC": "c1"}, "CC", "longstr")


@test
def bcc_longstr_406(t):
    _bad_header(t, {"BCC": "b1"}, "BCC", "longstr")


@test
def cc_table_406(t):
    _bad_header(t, {"CC": {"a": 1}}, "CC", "table")


@test
def cc_integer_406(t):
    _bad_header(t, {"CC": 5}, "CC", "signedint")


harness.run()
