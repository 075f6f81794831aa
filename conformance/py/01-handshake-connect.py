"""Handshake with real clients: pika (PLAIN), kombu/py-amqp (AMQPLAIN),
refused logins, unknown vhosts, server properties, tuning, clean close."""
import re

import amqp
import kombu
import pika
import pika.exceptions

import harness
from py_util import test, eq, check_reply, deadline


@test
def pika_plain_connect_and_close(t):
    c = t.conn()
    assert c.is_open
    ch = c.channel()
    assert ch.is_open
    c.close()
    assert c.is_closed and ch.is_closed


@test
def pika_context_manager_close(t):
    with pika.BlockingConnection(t.params()) as c:
        c.channel().queue_declare("", exclusive=True)
    assert c.is_closed


@test
def kombu_amqplain_connect(t):
    with kombu.Connection(t.kombu_url(), login_method="AMQPLAIN",
                          connect_timeout=5) as c:
        c.connect()
        assert c.connected
        eq([a.mechanism for a in c.connection.authentication], [b"AMQPLAIN"],
           "login method")
        assert b"AMQPLAIN" in c.connection.mechanisms, c.connection.mechanisms
        ch = c.channel()
        q = t.name("q")
        t.forget_queue(q)
        ok = ch.queue_declare(q, auto_delete=False)
        eq(ok.queue, q)
        eq(ok.message_count, 0)


@test
def server_offers_plain_and_amqplain(t):
    b = t.broker
    c = amqp.Connection("%s:%d" % (b.host, b.port), userid=b.user,
                        password=b.password, virtual_host=b.vhost,
                        connect_timeout=5)
    c.connect()
    try:
        assert b"PLAIN" in c.mechanisms, c.mechanisms
        assert b"AMQPLAIN" in c.mechanisms, c.mechanisms
        # py-amqp splits the locales longstr into a list.
        assert "en_US" in c.locales or b"en_US" in c.locales, c.locales
    finally:
        c.close()


@test
def pyamqp_plain_connect(t):
    b = t.broker
    c = amqp.Connection("%s:%d" % (b.host, b.port), userid=b.user,
                        password=b.password, virtual_host=b.vhost,
                        login_method="PLAIN", connect_timeout=5)
    c.connect()
    try:
        ch = c.channel()
        ok = ch.queue_declare("", exclusive=True)
        assert ok.queue.startswith("amq.gen-"), ok.queue
    finally:
        c.close()


def _refused_text(mech):
    return ("ACCESS_REFUSED - Login was refused using authentication "
            "mechanism %s. For details see the broker logfile." % mech)


@test
def pika_bad_password_refused(t):
    b = t.broker
    p = t.params(credentials=pika.PlainCredentials(b.user, b.password + "x"))
    try:
        pika.BlockingConnection(p)
    except pika.exceptions.ProbableAuthenticationError as e:
        # pika wraps the broker's connection.close (403): the client offers
        # authentication_failure_close, so the broker must send it.
        inner = e.args[0]
        assert "(403)" in inner, inner
        assert _refused_text("PLAIN") in inner, inner
        return
    raise AssertionError("connected with a wrong password")


@test
def pika_unknown_user_refused(t):
    p = t.params(credentials=pika.PlainCredentials(t.name("nouser"), "x"))
    try:
        pika.BlockingConnection(p)
    except pika.exceptions.ProbableAuthenticationError as e:
        assert "(403)" in e.args[0] and _refused_text("PLAIN") in e.args[0], e
        return
    raise AssertionError("connected as an unknown user")


@test
def pyamqp_amqplain_bad_password(t):
    b = t.broker
    c = amqp.Connection("%s:%d" % (b.host, b.port), userid=b.user,
                        password=b.password + "x", virtual_host=b.vhost,
                        login_method="AMQPLAIN", connect_timeout=5)
    try:
        c.connect()
    except amqp.exceptions.AccessRefused as e:
        check_reply(e.code, e.reply_text, 403, _refused_text("AMQPLAIN"))
        return
    finally:
        c.collect()
    raise AssertionError("connected with a wrong password")


@test
def pika_unknown_vhost_not_allowed(t):
    v = t.name("vhost")
    try:
        pika.BlockingConnection(t.params(virtual_host=v))
    except pika.exceptions.ProbableAccessDeniedError as e:
        inner = e.args[0]
        assert "(530)" in inner, inner
        assert ("NOT_ALLOWED - vhost %s not found" % v) in inner, inner
        return
    raise AssertionError("opened an unknown vhost")


@test
def pyamqp_unknown_vhost_not_allowed(t):
    b = t.broker
    v = t.name("vhost")
    c = amqp.Connection("%s:%d" % (b.host, b.port), userid=b.user,
                        password=b.password, virtual_host=v,
                        connect_timeout=5)
    try:
        c.connect()
    except amqp.exceptions.NotAllowed as e:
        check_reply(e.code, e.reply_text, 530,
                    "NOT_ALLOWED - vhost %s not found" % v)
        return
    finally:
        c.collect()
    raise AssertionError("opened an unknown vhost")


@test
def server_properties(t):
    c = t.conn()
    sp = c._impl.server_properties
    for k in ("product", "version", "platform", "capabilities"):
        assert k in sp, "server property %s missing: %r" % (k, sp)
    if t.broker.is_warren:
        # Warren names itself; the rest of the table matches RabbitMQ.
        eq(sp["product"], "Warren", "product")
    else:
        eq(sp["product"], "RabbitMQ", "product")
    assert re.match(r"^\d+\.\d+", sp["version"]), sp["version"]


@test
def server_capabilities(t):
    c = t.conn()
    caps = c._impl.server_properties["capabilities"]
    for k in ("publisher_confirms", "exchange_exchange_bindings",
              "basic.nack", "consumer_cancel_notify", "connection.blocked",
              "per_consumer_qos", "authentication_failure_close"):
        eq(caps.get(k), True, "capability " + k)
    assert c.basic_nack_supported
    assert c.consumer_cancel_notify_supported
    assert c.exchange_exchange_bindings_supported
    assert c.publisher_confirms_supported


@test
def kombu_server_properties(t):
    with kombu.Connection(t.kombu_url(), connect_timeout=5) as c:
        c.connect()
        sp = c.connection.server_properties
        assert sp["capabilities"]["publisher_confirms"] is True, sp
        assert "product" in sp and "version" in sp, sp


@test
def heartbeat_server_proposal(t):
    seen = []

    def hb(_conn, server_value):
        seen.append(server_value)
        return server_value

    c = t.conn(heartbeat=hb)
    # RabbitMQ proposes 60 s by default.
    eq(seen, [60], "server heartbeat proposal")
    eq(c._impl.params.heartbeat, 60, "negotiated heartbeat")


@test
def heartbeat_client_lower(t):
    c = t.conn(heartbeat=7)
    eq(c._impl.params.heartbeat, 7, "negotiated heartbeat")
    c.channel().queue_declare("", exclusive=True)


@test
def heartbeat_frames_arrive(t):
    # With a 1 s timeout the broker must send heartbeats on an idle
    # connection (at least every timeout/2 .. timeout).
    c = t.conn(heartbeat=1)
    hc = c._impl._heartbeat_checker
    harness.wait_for(lambda: (c.process_data_events(0.05) or
                              hc._heartbeat_frames_received >= 2), 5)
    assert hc._heartbeat_frames_received >= 2, hc._heartbeat_frames_received
    assert c.is_open


@test
def heartbeat_disabled(t):
    c = t.conn(heartbeat=0)
    eq(c._impl.params.heartbeat, 0)
    assert c._impl._heartbeat_checker is None
    c.channel().queue_declare("", exclusive=True)


@test
def frame_max_negotiation(t):
    c = t.conn()
    # RabbitMQ offers 131072 and pika accepts it.
    eq(c._impl.params.frame_max, 131072, "frame_max")
    c2 = t.conn(frame_max=8192)
    eq(c2._impl.params.frame_max, 8192, "lower frame_max")
    ch = c2.channel()
    q = t.queue(ch)
    body = bytes(range(256)) * 200      # 51200 bytes: 7 body frames
    ch.basic_publish("", q, body)
    m, _, got = ch.basic_get(q, auto_ack=True)
    eq(got, body)


@test
def channel_max_server_default(t):
    c = t.conn()
    # RabbitMQ 3.10 offers channel_max 2047.
    eq(c._impl.params.channel_max, 2047, "channel_max")


@test
def channel_max_negotiated_lower(t):
    c = t.conn(channel_max=10)
    eq(c._impl.params.channel_max, 10, "channel_max")
    chans = [c.channel() for _ in range(10)]
    eq([ch.channel_number for ch in chans], list(range(1, 11)))
    try:
        c.channel()
    except pika.exceptions.NoFreeChannels:
        pass
    else:
        raise AssertionError("pika opened an 11th channel")


@test
def channel_above_channel_max_closes_connection(t):
    c = t.conn(channel_max=10)
    for _ in range(10):
        c.channel()
    # pika refuses an 11th channel itself; ask for a number explicitly.
    try:
        c.channel(channel_number=11)
    except pika.exceptions.ConnectionClosedByBroker as e:
        check_reply(e.reply_code, e.reply_text, 530,
                    "NOT_ALLOWED - number of channels opened (10) has "
                    "reached the negotiated channel_max (10)")
        return
    raise AssertionError("channel 11 opened with channel_max 10")


@test
def client_close_with_custom_code(t):
    c = t.conn()
    c.channel()
    c.close(reply_code=200, reply_text="bye")
    assert c.is_closed


@test
def many_connections(t):
    conns = [t.conn() for _ in range(20)]
    for c in conns:
        c.channel().queue_declare("", exclusive=True)
    for c in conns:
        c.close()
        assert c.is_closed


harness.run()
