#!/usr/bin/env python3
"""Write the seed corpus of tests/fuzz/fuzz_codec.c: small inputs, each a
stream of AMQP frames (or, for the table-* files, a bare field table body),
built with conformance/lib/rawamqp.py.

    PYTHONPATH=conformance/lib tests/fuzz/make-corpus.py [DIR]

DIR defaults to tests/fuzz/corpus/codec beside this script.  Files are
written whole and named for what they hold, so the output is the same on
every run; files already in DIR that are not written here are left alone
(none should be: reproducers of bugs the fuzzer found go in REPRODUCERS).
"""
import os
import struct
import sys

from rawamqp import (
    BASIC, BASIC_ACK, BASIC_CANCEL, BASIC_CANCEL_OK, BASIC_CONSUME,
    BASIC_CONSUME_OK, BASIC_DELIVER, BASIC_GET, BASIC_GET_EMPTY,
    BASIC_GET_OK, BASIC_NACK, BASIC_PUBLISH, BASIC_QOS, BASIC_QOS_OK,
    BASIC_RECOVER, BASIC_RECOVER_ASYNC, BASIC_RECOVER_OK, BASIC_REJECT,
    BASIC_RETURN, CHANNEL_CLOSE, CHANNEL_CLOSE_OK, CHANNEL_FLOW,
    CHANNEL_FLOW_OK, CHANNEL_OPEN, CHANNEL_OPEN_OK, CONFIRM_SELECT,
    CONFIRM_SELECT_OK, CONNECTION_BLOCKED, CONNECTION_CLOSE,
    CONNECTION_CLOSE_OK, CONNECTION_OPEN, CONNECTION_OPEN_OK,
    CONNECTION_SECURE, CONNECTION_SECURE_OK, CONNECTION_START,
    CONNECTION_START_OK, CONNECTION_TUNE, CONNECTION_TUNE_OK,
    CONNECTION_UNBLOCKED, EXCHANGE_BIND, EXCHANGE_DECLARE,
    EXCHANGE_DECLARE_OK, EXCHANGE_DELETE, EXCHANGE_DELETE_OK,
    EXCHANGE_UNBIND, FRAME_BODY, FRAME_HEADER, FRAME_METHOD, QUEUE_BIND,
    QUEUE_BIND_OK, QUEUE_DECLARE, QUEUE_DECLARE_OK, QUEUE_DELETE,
    QUEUE_DELETE_OK, QUEUE_PURGE, QUEUE_PURGE_OK, QUEUE_UNBIND,
    QUEUE_UNBIND_OK, TX_COMMIT, TX_COMMIT_OK, TX_ROLLBACK, TX_ROLLBACK_OK,
    TX_SELECT, TX_SELECT_OK, Typed, array,
    basic_ack_args, basic_consume_args, basic_get_args, basic_nack_args,
    basic_publish_args, basic_qos_args, basic_reject_args, bits,
    body_frame, channel_open_args, close_args, exchange_declare_args,
    exchange_delete_args, field_value, frame, header_frame, header_payload,
    heartbeat_frame, long_, longlong, longstr, method_frame, octet,
    open_args, queue_bind_args, queue_declare_args, queue_delete_args,
    queue_purge_args, short, shortstr, start_ok_args, table, table_items,
    tune_ok_args)

CONNECTION_UPDATE_SECRET = (10, 70)
CONNECTION_UPDATE_SECRET_OK = (10, 71)
EXCHANGE_BIND_OK = (40, 31)
EXCHANGE_UNBIND_OK = (40, 51)

# One value of every field type Warren and RabbitMQ read, by type octet.
EVERY_TYPE = [
    ("bool", Typed("t", True)),
    ("byte", Typed("b", -5)),
    ("ubyte", Typed("B", 250)),
    ("short", Typed("s", -300)),
    ("ushort", Typed("u", 65000)),
    ("int", Typed("I", -70000)),
    ("uint", Typed("i", 4000000000)),
    ("long", Typed("l", -(1 << 40))),
    ("ulong", Typed("L", 1 << 62)),
    ("float", Typed("f", 1.5)),
    ("double", Typed("d", -2.25)),
    ("decimal", Typed("D", (2, 12345))),
    ("longstr", Typed("S", "text")),
    ("bytes", Typed("x", b"\x00\xff\x01")),
    ("array", Typed("A", [1, "two", Typed("t", False), [], {"k": None}])),
    ("timestamp", Typed("T", 1700000000)),
    ("table", Typed("F", {"inner": Typed("b", 1), "deeper": {"x": 2}})),
    ("void", Typed("V", None)),
]

ALL_PROPERTIES = dict(
    content_type="application/json", content_encoding="gzip",
    headers=EVERY_TYPE, delivery_mode=2, priority=7,
    correlation_id="corr-1", reply_to="amq.rabbitmq.reply-to",
    expiration="60000", message_id="msg-1", timestamp=1700000000,
    type="order.created", user_id="guest", app_id="make-corpus",
    cluster_id="")


def nested(depth, inner=None):
    """A table value nested depth tables deep."""
    v = {} if inner is None else inner
    for _ in range(depth):
        v = {"n": v}
    return v


def publish(channel, body, **props):
    """basic.publish, its content header and one body frame."""
    return (method_frame(channel, BASIC_PUBLISH,
                         basic_publish_args("amq.direct", "rk")) +
            header_frame(channel, len(body), **props) +
            body_frame(channel, body))


def corpus():
    """The seed inputs: name -> bytes."""
    c = {}
    m = method_frame

    # The handshake, both sides.
    c["connection-start"] = m(0, CONNECTION_START,
                              octet(0) + octet(9) +
                              table({"product": "Warren",
                                     "capabilities": {"basic.nack": True}}) +
                              longstr("PLAIN AMQPLAIN") + longstr("en_US"))
    c["connection-start-ok"] = m(0, CONNECTION_START_OK, start_ok_args())
    c["connection-start-ok-amqplain"] = m(
        0, CONNECTION_START_OK,
        table({"product": "x"}) + shortstr("AMQPLAIN") +
        longstr(table_items({"LOGIN": "guest", "PASSWORD": "guest"})) +
        shortstr("en_US"))
    c["connection-secure"] = m(0, CONNECTION_SECURE, longstr("challenge"))
    c["connection-secure-ok"] = m(0, CONNECTION_SECURE_OK, longstr("resp"))
    c["connection-tune"] = m(0, CONNECTION_TUNE, tune_ok_args(2047, 131072,
                                                              60))
    c["connection-tune-ok"] = m(0, CONNECTION_TUNE_OK,
                                tune_ok_args(2047, 131072, 60))
    c["connection-open"] = m(0, CONNECTION_OPEN, open_args("/"))
    c["connection-open-ok"] = m(0, CONNECTION_OPEN_OK, shortstr(""))
    c["connection-close"] = m(0, CONNECTION_CLOSE,
                              close_args(320, "CONNECTION_FORCED", 60, 40))
    c["connection-close-ok"] = m(0, CONNECTION_CLOSE_OK)
    c["connection-blocked"] = (m(0, CONNECTION_BLOCKED, shortstr("low mem")) +
                               m(0, CONNECTION_UNBLOCKED))
    c["connection-update-secret"] = (
        m(0, CONNECTION_UPDATE_SECRET, longstr("token") + shortstr("expiry")) +
        m(0, CONNECTION_UPDATE_SECRET_OK))

    # Channels, exchanges, queues.
    c["channel-open"] = (m(1, CHANNEL_OPEN, channel_open_args()) +
                         m(1, CHANNEL_OPEN_OK, longstr("")))
    c["channel-flow"] = (m(1, CHANNEL_FLOW, bits(True)) +
                         m(1, CHANNEL_FLOW_OK, bits(False)))
    c["channel-close"] = (m(1, CHANNEL_CLOSE,
                            close_args(404, "NOT_FOUND - no queue", 50, 10)) +
                          m(1, CHANNEL_CLOSE_OK))
    c["exchange-declare"] = (
        m(1, EXCHANGE_DECLARE,
          exchange_declare_args("ex", "topic", durable=True,
                                arguments={"alternate-exchange": "ae"})) +
        m(1, EXCHANGE_DECLARE_OK))
    c["exchange-delete"] = (m(1, EXCHANGE_DELETE,
                              exchange_delete_args("ex", if_unused=True)) +
                            m(1, EXCHANGE_DELETE_OK))
    c["exchange-bind"] = (
        m(1, EXCHANGE_BIND, short(0) + shortstr("dst") + shortstr("src") +
          shortstr("a.*") + bits(False) + table({"k": 1})) +
        m(1, EXCHANGE_BIND_OK) +
        m(1, EXCHANGE_UNBIND, short(0) + shortstr("dst") + shortstr("src") +
          shortstr("a.*") + bits(True) + table({})) +
        m(1, EXCHANGE_UNBIND_OK))
    c["queue-declare-every-type"] = m(
        1, QUEUE_DECLARE,
        queue_declare_args("q", durable=True, arguments=EVERY_TYPE))
    c["queue-declare-args"] = (
        m(1, QUEUE_DECLARE,
          queue_declare_args("", exclusive=True, auto_delete=True,
                             arguments={"x-message-ttl": 1000,
                                        "x-max-length": Typed("I", 10),
                                        "x-overflow": "reject-publish",
                                        "x-dead-letter-exchange": "dlx",
                                        "x-queue-type": "classic"})) +
        m(1, QUEUE_DECLARE_OK, shortstr("amq.gen-1") + long_(3) + long_(1)))
    c["queue-bind-headers"] = (
        m(1, QUEUE_BIND,
          queue_bind_args("q", "amq.headers", "",
                          arguments={"x-match": "any", "a": 1, "b": "two",
                                     "c": [1, 2]})) +
        m(1, QUEUE_BIND_OK))
    c["queue-purge-delete"] = (
        m(1, QUEUE_PURGE, queue_purge_args("q")) +
        m(1, QUEUE_PURGE_OK, long_(5)) +
        m(1, QUEUE_DELETE, queue_delete_args("q", if_unused=True,
                                             if_empty=True, nowait=True)) +
        m(1, QUEUE_DELETE_OK, long_(0)))
    c["queue-unbind"] = (m(1, QUEUE_UNBIND,
                           short(0) + shortstr("q") + shortstr("amq.direct") +
                           shortstr("rk") + table({"k": "v"})) +
                         m(1, QUEUE_UNBIND_OK))

    # Basic, confirm, tx.
    c["basic-qos"] = (m(1, BASIC_QOS, basic_qos_args(0, 100, True)) +
                      m(1, BASIC_QOS_OK))
    c["basic-consume"] = (
        m(1, BASIC_CONSUME,
          basic_consume_args("q", "ctag", no_ack=True, exclusive=True,
                             arguments={"x-priority": 5})) +
        m(1, BASIC_CONSUME_OK, shortstr("ctag")))
    c["basic-cancel"] = (m(1, BASIC_CANCEL, shortstr("ctag") + bits(True)) +
                         m(1, BASIC_CANCEL_OK, shortstr("ctag")))
    c["basic-publish-all-properties"] = publish(1, b"hello",
                                                **ALL_PROPERTIES)
    c["basic-publish-minimal"] = (
        m(1, BASIC_PUBLISH, basic_publish_args()) +
        header_frame(1, 0))
    c["basic-publish-two-bodies"] = (
        m(1, BASIC_PUBLISH, basic_publish_args("", "q", mandatory=True)) +
        header_frame(1, 6, delivery_mode=1, content_type="text/plain") +
        body_frame(1, b"abc") + body_frame(1, b"def"))
    c["basic-publish-x-death"] = publish(
        1, b"dead",
        headers={"x-death": [{"count": 2, "reason": "expired",
                              "queue": "q", "time": Typed("T", 1700000000),
                              "exchange": "", "routing-keys": ["q"]}],
                 "x-first-death-reason": "expired",
                 "CC": ["a", "b"], "BCC": ["c"], "x-delay": 500})
    c["basic-deliver"] = (
        m(1, BASIC_DELIVER, shortstr("ctag") + longlong(1) + bits(True) +
          shortstr("amq.direct") + shortstr("rk")) +
        header_frame(1, 2, message_id="m") + body_frame(1, b"hi"))
    c["basic-get"] = (
        m(1, BASIC_GET, basic_get_args("q", no_ack=True)) +
        m(1, BASIC_GET_OK, longlong(7) + bits(False) + shortstr("") +
          shortstr("q") + long_(0)) +
        header_frame(1, 1) + body_frame(1, b"x") +
        m(1, BASIC_GET_EMPTY, shortstr("")))
    c["basic-return"] = (
        m(1, BASIC_RETURN, short(312) + shortstr("NO_ROUTE") +
          shortstr("amq.direct") + shortstr("nowhere")) +
        header_frame(1, 0))
    c["basic-ack-nack-reject"] = (
        m(1, BASIC_ACK, basic_ack_args(1, multiple=True)) +
        m(1, BASIC_NACK, basic_nack_args(2, multiple=False, requeue=True)) +
        m(1, BASIC_REJECT, basic_reject_args(3, requeue=False)))
    c["basic-recover"] = (m(1, BASIC_RECOVER, bits(True)) +
                          m(1, BASIC_RECOVER_OK) +
                          m(1, BASIC_RECOVER_ASYNC, bits(False)))
    c["confirm-select"] = (m(1, CONFIRM_SELECT, bits(False)) +
                           m(1, CONFIRM_SELECT_OK))
    c["tx"] = (m(1, TX_SELECT) + m(1, TX_SELECT_OK) + m(1, TX_COMMIT) +
               m(1, TX_COMMIT_OK) + m(1, TX_ROLLBACK) + m(1, TX_ROLLBACK_OK))
    c["heartbeat"] = heartbeat_frame()

    # A whole client session, frame after frame.
    c["session"] = (
        m(0, CONNECTION_START_OK, start_ok_args()) +
        m(0, CONNECTION_TUNE_OK, tune_ok_args(0, 131072, 0)) +
        m(0, CONNECTION_OPEN, open_args("/")) + heartbeat_frame() +
        m(1, CHANNEL_OPEN, channel_open_args()) +
        m(1, CONFIRM_SELECT, bits(False)) +
        m(1, QUEUE_DECLARE, queue_declare_args("q")) +
        publish(1, b"one", delivery_mode=2) +
        publish(1, b"two", headers={"h": "v"}) +
        m(1, BASIC_ACK, basic_ack_args(2, multiple=True)) +
        m(1, CHANNEL_CLOSE, close_args()) +
        m(0, CONNECTION_CLOSE, close_args()))

    # Bare table bodies, for the table and array decoders.
    c["table-every-type"] = table_items(EVERY_TYPE)
    c["table-nested-64"] = table_items({"t": nested(63)})
    c["table-duplicate-keys"] = table_items([("k", 1), ("k", "two"),
                                             ("j", Typed("t", True))])
    c["array-every-type"] = b"".join(field_value(v) for _, v in EVERY_TYPE)

    # Malformed input.
    c["bad-frame-end"] = frame(FRAME_METHOD, 0, b"\x00\x0a\x00\x33", end=0)
    c["bad-frame-size"] = frame(FRAME_METHOD, 0, b"\x00\x0a\x00\x33",
                                size=0xfffffff0)
    c["bad-truncated-frame"] = m(1, BASIC_ACK, basic_ack_args(1))[:-3]
    c["bad-unknown-method"] = (m(1, (99, 99)) + m(1, (60, 99)) +
                               m(1, (10, 1000)))
    c["bad-method-trailing"] = m(1, BASIC_ACK, basic_ack_args(1) + b"\x00")
    c["bad-method-short"] = m(1, BASIC_ACK, longlong(1))
    c["bad-shortstr-overrun"] = m(1, QUEUE_DELETE,
                                  short(0) + shortstr("q", length=200) +
                                  bits(False))
    c["bad-table-overrun"] = m(1, QUEUE_DECLARE,
                               short(0) + shortstr("q") + bits(False) +
                               table({"a": 1}, length=1000))
    c["bad-table-type"] = m(1, QUEUE_DECLARE,
                            short(0) + shortstr("q") + bits(False) +
                            table({"a": Typed("Z", b"\x00")}))
    c["bad-table-nested-65"] = table_items({"t": nested(64)})
    c["bad-array-overrun"] = table_items({"a": Typed("A", [])})[:-4] + \
        long_(50) + b"t\x01"
    c["bad-utf8-shortstr"] = (
        m(1, QUEUE_DECLARE, queue_declare_args(b"q\xff\xfe")) +
        m(1, EXCHANGE_DECLARE, exchange_declare_args(b"\xed\xa0\x80")) +
        m(1, BASIC_PUBLISH, basic_publish_args("", b"\xc0\x80")))
    c["bad-bit-octet-high-bits"] = (m(1, BASIC_ACK, longlong(1) +
                                      octet(0xfe)) +
                                    m(1, QUEUE_DECLARE, short(0) +
                                      shortstr("q") + octet(0xff) + table({})))
    c["bad-header-short"] = frame(FRAME_HEADER, 1,
                                  struct.pack(">HHI", BASIC, 0, 0))
    c["bad-header-no-flags"] = frame(FRAME_HEADER, 1,
                                     struct.pack(">HHQ", BASIC, 0, 0))
    c["bad-header-flags"] = (
        frame(FRAME_HEADER, 1, header_payload(0, properties=short(0x0001))) +
        frame(FRAME_HEADER, 1, header_payload(0, properties=short(0x0002))))
    c["bad-header-trailing"] = frame(
        FRAME_HEADER, 1,
        header_payload(0, properties=short(0x8000) + shortstr("a") + b"z"))
    c["bad-header-truncated"] = frame(
        FRAME_HEADER, 1,
        header_payload(0, **ALL_PROPERTIES)[:-5])
    c["bad-header-class"] = frame(FRAME_HEADER, 1,
                                  header_payload(3, class_id=10, weight=1))
    c["bad-body-alone"] = body_frame(1, b"orphan") + frame(FRAME_BODY, 0, b"")
    c["empty"] = b""
    return c


# Inputs that broke the codec once, with what was wrong.
REPRODUCERS = {
    # table_copy_except() copied keys as C strings: the key "\0" (one NUL)
    # came out empty, so a rewritten headers table lost or merged keys.
    "repro-table-copy-key-nul": b"\x01\x00t\x00",
    # The same in the headers of a content header, where the broker copies
    # them (x-delivery-count, BCC): "a\0b" and "a\0c" both became "a".
    "repro-header-key-nul": header_frame(1, 0, headers=[("a\0b", 1),
                                                        ("a\0c", 2)]),
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus",
                                                             "codec")
    os.makedirs(out, exist_ok=True)
    files = corpus()
    files.update(REPRODUCERS)
    for name, data in sorted(files.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print("%d files in %s" % (len(files), out))


if __name__ == "__main__":
    main()
