"""Raw handshake conformance: bad protocol headers and out-of-order or
invalid handshake methods (protocol header, start-ok, tune-ok, open).

Every case opens a well-behaved connection first (rawamqp.Witness) that must
still declare, publish and get after the bad connection is dealt with.
Expected replies are RabbitMQ 3.10's, found by sending it these bytes.
"""
import harness
import rawamqp as R
from rawamqp import Conn, Witness, method_frame as mf


def started(broker):
    """A connection that has sent the header and read connection.start."""
    c = Conn(broker)
    c.send_header()
    c.expect_start()
    return c


def tuned(broker):
    """A connection that has sent start-ok and read connection.tune."""
    c = started(broker)
    c.send_start_ok()
    c.expect_tune()
    return c


def tuned_ok(broker):
    """A connection that has sent tune-ok (connection.open not yet sent)."""
    c = tuned(broker)
    c.send_tune_ok()
    return c


def refused_before_open(broker, c, code, text):
    """The bad connection must be closed; how depends on the broker.

    RabbitMQ closes the socket without a word (after a 3 s delay meant to
    slow down misbehaving clients) for every error before the connection is
    tuned; 0-9-1 requires exactly that for a bad mechanism, channel-max or
    frame-max ("MUST close the connection without attempting a negotiated
    close").  Warren may do the same, or may first send connection.close
    with the given code so the client can tell what went wrong; either way
    nothing else may arrive and the socket must close.
    """
    if broker.is_warren:
        c.expect_close_or_drop(code, text)
    else:
        c.expect_closed()


def header_refused(broker, header):
    with Witness(broker):
        c = Conn(broker)
        c.send(header)
        c.expect_protocol_header()
        c.close_socket()


# -- protocol header ------------------------------------------------------

@harness.test
def protocol_header_0_9_0_gets_0_9_1_header_and_close(broker):
    header_refused(broker, b"AMQP\x00\x00\x09\x00")


@harness.test
def protocol_header_0_10_gets_0_9_1_header_and_close(broker):
    header_refused(broker, b"AMQP\x01\x01\x00\x0a")


@harness.test
def protocol_header_amqp_1_0_gets_0_9_1_header_and_close(broker):
    header_refused(broker, b"AMQP\x00\x01\x00\x00")


@harness.test
def lowercase_protocol_name_gets_header_and_close(broker):
    header_refused(broker, b"amqp\x00\x00\x09\x01")


@harness.test
def http_request_instead_of_header_gets_header_and_close(broker):
    header_refused(broker, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")


@harness.test
def garbage_before_header_gets_header_and_close(broker):
    header_refused(broker, b"xx" + R.PROTOCOL_HEADER)


@harness.test
def method_frame_instead_of_header_gets_header_and_close(broker):
    header_refused(broker, mf(0, R.CONNECTION_START_OK, R.start_ok_args()))


# -- connection.start / start-ok --------------------------------------------

@R.concurrent_test
def garbage_frame_after_header_is_closed(broker):
    with Witness(broker):
        c = started(broker)
        c.send(b"garbage!")
        refused_before_open(broker, c, R.FRAME_ERROR, "FRAME_ERROR - ")


@harness.test
def start_ok_with_wrong_password_is_403(broker):
    with Witness(broker):
        c = started(broker)
        c.send_start_ok(password="not-the-password")
        c.expect_connection_close(
            R.ACCESS_REFUSED,
            "ACCESS_REFUSED - Login was refused using authentication "
            "mechanism PLAIN. For details see the broker logfile.", 0, 0)


@R.concurrent_test
def start_ok_with_unknown_mechanism_is_closed(broker):
    with Witness(broker):
        c = started(broker)
        c.send_start_ok(mechanism="NOSUCHMECH")
        refused_before_open(broker, c, R.ACCESS_REFUSED, "ACCESS_REFUSED - ")


@R.concurrent_test
def tune_ok_instead_of_start_ok_is_closed(broker):
    with Witness(broker):
        c = started(broker)
        c.send(mf(0, R.CONNECTION_TUNE_OK, R.tune_ok_args(2047, 131072, 0)))
        refused_before_open(broker, c, R.CHANNEL_ERROR,
                            "CHANNEL_ERROR - unexpected method")


@R.concurrent_test
def channel_open_before_start_ok_is_closed(broker):
    with Witness(broker):
        c = started(broker)
        c.send(mf(1, R.CHANNEL_OPEN, R.channel_open_args()))
        refused_before_open(broker, c, R.UNEXPECTED_FRAME,
                            "UNEXPECTED_FRAME - ")


# -- connection.tune / tune-ok ------------------------------------------------

@R.concurrent_test
def second_start_ok_is_closed(broker):
    with Witness(broker):
        c = tuned(broker)
        c.send_start_ok()
        refused_before_open(broker, c, R.CHANNEL_ERROR,
                            "CHANNEL_ERROR - unexpected method")


@R.concurrent_test
def open_before_tune_ok_is_closed(broker):
    with Witness(broker):
        c = tuned(broker)
        c.send_open()
        refused_before_open(broker, c, R.CHANNEL_ERROR,
                            "CHANNEL_ERROR - unexpected method")


@R.concurrent_test
def tune_ok_frame_max_below_4096_is_closed(broker):
    with Witness(broker):
        c = tuned(broker)
        c.send_tune_ok(frame_max=R.FRAME_MIN_SIZE - 1)
        refused_before_open(broker, c, R.NOT_ALLOWED, "NOT_ALLOWED - ")


@R.concurrent_test
def tune_ok_frame_max_above_offered_is_closed(broker):
    with Witness(broker):
        c = tuned(broker)
        c.send_tune_ok(frame_max=c.tune["frame_max"] + 1)
        refused_before_open(broker, c, R.NOT_ALLOWED, "NOT_ALLOWED - ")


@R.concurrent_test
def tune_ok_channel_max_above_offered_is_closed(broker):
    with Witness(broker):
        c = tuned(broker)
        c.send_tune_ok(channel_max=c.tune["channel_max"] + 1)
        refused_before_open(broker, c, R.NOT_ALLOWED, "NOT_ALLOWED - ")


# -- connection.open ----------------------------------------------------------

@harness.test
def channel_open_before_connection_open_is_505(broker):
    with Witness(broker):
        c = tuned_ok(broker)
        c.send(mf(1, R.CHANNEL_OPEN, R.channel_open_args()))
        c.expect_connection_close(R.UNEXPECTED_FRAME, "UNEXPECTED_FRAME - ",
                                  0, 0)


@harness.test
def heartbeat_on_channel_1_before_open_is_505(broker):
    with Witness(broker):
        c = tuned_ok(broker)
        c.send(R.heartbeat_frame(1))
        c.expect_connection_close(R.UNEXPECTED_FRAME, "UNEXPECTED_FRAME - ",
                                  0, 0)


@harness.test
def queue_declare_on_channel_0_before_open_is_504(broker):
    with Witness(broker):
        c = tuned_ok(broker)
        c.send(mf(0, R.QUEUE_DECLARE, R.queue_declare_args("x")))
        c.expect_connection_close(
            R.CHANNEL_ERROR,
            "CHANNEL_ERROR - unexpected method in connection state opening",
            50, 10)


@harness.test
def second_tune_ok_is_504(broker):
    with Witness(broker):
        c = tuned_ok(broker)
        c.send(mf(0, R.CONNECTION_TUNE_OK, R.tune_ok_args(2047, 131072, 0)))
        c.expect_connection_close(
            R.CHANNEL_ERROR,
            "CHANNEL_ERROR - unexpected method in connection state opening",
            10, 31)


@harness.test
def open_unknown_vhost_is_530(broker):
    with Witness(broker):
        c = tuned_ok(broker)
        c.send_open(vhost="no-such-vhost")
        c.expect_connection_close(
            R.NOT_ALLOWED, "NOT_ALLOWED - vhost no-such-vhost not found",
            10, 40)


@R.concurrent_test
def bad_frame_end_during_handshake_is_501(broker):
    with Witness(broker):
        c = tuned_ok(broker)
        c.send(mf(0, R.CONNECTION_OPEN, R.open_args(), end=0x00))
        c.expect_connection_close(R.FRAME_ERROR, "FRAME_ERROR - ", 0, 0)


harness.run()
