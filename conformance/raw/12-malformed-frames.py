"""Raw malformed-frame conformance: the frame layer of an open connection
(frame-end octet, frame size against frame-max, frame types, heartbeats,
method frames too short to hold their ids).

Every case opens a well-behaved connection first (rawamqp.Witness) that must
still declare, publish and get after the bad connection is dealt with.
Expected replies are RabbitMQ 3.10's, found by sending it these bytes.  After
a frame error RabbitMQ no longer parses the stream: it sends
connection.close and drops the socket 3 s later, close-ok or not; the
expectation here is only that the socket closes within the 5 s deadline.
"""
import struct

import harness
import rawamqp as R
from rawamqp import Witness, bad_conn, method_frame as mf


def small_conn(broker, frame_max=R.FRAME_MIN_SIZE):
    """A connection that negotiated a smaller frame-max, channel 1 open."""
    return bad_conn(broker, frame_max=frame_max)


# -- frame-end octet --------------------------------------------------------

@R.concurrent_test
def bad_frame_end_on_method_frame_is_501(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(mf(1, R.QUEUE_DECLARE, R.queue_declare_args("x"), end=0xCD))
        c.expect_connection_close(R.FRAME_ERROR, "FRAME_ERROR - ", 0, 0)


@R.concurrent_test
def bad_frame_end_on_heartbeat_is_501(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(R.frame(R.FRAME_HEARTBEAT, 0, b"", end=0x00))
        c.expect_connection_close(R.FRAME_ERROR, "FRAME_ERROR - ", 0, 0)


@R.concurrent_test
def bad_frame_end_on_body_frame_is_501(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(mf(1, R.BASIC_PUBLISH, R.basic_publish_args("", "nowhere")) +
               R.header_frame(1, 3) +
               R.frame(R.FRAME_BODY, 1, b"abc", end=ord("x")))
        c.expect_connection_close(R.FRAME_ERROR, "FRAME_ERROR - ", 0, 0)


# -- frame size ---------------------------------------------------------------

@R.concurrent_test
def frame_larger_than_frame_max_is_501(broker):
    with Witness(broker):
        c = bad_conn(broker)
        size = c.frame_max + 1  # payload alone is over frame-max
        c.send(mf(1, R.BASIC_PUBLISH, R.basic_publish_args("", "nowhere")) +
               R.header_frame(1, size) + R.body_frame(1, b"x" * size))
        c.expect_connection_close(R.FRAME_ERROR, "FRAME_ERROR - ", 0, 0)


@R.concurrent_test
def frame_larger_than_negotiated_frame_max_is_501(broker):
    """frame-max 4096 was negotiated down from the broker's offer: the
    broker must hold the client to 4096, not to its own maximum."""
    with Witness(broker):
        c = small_conn(broker)
        size = 4097
        c.send(mf(1, R.BASIC_PUBLISH, R.basic_publish_args("", "nowhere")) +
               R.header_frame(1, size) + R.body_frame(1, b"x" * size))
        c.expect_connection_close(R.FRAME_ERROR, "FRAME_ERROR - ", 0, 0)


@R.concurrent_test
def frame_header_announcing_2gib_is_501_at_once(broker):
    """Only the 7-octet frame header is sent: the broker must reject the
    size without waiting for (or buffering) the announced payload."""
    with Witness(broker):
        c = bad_conn(broker)
        c.send(struct.pack(">BHI", R.FRAME_METHOD, 1, 0x7FFFFFFF))
        c.expect_connection_close(R.FRAME_ERROR, "FRAME_ERROR - ", 0, 0)


@harness.test
def frame_of_exactly_frame_max_is_accepted(broker):
    """Not an error: a body frame of exactly the negotiated frame-max
    (4088 octets of payload plus 8 of framing) must be taken."""
    with Witness(broker):
        c = small_conn(broker)
        q = c.declare_queue(1, exclusive=True)
        body = b"y" * (R.FRAME_MIN_SIZE - 8)
        c.send(mf(1, R.BASIC_PUBLISH, R.basic_publish_args("", q)) +
               R.header_frame(1, len(body)) + R.body_frame(1, body))
        got = harness.wait_for(lambda: c.get(1, q), timeout=5)
        if got is None or got[2] != body:
            raise AssertionError("frame-max sized body not delivered: %r" %
                                 (got,))
        c.close()


# -- frame types --------------------------------------------------------------

@harness.test
def unknown_frame_type_9_is_501(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(R.frame(9, 1, b"abc"))
        c.expect_connection_close(R.FRAME_ERROR, "FRAME_ERROR - ", 0, 0)


@harness.test
def frame_type_0_is_501(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(R.frame(0, 0, b"abc"))
        c.expect_connection_close(R.FRAME_ERROR, "FRAME_ERROR - ", 0, 0)


@harness.test
def frame_type_4_oob_method_is_501(broker):
    """Type 4 was an out-of-band method frame in 0-8 drafts; 0-9-1 has no
    such frame."""
    with Witness(broker):
        c = bad_conn(broker)
        c.send(R.frame(4, 1, R.method_payload(R.QUEUE_DECLARE,
                                              R.queue_declare_args(""))))
        c.expect_connection_close(R.FRAME_ERROR, "FRAME_ERROR - ", 0, 0)


# -- heartbeats ---------------------------------------------------------------

@harness.test
def heartbeat_on_channel_1_is_505(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(R.heartbeat_frame(1))
        c.expect_connection_close(R.UNEXPECTED_FRAME, "UNEXPECTED_FRAME - ",
                                  0, 0)


@harness.test
def heartbeat_with_payload_is_501(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(R.frame(R.FRAME_HEARTBEAT, 0, b"abc"))
        c.expect_connection_close(R.FRAME_ERROR, "FRAME_ERROR - ", 0, 0)


@harness.test
def heartbeat_on_channel_0_is_fine(broker):
    """Not an error: a client may send heartbeats even with heartbeat 0."""
    with Witness(broker):
        c = bad_conn(broker)
        c.send(R.heartbeat_frame(0) * 3)
        c.roundtrip()
        c.close()


# -- method frames too short -------------------------------------------------

@harness.test
def zero_length_method_frame_is_501(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(R.frame(R.FRAME_METHOD, 1, b""))
        c.expect_connection_close(R.FRAME_ERROR, "FRAME_ERROR - ", 0, 0)


@harness.test
def zero_length_method_frame_on_channel_0_is_501(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(R.frame(R.FRAME_METHOD, 0, b""))
        c.expect_connection_close(R.FRAME_ERROR, "FRAME_ERROR - ", 0, 0)


@harness.test
def method_frame_of_three_octets_is_501(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(R.frame(R.FRAME_METHOD, 1, b"\x00\x32\x00"))
        c.expect_connection_close(R.FRAME_ERROR, "FRAME_ERROR - ", 0, 0)


harness.run()
