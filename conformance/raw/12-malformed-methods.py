"""Raw malformed-method conformance: unknown classes and methods, methods on
the wrong channel or in the wrong state, undecodable arguments (truncated,
trailing octets, bad tables, strings), and invalid values a client can send.

Every case opens a well-behaved connection first (rawamqp.Witness) that must
still declare, publish and get after the bad connection is dealt with.
Expected replies are RabbitMQ 3.10's, found by sending it these bytes.
"""
import harness
import rawamqp as R
from rawamqp import Witness, bad_conn, method_frame as mf
from rawamqp import short, shortstr, longstr, long_, bits, table, Typed

RUNNING = "CHANNEL_ERROR - unexpected method in connection state running"
UNIMPLEMENTED = "COMMAND_INVALID - unimplemented method"


def dropped_by_rabbitmq(broker, c, code, text, class_id, method_id):
    """Input on which RabbitMQ 3.10's connection process crashes.

    RabbitMQ then drops the socket without a connection.close (its log shows
    {unknown_method_id,...} or a decoder crash), which leaves the client
    guessing.  Warren deliberately differs: it sends connection.close with
    the given code, naming the offending method, and closes after close-ok.
    """
    if broker.is_warren:
        c.expect_connection_close(code, text, class_id, method_id)
    else:
        c.expect_closed()


def reopen_and_roundtrip(c, channel=1):
    """After channel.close / close-ok the channel number is free again."""
    c.open_channel(channel)
    c.roundtrip(channel)
    c.close()


def delivered_tag(c, q, no_ack):
    """Publish one message to q and basic.get it; return its tag."""
    c.publish(1, b"m", routing_key=q)
    got = harness.wait_for(lambda: c.get(1, q, no_ack=no_ack), timeout=5)
    if got is None:
        raise AssertionError("message never reached %s" % q)
    return got[0].args["delivery_tag"]


def exchange_declare_with_table(table_octets, name="rawx-never-made"):
    return (short(0) + shortstr(name) + shortstr("direct") +
            bits(False, False, True, False, False) + table_octets)


def queue_declare_with_table(table_octets):
    return (short(0) + shortstr("") + bits(False, False, True, False, False) +
            table_octets)


# -- unknown classes and methods --------------------------------------------

@harness.test
def unknown_class_is_dropped_or_503(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(mf(1, (99, 10)))
        dropped_by_rabbitmq(broker, c, R.COMMAND_INVALID,
                            "COMMAND_INVALID - ", 99, 10)


@harness.test
def unknown_method_in_queue_class_is_dropped_or_503(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(mf(1, (50, 99)))
        dropped_by_rabbitmq(broker, c, R.COMMAND_INVALID,
                            "COMMAND_INVALID - ", 50, 99)


@harness.test
def unknown_connection_method_on_channel_0_is_dropped_or_503(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(mf(0, (10, 99)))
        dropped_by_rabbitmq(broker, c, R.COMMAND_INVALID,
                            "COMMAND_INVALID - ", 10, 99)


# -- channels ---------------------------------------------------------------

@harness.test
def method_on_channel_not_open_is_504(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(mf(2, R.QUEUE_DECLARE, R.queue_declare_args("x")))
        c.expect_connection_close(
            R.CHANNEL_ERROR, "CHANNEL_ERROR - expected 'channel.open'",
            50, 10)


@harness.test
def channel_open_twice_is_504(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(mf(1, R.CHANNEL_OPEN, R.channel_open_args()))
        c.expect_connection_close(
            R.CHANNEL_ERROR, "CHANNEL_ERROR - second 'channel.open' seen",
            20, 10)


@harness.test
def channel_number_above_channel_max_is_accepted(broker):
    """RabbitMQ limits how many channels are open at once to channel-max,
    not the channel numbers: with channel-max 3, channel 4 (and 65535) open
    and work.  (0-9-1 calls channel-max the highest usable number; Warren
    follows RabbitMQ, being as lenient as the broker clients were tested
    with.)"""
    with Witness(broker):
        c = bad_conn(broker, channel=None, channel_max=3)
        c.open_channel(4)
        c.open_channel(65535)
        c.roundtrip(4)
        c.roundtrip(65535)
        c.close()


@harness.test
def more_open_channels_than_channel_max_is_530(broker):
    with Witness(broker):
        c = bad_conn(broker, channel=None, channel_max=3)
        for ch in (1, 2, 3):
            c.open_channel(ch)
        c.send(mf(5, R.CHANNEL_OPEN, R.channel_open_args()))
        c.expect_connection_close(
            R.NOT_ALLOWED,
            "NOT_ALLOWED - number of channels opened (3) has reached the "
            "negotiated channel_max (3)", 0, 0)


@harness.test
def channel_open_on_channel_0_is_504(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(mf(0, R.CHANNEL_OPEN, R.channel_open_args()))
        c.expect_connection_close(R.CHANNEL_ERROR, RUNNING, 20, 10)


@harness.test
def queue_declare_on_channel_0_is_504(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(mf(0, R.QUEUE_DECLARE,
                  R.queue_declare_args("", exclusive=True)))
        c.expect_connection_close(R.CHANNEL_ERROR, RUNNING, 50, 10)


@harness.test
def basic_publish_on_channel_0_is_504(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(mf(0, R.BASIC_PUBLISH, R.basic_publish_args("", "x")))
        c.expect_connection_close(R.CHANNEL_ERROR, RUNNING, 60, 40)


# -- connection methods in the wrong state ---------------------------------

@harness.test
def start_ok_on_open_connection_is_504(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send_start_ok()
        c.expect_connection_close(R.CHANNEL_ERROR, RUNNING, 10, 11)


@harness.test
def tune_ok_on_open_connection_is_504(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(mf(0, R.CONNECTION_TUNE_OK, R.tune_ok_args(2047, 131072, 0)))
        c.expect_connection_close(R.CHANNEL_ERROR, RUNNING, 10, 31)


@harness.test
def connection_open_twice_is_504(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send_open()
        c.expect_connection_close(R.CHANNEL_ERROR, RUNNING, 10, 40)


@harness.test
def connection_close_ok_without_close_is_504(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(mf(0, R.CONNECTION_CLOSE_OK))
        c.expect_connection_close(R.CHANNEL_ERROR, RUNNING, 10, 51)


@harness.test
def channel_close_ok_without_close_is_503(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(mf(1, R.CHANNEL_CLOSE_OK))
        c.expect_connection_close(R.COMMAND_INVALID, UNIMPLEMENTED, 20, 41)


@harness.test
def channel_open_ok_from_client_is_503(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(mf(1, R.CHANNEL_OPEN_OK, longstr("")))
        c.expect_connection_close(R.COMMAND_INVALID, UNIMPLEMENTED, 20, 11)


# -- undecodable arguments --------------------------------------------------

@harness.test
def truncated_arguments_are_501(broker):
    with Witness(broker):
        c = bad_conn(broker)
        args = R.queue_declare_args("", exclusive=True)
        c.send(mf(1, R.QUEUE_DECLARE, args[:5]))
        c.expect_connection_close(R.FRAME_ERROR,
                                  "FRAME_ERROR - cannot decode", 50, 10)


@harness.test
def basic_ack_with_half_a_delivery_tag_is_501(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(mf(1, R.BASIC_ACK, b"\x00\x00\x00\x01"))
        c.expect_connection_close(R.FRAME_ERROR,
                                  "FRAME_ERROR - cannot decode", 60, 80)


@harness.test
def trailing_octets_after_arguments_are_501(broker):
    with Witness(broker):
        c = bad_conn(broker)
        args = R.queue_declare_args("", exclusive=True) + b"junk"
        c.send(mf(1, R.QUEUE_DECLARE, args))
        c.expect_connection_close(R.FRAME_ERROR,
                                  "FRAME_ERROR - cannot decode", 50, 10)


@harness.test
def truncated_field_table_is_501(broker):
    """The table says 100 octets; 10 follow and the frame ends."""
    with Witness(broker):
        c = bad_conn(broker)
        t = long_(100) + shortstr("k") + R.field_value(1)
        c.send(mf(1, R.EXCHANGE_DECLARE, exchange_declare_with_table(t)))
        c.expect_connection_close(R.FRAME_ERROR,
                                  "FRAME_ERROR - cannot decode", 40, 10)


@harness.test
def field_table_length_larger_than_frame_is_501(broker):
    with Witness(broker):
        c = bad_conn(broker)
        t = long_(0x7FFFFFFF)
        c.send(mf(1, R.EXCHANGE_DECLARE, exchange_declare_with_table(t)))
        c.expect_connection_close(R.FRAME_ERROR,
                                  "FRAME_ERROR - cannot decode", 40, 10)


@harness.test
def field_value_cut_short_is_501(broker):
    """The table holds a signed 32-bit value ('I') with two octets."""
    with Witness(broker):
        c = bad_conn(broker)
        t = long_(6) + shortstr("k") + b"I\x00\x00"
        c.send(mf(1, R.EXCHANGE_DECLARE, exchange_declare_with_table(t)))
        c.expect_connection_close(R.FRAME_ERROR,
                                  "FRAME_ERROR - cannot decode", 40, 10)


@harness.test
def bad_field_type_octet_is_dropped_or_501(broker):
    with Witness(broker):
        c = bad_conn(broker)
        t = table([("k", Typed("Z", b"abc"))])
        c.send(mf(1, R.EXCHANGE_DECLARE, exchange_declare_with_table(t)))
        dropped_by_rabbitmq(broker, c, R.FRAME_ERROR, "FRAME_ERROR - ",
                            40, 10)


@harness.test
def array_length_past_end_is_dropped_or_501(broker):
    with Witness(broker):
        c = bad_conn(broker)
        # x-args = {"k": array said to hold 1000 octets, holding none}
        t = long_(7) + shortstr("k") + b"A" + long_(1000)
        c.send(mf(1, R.QUEUE_DECLARE, queue_declare_with_table(t)))
        dropped_by_rabbitmq(broker, c, R.FRAME_ERROR, "FRAME_ERROR - ",
                            50, 10)


@harness.test
def longstr_length_past_end_in_table_is_501(broker):
    with Witness(broker):
        c = bad_conn(broker)
        t = long_(8) + shortstr("k") + b"S" + long_(1000) + b"ab"
        c.send(mf(1, R.QUEUE_DECLARE, queue_declare_with_table(t)))
        c.expect_connection_close(R.FRAME_ERROR,
                                  "FRAME_ERROR - cannot decode", 50, 10)


@harness.test
def shortstr_length_past_end_is_501(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(mf(1, R.QUEUE_DECLARE, short(0) + shortstr("abc", length=200)))
        c.expect_connection_close(R.FRAME_ERROR,
                                  "FRAME_ERROR - cannot decode", 50, 10)


@harness.test
def oversize_shortstr_in_exchange_declare_is_501(broker):
    """A 300-octet exchange name cannot be encoded: the length octet says
    255 and the rest of the name spills into the following fields."""
    with Witness(broker):
        c = bad_conn(broker)
        args = (short(0) + b"\xff" + b"a" * 300 + shortstr("direct") +
                bits(False) + table({}))
        c.send(mf(1, R.EXCHANGE_DECLARE, args))
        c.expect_connection_close(R.FRAME_ERROR,
                                  "FRAME_ERROR - cannot decode", 40, 10)


@harness.test
def invalid_utf8_in_shortstr_is_501(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(mf(1, R.QUEUE_DECLARE, short(0) + shortstr(b"\xff\xfe") +
                  bits(False, False, True) + table({})))
        c.expect_connection_close(
            R.FRAME_ERROR, "FRAME_ERROR - Malformed UTF-8 in shortstr", 0, 0)


# -- invalid values -----------------------------------------------------------

@harness.test
def exchange_declare_unknown_type_is_503(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(mf(1, R.EXCHANGE_DECLARE,
                  R.exchange_declare_args(harness.unique("rawx"), "foo")))
        # RabbitMQ says "invalid" for a type name that happens to be an
        # existing Erlang atom (like foo) and "unknown" for other names;
        # Warren always says "unknown".
        word = "unknown" if broker.is_warren else "invalid"
        c.expect_connection_close(
            R.COMMAND_INVALID,
            "COMMAND_INVALID - %s exchange type 'foo'" % word, 40, 10)


@harness.test
def basic_ack_unknown_tag_is_406(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(mf(1, R.BASIC_ACK, R.basic_ack_args(5)))
        c.expect_channel_close(
            1, R.PRECONDITION_FAILED,
            "PRECONDITION_FAILED - unknown delivery tag 5", 60, 80)
        reopen_and_roundtrip(c)


@harness.test
def basic_ack_after_get_no_ack_is_406(broker):
    with Witness(broker):
        c = bad_conn(broker)
        q = c.declare_queue(1, exclusive=True)
        tag = delivered_tag(c, q, no_ack=True)
        c.send(mf(1, R.BASIC_ACK, R.basic_ack_args(tag)))
        c.expect_channel_close(
            1, R.PRECONDITION_FAILED,
            "PRECONDITION_FAILED - unknown delivery tag %d" % tag, 60, 80)
        reopen_and_roundtrip(c)


@harness.test
def basic_ack_after_consume_no_ack_is_406(broker):
    with Witness(broker):
        c = bad_conn(broker)
        q = c.declare_queue(1, exclusive=True)
        c.send(mf(1, R.BASIC_CONSUME, R.basic_consume_args(q, no_ack=True)))
        c.expect_method(R.BASIC_CONSUME_OK, 1)
        c.publish(1, b"m", routing_key=q)
        d = c.expect_method(R.BASIC_DELIVER, 1)
        c.read_content(1)
        tag = d.args["delivery_tag"]
        c.send(mf(1, R.BASIC_ACK, R.basic_ack_args(tag)))
        c.expect_channel_close(
            1, R.PRECONDITION_FAILED,
            "PRECONDITION_FAILED - unknown delivery tag %d" % tag, 60, 80)
        reopen_and_roundtrip(c)


@harness.test
def basic_ack_twice_is_406(broker):
    with Witness(broker):
        c = bad_conn(broker)
        q = c.declare_queue(1, exclusive=True)
        tag = delivered_tag(c, q, no_ack=False)
        c.send(mf(1, R.BASIC_ACK, R.basic_ack_args(tag)) * 2)
        c.expect_channel_close(
            1, R.PRECONDITION_FAILED,
            "PRECONDITION_FAILED - unknown delivery tag %d" % tag, 60, 80)
        reopen_and_roundtrip(c)


@harness.test
def basic_reject_unknown_tag_is_406(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(mf(1, R.BASIC_REJECT, R.basic_reject_args(7)))
        c.expect_channel_close(
            1, R.PRECONDITION_FAILED,
            "PRECONDITION_FAILED - unknown delivery tag 7", 60, 90)
        reopen_and_roundtrip(c)


@harness.test
def basic_nack_unknown_tag_is_406(broker):
    with Witness(broker):
        c = bad_conn(broker)
        c.send(mf(1, R.BASIC_NACK, R.basic_nack_args(7)))
        c.expect_channel_close(
            1, R.PRECONDITION_FAILED,
            "PRECONDITION_FAILED - unknown delivery tag 7", 60, 120)
        reopen_and_roundtrip(c)


harness.run()
