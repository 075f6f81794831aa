"""Raw malformed-content conformance: basic.publish, content header and body
frames out of order, on the wrong channel, of the wrong size or class, with
undecodable or invalid properties.

Every case opens a well-behaved connection first (rawamqp.Witness) that must
still declare, publish and get after the bad connection is dealt with.
Expected replies are RabbitMQ 3.10's, found by sending it these bytes.
0-9-1 "Content Framing": a content-bearing method is followed by exactly one
content header and then body frames adding up to its body-size, on the same
channel, with nothing else on that channel in between.
"""
import struct

import harness
import rawamqp as R
from rawamqp import Witness, bad_conn, method_frame as mf
from rawamqp import short, long_, table, Typed

EXPECTED_METHOD = ("UNEXPECTED_FRAME - expected method frame, got non method "
                   "frame instead")
EXPECTED_HEADER = ("UNEXPECTED_FRAME - expected content header for class 60, "
                   "got non content header frame instead")
EXPECTED_BODY = ("UNEXPECTED_FRAME - expected content body, got non content "
                 "body frame instead")


def expect_bad_properties(broker, c):
    """A property list that does not decode.  RabbitMQ 3.10 decodes
    properties late and crashes into 541 INTERNAL_ERROR; Warren deliberately
    says what is wrong: 501 FRAME_ERROR, as for any other undecodable
    frame."""
    if broker.is_warren:
        c.expect_connection_close(
            R.FRAME_ERROR,
            "FRAME_ERROR - malformed basic properties in content header",
            0, 0)
    else:
        c.expect_connection_close(R.INTERNAL_ERROR, "INTERNAL_ERROR", 0, 0)


def publish(channel=1, exchange="", routing_key="nowhere"):
    return mf(channel, R.BASIC_PUBLISH,
              R.basic_publish_args(exchange, routing_key))


def header_with(properties, body_size=3, channel=1):
    """A content header whose property flags and list are given raw."""
    return R.frame(R.FRAME_HEADER, channel,
                   struct.pack(">HHQ", R.BASIC, 0, body_size) + properties)


def reopen_and_roundtrip(c, channel=1):
    c.open_channel(channel)
    c.roundtrip(channel)
    c.close()


# -- frames out of order ------------------------------------------------------

@harness.test
def content_header_without_publish_is_505(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(R.header_frame(1, 5))
        c.expect_connection_close(R.UNEXPECTED_FRAME, EXPECTED_METHOD, 0, 0)


@harness.test
def body_without_publish_or_header_is_505(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(R.body_frame(1, b"hello"))
        c.expect_connection_close(R.UNEXPECTED_FRAME, EXPECTED_METHOD, 0, 0)


@harness.test
def body_right_after_publish_is_505(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(publish() + R.body_frame(1, b"abc"))
        c.expect_connection_close(R.UNEXPECTED_FRAME, EXPECTED_HEADER, 60, 40)


@harness.test
def method_instead_of_content_header_is_505(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(publish() +
               mf(1, R.QUEUE_DECLARE,
                  R.queue_declare_args("", exclusive=True)))
        c.expect_connection_close(R.UNEXPECTED_FRAME, EXPECTED_HEADER, 60, 40)


@harness.test
def second_publish_instead_of_header_is_505(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(publish() + publish())
        c.expect_connection_close(R.UNEXPECTED_FRAME, EXPECTED_HEADER, 60, 40)


@harness.test
def method_before_body_complete_is_505(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(publish() + R.header_frame(1, 10) + R.body_frame(1, b"hello") +
               mf(1, R.QUEUE_DECLARE,
                  R.queue_declare_args("", exclusive=True)))
        c.expect_connection_close(R.UNEXPECTED_FRAME, EXPECTED_BODY, 60, 40)


@harness.test
def channel_close_before_body_complete_is_505(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(publish() + R.header_frame(1, 3) +
               mf(1, R.CHANNEL_CLOSE, R.close_args()))
        c.expect_connection_close(R.UNEXPECTED_FRAME, EXPECTED_BODY, 60, 40)


@harness.test
def second_content_header_is_505(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(publish() + R.header_frame(1, 3) + R.header_frame(1, 3))
        c.expect_connection_close(R.UNEXPECTED_FRAME, EXPECTED_BODY, 60, 40)


@harness.test
def body_after_complete_zero_size_content_is_505(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(publish() + R.header_frame(1, 0) + R.body_frame(1, b""))
        c.expect_connection_close(R.UNEXPECTED_FRAME, EXPECTED_METHOD, 0, 0)


@harness.test
def heartbeat_between_content_frames_is_fine(broker):
    """Not an error: heartbeats may come between the frames of a content,
    and the message still arrives whole."""
    with Witness(broker):
        c = bad_conn(broker)
        q = c.declare_queue(1, exclusive=True)
        c.send(publish(routing_key=q) + R.header_frame(1, 6) +
               R.heartbeat_frame(0) + R.body_frame(1, b"abc") +
               R.heartbeat_frame(0) + R.body_frame(1, b"def"))
        got = harness.wait_for(lambda: c.get(1, q), timeout=5)
        if got is None or got[2] != b"abcdef":
            raise AssertionError("message not delivered whole: %r" % (got,))
        c.close()


# -- sizes and classes ------------------------------------------------------

@harness.test
def body_longer_than_declared_is_505(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(publish() + R.header_frame(1, 3) + R.body_frame(1, b"hello"))
        if broker.is_warren:
            # RabbitMQ 3.10 takes the surplus silently: the content never
            # completes, the message is lost and the channel is wedged until
            # the next method frame on it (below).  Warren deliberately
            # reports the body as soon as it overruns the declared size.
            c.expect_connection_close(R.UNEXPECTED_FRAME,
                                      "UNEXPECTED_FRAME - ", 60, 40)
        else:
            c.send(mf(1, R.QUEUE_DECLARE,
                      R.queue_declare_args("", exclusive=True)))
            c.expect_connection_close(R.UNEXPECTED_FRAME, EXPECTED_BODY,
                                      60, 40)


@harness.test
def second_body_frame_overrunning_declared_size_is_505(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(publish() + R.header_frame(1, 6) + R.body_frame(1, b"hello") +
               R.body_frame(1, b"xy"))
        if broker.is_warren:
            # As above: RabbitMQ silently wedges the channel instead.
            c.expect_connection_close(R.UNEXPECTED_FRAME,
                                      "UNEXPECTED_FRAME - ", 60, 40)
        else:
            c.send(publish())
            c.expect_connection_close(R.UNEXPECTED_FRAME, EXPECTED_BODY,
                                      60, 40)


@harness.test
def content_header_class_mismatch_is_505(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(publish() + R.header_frame(1, 3, class_id=R.QUEUE) +
               R.body_frame(1, b"abc"))
        c.expect_connection_close(
            R.UNEXPECTED_FRAME,
            "UNEXPECTED_FRAME - expected content header for class 60, got "
            "one for class 50 instead", 60, 40)


@harness.test
def content_header_nonzero_weight_is_505(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(publish() + R.header_frame(1, 3, weight=1) +
               R.body_frame(1, b"abc"))
        c.expect_connection_close(R.UNEXPECTED_FRAME, EXPECTED_HEADER, 60, 40)


@harness.test
def content_header_payload_truncated_is_501(broker):
    """10 octets: class, weight and half of body-size."""
    with Witness(broker):
        c = bad_conn(broker)
        c.send(publish() + R.frame(R.FRAME_HEADER, 1,
                                   struct.pack(">HHIH", 60, 0, 0, 3)))
        c.expect_connection_close(R.FRAME_ERROR, "FRAME_ERROR - ", 0, 0)


# -- content frames on the wrong channel -----------------------------------

@harness.test
def content_header_on_channel_0_is_505(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(R.header_frame(0, 3))
        c.expect_connection_close(R.UNEXPECTED_FRAME, "UNEXPECTED_FRAME - ",
                                  0, 0)


@harness.test
def body_on_channel_0_is_505(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(R.body_frame(0, b"abc"))
        c.expect_connection_close(R.UNEXPECTED_FRAME, "UNEXPECTED_FRAME - ",
                                  0, 0)


@harness.test
def content_header_on_channel_0_after_publish_on_1_is_505(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(publish() + R.header_frame(0, 3))
        c.expect_connection_close(R.UNEXPECTED_FRAME, "UNEXPECTED_FRAME - ",
                                  0, 0)


@harness.test
def body_on_channel_0_while_publishing_on_1_is_505(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(publish() + R.header_frame(1, 3) + R.body_frame(0, b"abc"))
        c.expect_connection_close(R.UNEXPECTED_FRAME, "UNEXPECTED_FRAME - ",
                                  0, 0)


@harness.test
def body_on_other_channel_while_publishing_is_505(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.open_channel(2)
        c.send(publish() + R.header_frame(1, 3) + R.body_frame(2, b"abc"))
        c.expect_connection_close(R.UNEXPECTED_FRAME, EXPECTED_METHOD, 0, 0)


# -- properties ---------------------------------------------------------------

@harness.test
def property_list_truncated_is_541(broker):
    """content-type flagged, its shortstr cut short.  See
    expect_bad_properties for where Warren differs."""
    with Witness(broker):
        c = bad_conn(broker)
        c.send(publish() + header_with(short(0x8000) + b"\x05ab") +
               R.body_frame(1, b"abc"))
        expect_bad_properties(broker, c)


@harness.test
def property_list_trailing_octets_is_541(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(publish() + header_with(short(0) + b"zzzz") +
               R.body_frame(1, b"abc"))
        expect_bad_properties(broker, c)


@harness.test
def headers_property_with_bad_field_type_is_541(broker):
    with Witness(broker):
        c = bad_conn(broker)
        props = short(0x2000) + table([("k", Typed("Z", b"x"))])
        c.send(publish() + header_with(props) + R.body_frame(1, b"abc"))
        expect_bad_properties(broker, c)


@harness.test
def headers_property_table_truncated_is_541(broker):
    with Witness(broker):
        c = bad_conn(broker)
        props = short(0x2000) + long_(50) + b"\x01k"
        c.send(publish() + header_with(props) + R.body_frame(1, b"abc"))
        expect_bad_properties(broker, c)


@harness.test
def delivery_mode_3_is_406(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(publish() + R.header_frame(1, 3, delivery_mode=3) +
               R.body_frame(1, b"abc"))
        c.expect_channel_close(1, R.PRECONDITION_FAILED,
                               "PRECONDITION_FAILED - invalid message", 60, 40)
        reopen_and_roundtrip(c)


@harness.test
def delivery_mode_0_is_406(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(publish() + R.header_frame(1, 3, delivery_mode=0) +
               R.body_frame(1, b"abc"))
        c.expect_channel_close(1, R.PRECONDITION_FAILED,
                               "PRECONDITION_FAILED - invalid message", 60, 40)
        reopen_and_roundtrip(c)


# -- routing ------------------------------------------------------------------

@harness.test
def publish_to_missing_exchange_is_404(broker):
    with Witness(broker):
        c = bad_conn(broker)
        x = harness.unique("rawx-missing")
        c.send(publish(exchange=x, routing_key="k") + R.header_frame(1, 3) +
               R.body_frame(1, b"abc"))
        c.expect_channel_close(
            1, R.NOT_FOUND,
            "NOT_FOUND - no exchange '%s' in vhost '%s'" % (x, broker.vhost),
            60, 40)
        reopen_and_roundtrip(c)


harness.run()
