"""Raw sequence conformance: the close handshakes under bad input, frames
sent after a close, and clients that stop reading.

Every case opens a well-behaved connection first (rawamqp.Witness) that must
still declare, publish and get after the bad connection is dealt with.
Expected replies are RabbitMQ 3.10's, found by sending it these bytes.
"""
import time

import harness
import rawamqp as R
from rawamqp import Conn, Witness, bad_conn, connect, method_frame as mf


def force_connection_close(c):
    """Make the broker send connection.close (504: channel 2 not open)."""
    c.send(mf(2, R.QUEUE_DECLARE, R.queue_declare_args("x")))


def force_channel_close(c, channel=1):
    """Make the broker send channel.close (406: unknown delivery tag)."""
    c.send(mf(channel, R.BASIC_ACK, R.basic_ack_args(99)))


JUNK = (mf(1, R.QUEUE_DECLARE, R.queue_declare_args("", exclusive=True)) +
        mf(3, R.CHANNEL_OPEN, R.channel_open_args()) +
        mf(0, R.CONNECTION_OPEN, R.open_args()) +
        mf(1, R.BASIC_PUBLISH, R.basic_publish_args("", "nowhere")) +
        R.header_frame(1, 3) + R.body_frame(1, b"abc") +
        R.heartbeat_frame(0) +
        R.frame(9, 0, b"unknown frame type"))


# -- connection.close from the broker ----------------------------------------

@harness.test
def broker_connection_close_ignores_all_but_close_ok(broker):
    """0-9-1 connection.close: after sending it the broker discards every
    frame but close-ok (or a crossing close), then closes the socket once
    close-ok arrives."""
    with Witness(broker):
        c = bad_conn(broker)
        force_connection_close(c)
        c.expect_connection_close(
            R.CHANNEL_ERROR, "CHANNEL_ERROR - expected 'channel.open'",
            50, 10, junk=JUNK)


@harness.test
def crossing_connection_close_is_answered_with_close_ok(broker):
    with Witness(broker):
        c = bad_conn(broker)
        force_connection_close(c)
        c.expect_connection_close(R.CHANNEL_ERROR, close_ok=False)
        c.send(mf(0, R.CONNECTION_CLOSE, R.close_args()))
        c.expect_method(R.CONNECTION_CLOSE_OK, 0)
        c.shutdown_and_expect_eof()


# -- connection.close from the client -----------------------------------------

@harness.test
def frames_after_client_connection_close_are_ignored(broker):
    """The broker answers close-ok and nothing else, whatever follows."""
    with Witness(broker):
        c = bad_conn(broker)
        c.send(mf(0, R.CONNECTION_CLOSE, R.close_args()) + JUNK)
        c.expect_method(R.CONNECTION_CLOSE_OK, 0)
        c.shutdown_and_expect_eof()


@harness.test
def connection_close_in_the_middle_of_content_is_accepted(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(mf(1, R.BASIC_PUBLISH, R.basic_publish_args("", "nowhere")) +
               R.header_frame(1, 3) +
               mf(0, R.CONNECTION_CLOSE, R.close_args()))
        c.expect_method(R.CONNECTION_CLOSE_OK, 0)
        c.shutdown_and_expect_eof()


# -- channel.close from the broker --------------------------------------------

@harness.test
def channel_closed_by_broker_ignores_methods_until_close_ok(broker):
    """0-9-1 channel.close: the broker discards the channel's frames until
    close-ok; the number can then be opened again."""
    with Witness(broker):
        c = bad_conn(broker)
        force_channel_close(c)
        c.expect_channel_close(
            1, R.PRECONDITION_FAILED,
            "PRECONDITION_FAILED - unknown delivery tag 99", 60, 80,
            close_ok=False)
        c.send(mf(1, R.QUEUE_DECLARE, R.queue_declare_args("", exclusive=True))
               + mf(1, R.BASIC_PUBLISH, R.basic_publish_args("", "nowhere"))
               + R.header_frame(1, 3) + R.body_frame(1, b"abc")
               + mf(1, R.BASIC_GET, R.basic_get_args("nowhere"))
               + mf(1, R.BASIC_ACK, R.basic_ack_args(12345)))
        c.send(mf(1, R.CHANNEL_CLOSE_OK))
        c.open_channel(1)  # the very next frame must be open-ok
        c.roundtrip(1)
        c.close()


@harness.test
def crossing_channel_close_is_answered_with_close_ok(broker):
    """Both peers close channel 1 at once: each answers the other's close
    with close-ok, and then the channel number is free."""
    with Witness(broker):
        c = bad_conn(broker)
        force_channel_close(c)
        c.send(mf(1, R.CHANNEL_CLOSE, R.close_args()))
        c.expect_channel_close(1, R.PRECONDITION_FAILED,
                               "PRECONDITION_FAILED - unknown delivery tag 99",
                               60, 80, close_ok=False)
        c.expect_method(R.CHANNEL_CLOSE_OK, 1)
        c.send(mf(1, R.CHANNEL_CLOSE_OK))
        c.open_channel(1)
        c.roundtrip(1)
        c.close()


@harness.test
def content_header_on_channel_closed_by_broker_is_505(broker):
    """Discarding stops short of content framing in RabbitMQ: a header with
    no method before it is still a connection error."""
    with Witness(broker):
        c = bad_conn(broker)
        force_channel_close(c)
        c.expect_channel_close(1, R.PRECONDITION_FAILED, close_ok=False)
        c.send(R.header_frame(1, 3))
        c.expect_connection_close(
            R.UNEXPECTED_FRAME, "UNEXPECTED_FRAME - expected method frame, "
            "got non method frame instead", 0, 0)


@harness.test
def method_on_channel_after_client_closed_it_is_504(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(mf(1, R.CHANNEL_CLOSE, R.close_args()))
        c.expect_method(R.CHANNEL_CLOSE_OK, 1)
        c.send(mf(1, R.QUEUE_DECLARE,
                  R.queue_declare_args("", exclusive=True)))
        c.expect_connection_close(
            R.CHANNEL_ERROR, "CHANNEL_ERROR - expected 'channel.open'",
            50, 10)


# -- clients that stop reading ------------------------------------------------

COUNT = 256
SIZE = 65536  # COUNT * SIZE = 16 MiB: more than the socket buffers hold


def body(i):
    return (b"%08d" % i) * (SIZE // 8)


def fill_and_stall(broker, w):
    """A connection with a tiny receive buffer that queues 16 MiB for
    itself, starts a no-ack consumer and stops reading.  The broker's
    writes to it block; meanwhile the witness must work normally, also with
    a 1 MiB message.  Returns (conn, queue)."""
    c = Conn(broker, rcvbuf=4096)
    c.handshake()
    c.open_channel(1)
    q = harness.unique("rawq-stall")
    c.declare_queue(1, q, auto_delete=True)
    data = b"".join(R.publish_frames(1, body(i), routing_key=q,
                                     frame_max=c.frame_max)
                    for i in range(COUNT))
    sent = c.send_until(data, time.time() + 10)
    if sent != len(data):
        raise AssertionError("broker took only %d of %d octets" %
                             (sent, len(data)))
    c.send(mf(1, R.BASIC_CONSUME, R.basic_consume_args(q, no_ack=True)))
    # The stalled connection must not hold up anybody else.
    w.check()
    wq = w.conn.declare_queue(1, exclusive=True)
    big = b"w" * (1 << 20)
    w.conn.publish(1, big, routing_key=wq)
    got = harness.wait_for(lambda: w.conn.get(1, wq), timeout=5)
    if got is None or got[2] != big:
        raise AssertionError("witness lost its 1 MiB message")
    other = connect(broker)
    other.roundtrip()
    other.close()
    return c, q


@harness.test
def client_that_stops_reading_then_resumes_gets_everything(broker):
    with Witness(broker) as w:
        c, q = fill_and_stall(broker, w)
        c.expect_method(R.BASIC_CONSUME_OK, 1, timeout=10)
        for i in range(COUNT):
            d = c.expect_method(R.BASIC_DELIVER, 1, timeout=10)
            _, b = c.read_content(1)
            if b != body(i):
                raise AssertionError("delivery %d (tag %d) is wrong: %r..." %
                                     (i, d.args["delivery_tag"], b[:16]))
        c.close()


@harness.test
def client_that_stops_reading_then_vanishes_is_cleaned_up(broker):
    with Witness(broker) as w:
        c, q = fill_and_stall(broker, w)
        c.close_socket()  # unread data: the kernel sends a reset
        # The broker notices despite its blocked writes: the consumer goes
        # and the auto-delete queue with it.
        w.conn.open_channel(2)

        def queue_gone():
            w.conn.send_method(2, R.QUEUE_DECLARE,
                               R.queue_declare_args(q, passive=True))
            f = w.conn.recv_frame()
            if f.is_method(R.QUEUE_DECLARE_OK, 2):
                return False
            if not f.is_method(R.CHANNEL_CLOSE, 2):
                raise AssertionError("unexpected %r" % f)
            w.conn.send_method(2, R.CHANNEL_CLOSE_OK)
            if f.args["reply_code"] != R.NOT_FOUND:
                raise AssertionError("unexpected %r" % f)
            return True
        if not harness.wait_for(queue_gone, timeout=10, interval=0.05):
            raise AssertionError("queue %s outlived its vanished consumer" % q)


harness.run()
