"""Routing through exchanges with pika: direct, fanout, topic wildcards,
headers x-match, exchange-to-exchange bindings, alternate exchanges,
internal and auto-delete exchanges."""
import pika

import harness
from py_util import test, eq, channel_error, sync, routed, drain


@test
def default_exchange_routes_by_queue_name(t):
    ch = t.channel()
    q1, q2 = t.queue(ch), t.queue(ch)
    eq(routed(ch, "", q1, [q1, q2]), [q1])
    eq(routed(ch, "", q2, [q1, q2]), [q2])
    eq(routed(ch, "", t.name("nobody"), [q1, q2]), [])


@test
def direct_exact_key(t):
    ch = t.channel()
    x = t.exchange(ch, "direct")
    qa, qb, qc = t.queue(ch), t.queue(ch), t.queue(ch)
    ch.queue_bind(qa, x, "a")
    ch.queue_bind(qb, x, "b")
    ch.queue_bind(qc, x, "a")
    ch.queue_bind(qc, x, "c")
    qs = [qa, qb, qc]
    eq(routed(ch, x, "a", qs), sorted([qa, qc]))
    eq(routed(ch, x, "b", qs), [qb])
    eq(routed(ch, x, "c", qs), [qc])
    eq(routed(ch, x, "A", qs), [])
    eq(routed(ch, x, "", qs), [])


@test
def direct_empty_key_binding(t):
    ch = t.channel()
    x = t.exchange(ch, "direct")
    q = t.queue(ch)
    ch.queue_bind(q, x, "")
    eq(routed(ch, x, "", [q]), [q])
    eq(routed(ch, x, "x", [q]), [])


@test
def duplicate_binding_delivers_once(t):
    ch = t.channel()
    x = t.exchange(ch, "direct")
    q = t.queue(ch)
    ch.queue_bind(q, x, "k")
    ch.queue_bind(q, x, "k")
    ch.basic_publish(x, "k", b"once")
    eq(drain(ch, q), [b"once"])


@test
def two_keys_same_queue_delivers_once(t):
    ch = t.channel()
    x = t.exchange(ch, "topic")
    q = t.queue(ch)
    ch.queue_bind(q, x, "a.*")
    ch.queue_bind(q, x, "*.b")
    ch.queue_bind(q, x, "#")
    ch.basic_publish(x, "a.b", b"once")
    eq(drain(ch, q), [b"once"])


@test
def fanout_ignores_key(t):
    ch = t.channel()
    x = t.exchange(ch, "fanout")
    qs = [t.queue(ch) for _ in range(4)]
    for i, q in enumerate(qs):
        ch.queue_bind(q, x, "key%d" % i)
    eq(routed(ch, x, "anything", qs), sorted(qs))
    eq(routed(ch, x, "", qs), sorted(qs))


@test
def unbind_stops_routing(t):
    ch = t.channel()
    x = t.exchange(ch, "direct")
    q = t.queue(ch)
    ch.queue_bind(q, x, "k")
    eq(routed(ch, x, "k", [q]), [q])
    ch.queue_unbind(q, x, "k")
    eq(routed(ch, x, "k", [q]), [])


TOPIC_CASES = [
    # pattern, key, matches
    ("a.b.c", "a.b.c", True),
    ("a.b.c", "a.b", False),
    ("a.*.c", "a.b.c", True),
    ("a.*.c", "a.c", False),
    ("a.*.c", "a.b.b.c", False),
    ("*", "a", True),
    # RabbitMQ splits "" into zero words, so "*" (exactly one) misses it,
    # while "a..b" has an empty middle word that "*" matches.
    ("*", "", False),
    ("*", "a.b", False),
    ("*.*", "a.b", True),
    ("*.*", "a", False),
    ("#", "", True),
    ("#", "a.b.c", True),
    ("a.#", "a", True),
    ("a.#", "a.b.c", True),
    ("a.#", "b.a", False),
    ("#.c", "c", True),
    ("#.c", "a.b.c", True),
    ("#.c", "a.b.c.d", False),
    ("a.#.c", "a.c", True),
    ("a.#.c", "a.b.b.c", True),
    ("a.#.c", "a.b.b.d", False),
    ("#.b.#", "b", True),
    ("#.b.#", "a.b.c", True),
    ("#.b.#", "a.c", False),
    ("*.#", "a", True),
    ("*.#", "", False),
    ("#.*", "a.b", True),
    ("a.*.#", "a", False),
    ("a.*.#", "a.b", True),
    ("a.*.#", "a.b.c.d", True),
    ("", "", True),
    ("", "a", False),
    ("a..b", "a..b", True),
    ("a.*.b", "a..b", True),
    ("stock.us.*", "stock.us.nyse", True),
    ("stock.*.nyse", "stock.eu.lse", False),
]


@test
def topic_wildcards(t):
    ch = t.channel()
    x = t.exchange(ch, "topic")
    qs = []
    for pattern, _, _ in TOPIC_CASES:
        q = t.queue(ch)
        ch.queue_bind(q, x, pattern)
        qs.append(q)
    failures = []
    for i, (pattern, key, match) in enumerate(TOPIC_CASES):
        ch.basic_publish(x, key, b"m")
        got = bool(drain(ch, qs[i]))
        if got != match:
            failures.append("%r vs %r: got %s" % (pattern, key, got))
        for q in qs:            # drop copies that other patterns matched
            drain(ch, q)
    assert not failures, failures


@test
def topic_on_amq_topic(t):
    ch = t.channel()
    q = t.queue(ch)
    k = t.name("k")
    ch.queue_bind(q, "amq.topic", k + ".*")
    eq(routed(ch, "amq.topic", k + ".x", [q]), [q])
    eq(routed(ch, "amq.topic", k + ".x.y", [q]), [])
    ch.queue_unbind(q, "amq.topic", k + ".*")


def _hdr_setup(t, ch, bindings):
    x = t.exchange(ch, "headers")
    qs = []
    for args in bindings:
        q = t.queue(ch)
        ch.queue_bind(q, x, "", arguments=args)
        qs.append(q)
    return x, qs


@test
def headers_match_all(t):
    ch = t.channel()
    x, (q,) = _hdr_setup(t, ch, [{"x-match": "all", "a": 1, "b": "two"}])
    eq(routed(ch, x, "", [q], headers={"a": 1, "b": "two"}), [q])
    eq(routed(ch, x, "", [q], headers={"a": 1, "b": "two", "c": 3}), [q])
    eq(routed(ch, x, "", [q], headers={"a": 1}), [])
    eq(routed(ch, x, "", [q], headers={"a": 2, "b": "two"}), [])
    eq(routed(ch, x, "", [q]), [])


@test
def headers_match_any(t):
    ch = t.channel()
    x, (q,) = _hdr_setup(t, ch, [{"x-match": "any", "a": 1, "b": "two"}])
    eq(routed(ch, x, "", [q], headers={"a": 1}), [q])
    eq(routed(ch, x, "", [q], headers={"b": "two", "z": 0}), [q])
    eq(routed(ch, x, "", [q], headers={"a": 2, "b": "three"}), [])
    eq(routed(ch, x, "", [q], headers={"c": 1}), [])


@test
def headers_default_is_all(t):
    ch = t.channel()
    x, (q,) = _hdr_setup(t, ch, [{"a": "1", "b": "2"}])
    eq(routed(ch, x, "", [q], headers={"a": "1"}), [])
    eq(routed(ch, x, "", [q], headers={"a": "1", "b": "2"}), [q])


@test
def headers_ignore_routing_key(t):
    ch = t.channel()
    x, (q,) = _hdr_setup(t, ch, [{"x-match": "all", "k": "v"}])
    ch.queue_bind(q, x, "some-key", arguments={"x-match": "all", "k": "v"})
    eq(routed(ch, x, "other-key", [q], headers={"k": "v"}), [q])


@test
def headers_empty_binding_matches_everything(t):
    ch = t.channel()
    x, (q,) = _hdr_setup(t, ch, [{"x-match": "all"}])
    eq(routed(ch, x, "", [q]), [q])
    eq(routed(ch, x, "", [q], headers={"a": 1}), [q])


@test
def headers_x_prefixed_binding_args_ignored(t):
    # Binding arguments starting with x- are not matched against headers.
    ch = t.channel()
    x, (q,) = _hdr_setup(t, ch, [{"x-match": "all", "a": 1,
                                   "x-note": "ignored"}])
    eq(routed(ch, x, "", [q], headers={"a": 1}), [q])


@test
def headers_value_types(t):
    ch = t.channel()
    x, qs = _hdr_setup(t, ch, [{"x-match": "all", "s": "str"},
                               {"x-match": "all", "n": 42},
                               {"x-match": "all", "f": True}])
    eq(routed(ch, x, "", qs, headers={"s": "str"}), [qs[0]])
    eq(routed(ch, x, "", qs, headers={"n": 42}), [qs[1]])
    eq(routed(ch, x, "", qs, headers={"f": True}), [qs[2]])
    eq(routed(ch, x, "", qs, headers={"s": "STR", "n": 43, "f": False}), [])


@test
def headers_several_bindings(t):
    ch = t.channel()
    x, qs = _hdr_setup(t, ch, [{"x-match": "all", "format": "pdf",
                                "type": "report"},
                               {"x-match": "any", "format": "zip",
                                "type": "log"},
                               {"x-match": "any", "format": "pdf"}])
    eq(routed(ch, x, "", qs, headers={"format": "pdf", "type": "report"}),
       sorted([qs[0], qs[2]]))
    eq(routed(ch, x, "", qs, headers={"format": "zip", "type": "report"}),
       [qs[1]])
    eq(routed(ch, x, "", qs, headers={"type": "log"}), [qs[1]])


@test
def headers_bad_x_match_406(t):
    ch = t.channel()
    x = t.exchange(ch, "headers")
    q = t.queue(ch)
    with channel_error(406, 'PRECONDITION_FAILED - Invalid x-match field '
                       'value <<"bogus">>; expected all, any, all-with-x, '
                       'or any-with-x'):
        ch.queue_bind(q, x, "", arguments={"x-match": "bogus", "a": 1})


@test
def headers_on_amq_match(t):
    ch = t.channel()
    q = t.queue(ch)
    k = t.name("h")
    args = {"x-match": "all", "test-key": k}
    ch.queue_bind(q, "amq.match", "", arguments=args)
    eq(routed(ch, "amq.match", "", [q], headers={"test-key": k}), [q])
    ch.queue_unbind(q, "amq.match", "", arguments=args)
    eq(routed(ch, "amq.match", "", [q], headers={"test-key": k}), [])


@test
def e2e_two_hops(t):
    ch = t.channel()
    x1 = t.exchange(ch, "topic")
    x2 = t.exchange(ch, "direct")
    q = t.queue(ch)
    ch.exchange_bind(x2, x1, "a.*")     # x1 -> x2 for a.*
    ch.queue_bind(q, x2, "a.b")
    eq(routed(ch, x1, "a.b", [q]), [q])
    eq(routed(ch, x1, "a.c", [q]), [])      # x2 has no a.c binding
    eq(routed(ch, x1, "b.b", [q]), [])      # x1 -> x2 does not match


@test
def e2e_three_hops_fanout(t):
    ch = t.channel()
    x1, x2, x3 = (t.exchange(ch, "fanout") for _ in range(3))
    q = t.queue(ch)
    ch.exchange_bind(x2, x1)
    ch.exchange_bind(x3, x2)
    ch.queue_bind(q, x3)
    eq(routed(ch, x1, "", [q]), [q])


@test
def e2e_unbind(t):
    ch = t.channel()
    x1 = t.exchange(ch, "direct")
    x2 = t.exchange(ch, "fanout")
    q = t.queue(ch)
    ch.exchange_bind(x2, x1, "k")
    ch.queue_bind(q, x2)
    eq(routed(ch, x1, "k", [q]), [q])
    ch.exchange_unbind(x2, x1, "k")
    eq(routed(ch, x1, "k", [q]), [])
    eq(routed(ch, x2, "k", [q]), [q])


@test
def e2e_two_paths_deliver_once(t):
    ch = t.channel()
    x1 = t.exchange(ch, "fanout")
    x2 = t.exchange(ch, "fanout")
    q = t.queue(ch)
    ch.exchange_bind(x2, x1)
    ch.queue_bind(q, x1)
    ch.queue_bind(q, x2)
    ch.basic_publish(x1, "", b"one copy")
    eq(drain(ch, q), [b"one copy"])


@test
def e2e_cycle_terminates(t):
    ch = t.channel()
    x1 = t.exchange(ch, "fanout")
    x2 = t.exchange(ch, "fanout")
    q1, q2 = t.queue(ch), t.queue(ch)
    ch.exchange_bind(x2, x1)
    ch.exchange_bind(x1, x2)
    ch.queue_bind(q1, x1)
    ch.queue_bind(q2, x2)
    ch.basic_publish(x1, "", b"loop")
    eq(drain(ch, q1), [b"loop"])
    eq(drain(ch, q2), [b"loop"])


@test
def e2e_bind_missing_source_404(t):
    ch = t.channel()
    x = t.exchange(ch, "fanout")
    missing = t.name("missing")
    with channel_error(404, "NOT_FOUND - no exchange '%s' in vhost '%s'"
                       % (missing, t.vhost)):
        ch.exchange_bind(x, missing, "k")


@test
def e2e_bind_missing_destination_404(t):
    ch = t.channel()
    x = t.exchange(ch, "fanout")
    missing = t.name("missing")
    with channel_error(404, "NOT_FOUND - no exchange '%s' in vhost '%s'"
                       % (missing, t.vhost)):
        ch.exchange_bind(missing, x, "k")


@test
def e2e_unbind_missing_ok(t):
    ch = t.channel()
    x1 = t.exchange(ch, "fanout")
    x2 = t.exchange(ch, "fanout")
    ok = ch.exchange_unbind(x2, x1, "never-bound")
    eq(ok.method.NAME, "Exchange.UnbindOk")


@test
def e2e_default_exchange_403(t):
    ch = t.channel()
    x = t.exchange(ch, "fanout")
    with channel_error(403, "ACCESS_REFUSED - operation not permitted on "
                       "the default exchange"):
        ch.exchange_bind(x, "", "k")


@test
def alternate_exchange_gets_unroutable(t):
    ch = t.channel()
    ae = t.exchange(ch, "fanout")
    x = t.exchange(ch, "direct", arguments={"alternate-exchange": ae})
    qmain, qae = t.queue(ch), t.queue(ch)
    ch.queue_bind(qmain, x, "k")
    ch.queue_bind(qae, ae)
    eq(routed(ch, x, "k", [qmain, qae]), [qmain])
    eq(routed(ch, x, "other", [qmain, qae]), [qae])


@test
def alternate_exchange_not_used_when_an_exchange_binding_matches(t):
    # The alternate exchange is for an exchange that matched no binding: a
    # matching exchange-to-exchange binding counts even when nothing is
    # bound behind it (then the message is dropped).
    ch = t.channel()
    ae = t.exchange(ch, "fanout")
    x = t.exchange(ch, "direct", arguments={"alternate-exchange": ae})
    behind = t.exchange(ch, "fanout")
    qae = t.queue(ch)
    ch.queue_bind(qae, ae)
    ch.exchange_bind(behind, x, "k")
    eq(routed(ch, x, "k", [qae]), [])
    eq(routed(ch, x, "other", [qae]), [qae])


@test
def alternate_exchange_mandatory_not_returned(t):
    ch = t.channel()
    ae = t.exchange(ch, "fanout")
    x = t.exchange(ch, "direct", arguments={"alternate-exchange": ae})
    qae = t.queue(ch)
    ch.queue_bind(qae, ae)
    returned = []
    ch.add_on_return_callback(lambda *a: returned.append(a))
    ch.basic_publish(x, "nowhere", b"m", mandatory=True)
    eq(drain(ch, qae), [b"m"])
    ch.connection.process_data_events(0)
    eq(returned, [], "basic.return")


@test
def alternate_exchange_missing_is_unroutable(t):
    ch = t.channel()
    x = t.exchange(ch, "direct",
                   arguments={"alternate-exchange": t.name("missing")})
    q = t.queue(ch)
    ch.queue_bind(q, x, "k")
    eq(routed(ch, x, "k", [q]), [q])
    ch.basic_publish(x, "other", b"dropped")
    sync(ch)
    assert ch.is_open


@test
def alternate_exchange_chain(t):
    ch = t.channel()
    ae2 = t.exchange(ch, "fanout")
    ae1 = t.exchange(ch, "direct", arguments={"alternate-exchange": ae2})
    x = t.exchange(ch, "direct", arguments={"alternate-exchange": ae1})
    q = t.queue(ch)
    ch.queue_bind(q, ae2)
    eq(routed(ch, x, "nowhere", [q]), [q])


@test
def internal_exchange_publish_403(t):
    ch = t.channel()
    x = t.exchange(ch, "fanout", internal=True)
    ch.basic_publish(x, "", b"m")
    with channel_error(403, "ACCESS_REFUSED - cannot publish to internal "
                       "exchange '%s' in vhost '%s'" % (x, t.vhost)):
        sync(ch)


@test
def internal_exchange_reachable_by_e2e(t):
    ch = t.channel()
    xi = t.exchange(ch, "fanout", internal=True)
    x = t.exchange(ch, "fanout")
    q = t.queue(ch)
    ch.exchange_bind(xi, x)
    ch.queue_bind(q, xi)
    eq(routed(ch, x, "", [q]), [q])


@test
def auto_delete_exchange_after_last_unbind(t):
    ch = t.channel()
    x = t.exchange(ch, "direct", auto_delete=True)
    q1, q2 = t.queue(ch), t.queue(ch)
    ch.queue_bind(q1, x, "a")
    ch.queue_bind(q2, x, "b")
    ch.queue_unbind(q1, x, "a")
    ch.exchange_declare(x, passive=True)     # one binding left
    ch.queue_unbind(q2, x, "b")
    with channel_error(404, "NOT_FOUND - no exchange '%s' in vhost '%s'"
                       % (x, t.vhost)):
        ch.exchange_declare(x, passive=True)


@test
def auto_delete_exchange_after_queue_delete(t):
    ch = t.channel()
    x = t.exchange(ch, "fanout", auto_delete=True)
    q = t.queue(ch)
    ch.queue_bind(q, x)
    ch.queue_delete(q)
    with channel_error(404):
        ch.exchange_declare(x, passive=True)


@test
def auto_delete_exchange_kept_until_bound(t):
    ch = t.channel()
    x = t.exchange(ch, "fanout", auto_delete=True)
    ch.exchange_declare(x, passive=True)
    ch.basic_publish(x, "", b"nobody")
    sync(ch)
    ch.exchange_declare(x, passive=True)


@test
def auto_delete_exchange_after_e2e_unbind(t):
    ch = t.channel()
    x = t.exchange(ch, "fanout", auto_delete=True)
    y = t.exchange(ch, "fanout")
    ch.exchange_bind(y, x)               # x is the source
    ch.exchange_unbind(y, x)
    with channel_error(404):
        ch.exchange_declare(x, passive=True)


harness.run()
