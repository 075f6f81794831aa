"""Queue argument validation with pika: x-queue-type, and wrong types or
ranges of the other x- arguments, each with RabbitMQ 3.10's 406 text;
unknown x- arguments are accepted and never compared.  (x-max-length as a
string and a negative x-message-ttl are in 04-queue-declare.py; the TTL,
expiry, length, priority, single-active-consumer and delivery-limit files
check their own arguments too.)

x-queue-type: "classic" is accepted and equivalent to no type.  RabbitMQ
refuses quorum and stream queues that are not durable, or are exclusive or
auto-delete, with "invalid property ..." before anything else; a durable
one it creates.  Warren has only classic queues: it answers those
property errors as RabbitMQ does, then refuses a durable quorum or stream
declare with the text RabbitMQ gives for an unknown type (is_warren
branches)."""
import decimal

import harness
from py_util import test, eq, channel_error
from ext_util import arg_error, expected_integer


def _bad(t, args, key, why, **kw):
    ch = t.channel()
    q = t.name("q")
    t.forget_queue(q)
    with channel_error(406, arg_error(t, key, q, why)):
        ch.queue_declare(q, arguments=args, **kw)


def _bad_text(t, args, text, **kw):
    """text(queue) is the expected reply text; a string is a format for
    (queue, vhost)."""
    ch = t.channel()
    q = t.name("q")
    t.forget_queue(q)
    want = text(q) if callable(text) else text % (q, t.vhost)
    with channel_error(406, want):
        ch.queue_declare(q, arguments=args, **kw)


def _unsupported_type(t, qtype):
    """RabbitMQ's text for an unknown x-queue-type, as a function of the
    queue name."""
    return lambda q: arg_error(t, "x-queue-type", q,
                               "\"unsupported queue type '%s'\"" % qtype)


# x-queue-type -----------------------------------------------------------

@test
def queue_type_classic_accepted(t):
    ch = t.channel()
    q = t.queue(ch, arguments={"x-queue-type": "classic"})
    ch.basic_publish("", q, b"m")
    eq(ch.basic_get(q, auto_ack=True)[2], b"m")


@test
def queue_type_classic_equivalent_to_none(t):
    ch = t.channel()
    q1 = t.queue(ch)
    ch.queue_declare(q1, arguments={"x-queue-type": "classic"})
    q2 = t.queue(ch, arguments={"x-queue-type": "classic"})
    ch.queue_declare(q2)
    ch.queue_declare(q2, passive=True)


@test
def queue_type_quorum_non_durable_406(t):
    _bad_text(t, {"x-queue-type": "quorum"}, "PRECONDITION_FAILED - invalid "
              "property 'non-durable' for queue '%s' in vhost '%s'")


@test
def queue_type_stream_non_durable_406(t):
    _bad_text(t, {"x-queue-type": "stream"}, "PRECONDITION_FAILED - invalid "
              "property 'non-durable' for queue '%s' in vhost '%s'")


@test
def queue_type_quorum_exclusive_406(t):
    _bad_text(t, {"x-queue-type": "quorum"}, "PRECONDITION_FAILED - invalid "
              "property 'exclusive-owner' for queue '%s' in vhost '%s'",
              durable=True, exclusive=True)


@test
def queue_type_quorum_auto_delete_406(t):
    _bad_text(t, {"x-queue-type": "quorum"}, "PRECONDITION_FAILED - invalid "
              "property 'auto-delete' for queue '%s' in vhost '%s'",
              durable=True, auto_delete=True)


def _durable_typed(t, qtype):
    ch = t.channel()
    if t.broker.is_warren:
        # Warren has no quorum or stream queues: a clear 406 rather than a
        # classic queue that would silently behave differently.
        _bad_text(t, {"x-queue-type": qtype}, _unsupported_type(t, qtype),
                  durable=True)
        return
    q = t.queue(ch, durable=True, arguments={"x-queue-type": qtype})
    ok = ch.queue_declare(q, passive=True)
    eq(ok.method.queue, q)


@test
def queue_type_quorum_durable(t):
    _durable_typed(t, "quorum")


@test
def queue_type_stream_durable(t):
    _durable_typed(t, "stream")


@test
def queue_type_unknown_406(t):
    _bad_text(t, {"x-queue-type": "bogus"}, _unsupported_type(t, "bogus"))


@test
def queue_type_case_sensitive_406(t):
    _bad_text(t, {"x-queue-type": "Classic"}, _unsupported_type(t, "Classic"))


@test
def queue_type_wrong_type_406(t):
    _bad(t, {"x-queue-type": 1}, "x-queue-type",
         "{unacceptable_type,signedint}")


@test
def queue_type_redeclare_other_type_406(t):
    ch = t.channel()
    q = t.queue(ch, arguments={"x-queue-type": "classic"})
    if t.broker.is_warren:
        want = _unsupported_type(t, "quorum")(q)
    else:
        # A classic queue exists: RabbitMQ compares durability first.
        want = ("PRECONDITION_FAILED - inequivalent arg 'durable' for queue "
                "'%s' in vhost '%s': received 'true' but current is 'false'"
                % (q, t.vhost))
    with channel_error(406, want):
        ch.queue_declare(q, durable=True,
                         arguments={"x-queue-type": "quorum"})


# Unknown arguments ------------------------------------------------------

@test
def unknown_x_arguments_ignored(t):
    ch = t.channel()
    q = t.queue(ch, arguments={"x-unknown": "whatever", "x-other": 1,
                               "plain": {"a": 1}})
    ch.queue_declare(q, arguments={"x-unknown": "different"})
    ch.queue_declare(q)
    ch.basic_publish("", q, b"m")
    eq(ch.basic_get(q, auto_ack=True)[2], b"m")


@test
def argument_names_case_sensitive(t):
    # "X-Max-Length" is not x-max-length: ignored, no limit applies.
    ch = t.channel()
    q = t.queue(ch, arguments={"X-Max-Length": 1, "X-Message-TTL": "bad"})
    for i in range(3):
        ch.basic_publish("", q, b"%d" % i)
    got = [ch.basic_get(q, auto_ack=True)[2] for _ in range(3)]
    eq(got, [b"0", b"1", b"2"])


# Types and ranges -------------------------------------------------------

@test
def message_ttl_decimal_406(t):
    _bad(t, {"x-message-ttl": decimal.Decimal("100")}, "x-message-ttl",
         expected_integer("decimal"))


@test
def expires_decimal_406(t):
    _bad(t, {"x-expires": decimal.Decimal("1000")}, "x-expires",
         expected_integer("decimal"))


@test
def max_length_table_406(t):
    _bad(t, {"x-max-length": {"n": 1}}, "x-max-length",
         expected_integer("table"))


@test
def max_length_array_406(t):
    _bad(t, {"x-max-length": [1]}, "x-max-length", expected_integer("array"))


@test
def dead_letter_exchange_wrong_type_406(t):
    # A different layout from the other argument errors.
    _bad_text(t, {"x-dead-letter-exchange": 1}, "PRECONDITION_FAILED - "
              "invalid type 'signedint' for arg 'x-dead-letter-exchange' in "
              "queue '%s' in vhost '%s'")


@test
def dead_letter_exchange_need_not_exist(t):
    ch = t.channel()
    t.queue(ch, arguments={"x-dead-letter-exchange": t.name("absent")})
    t.queue(ch, arguments={"x-dead-letter-exchange": ""})


@test
def dead_letter_routing_key_without_exchange_406(t):
    _bad(t, {"x-dead-letter-routing-key": "k"}, "x-dead-letter-routing-key",
         "routing_key_but_no_dlx_defined")


@test
def dead_letter_routing_key_wrong_type_406(t):
    _bad(t, {"x-dead-letter-exchange": "x", "x-dead-letter-routing-key": 1},
         "x-dead-letter-routing-key", "{unacceptable_type,signedint}")


@test
def queue_mode_unknown_406(t):
    _bad(t, {"x-queue-mode": "bogus"}, "x-queue-mode",
         "\"unsupported queue mode 'bogus'\"")


@test
def queue_mode_lazy_and_default_accepted(t):
    ch = t.channel()
    t.queue(ch, arguments={"x-queue-mode": "lazy"})
    t.queue(ch, arguments={"x-queue-mode": "default"})


@test
def queue_version_unknown_406(t):
    _bad(t, {"x-queue-version": 3}, "x-queue-version",
         "\"unsupported queue version '3'\"")


@test
def queue_version_1_and_2_accepted(t):
    ch = t.channel()
    t.queue(ch, arguments={"x-queue-version": 1})
    t.queue(ch, arguments={"x-queue-version": 2})


@test
def stream_only_argument_on_classic_406(t):
    _bad_text(t, {"x-max-age": "1D"}, "PRECONDITION_FAILED - invalid arg "
              "'x-max-age' for queue '%s' in vhost '%s' of queue type "
              "rabbit_classic_queue")


@test
def quorum_only_argument_on_classic_406(t):
    _bad_text(t, {"x-quorum-initial-group-size": 3}, "PRECONDITION_FAILED - "
              "invalid arg 'x-quorum-initial-group-size' for queue '%s' in "
              "vhost '%s' of queue type rabbit_classic_queue")


@test
def failed_declare_creates_nothing(t):
    ch = t.channel()
    q = t.name("q")
    t.forget_queue(q)
    with channel_error(406):
        ch.queue_declare(q, arguments={"x-expires": 0})
    ch = t.channel()
    with channel_error(404, "NOT_FOUND - no queue '%s' in vhost '%s'"
                       % (q, t.vhost)):
        ch.queue_declare(q, passive=True)


harness.run()
