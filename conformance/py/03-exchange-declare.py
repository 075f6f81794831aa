"""exchange.declare and exchange.delete with pika: every type, passive,
equivalence, reserved names, built-in exchanges, deletion rules."""
import pika

import harness
from py_util import test, eq, channel_error, connection_error


def _no_exchange(t, x):
    return "NOT_FOUND - no exchange '%s' in vhost '%s'" % (x, t.vhost)


def _ineq(t, arg, x, received, current):
    return ("PRECONDITION_FAILED - inequivalent arg '%s' for exchange '%s' in "
            "vhost '%s': received %s but current is %s"
            % (arg, x, t.vhost, received, current))


@test
def declare_every_type(t):
    ch = t.channel()
    for xtype in ("direct", "fanout", "topic", "headers"):
        x = t.exchange(ch, xtype)
        ok = ch.exchange_declare(x, passive=True)
        assert ok.method.NAME == "Exchange.DeclareOk", ok
        # Redeclaring with identical arguments is not an error.
        ch.exchange_declare(x, xtype)


@test
def declare_durable_and_auto_delete(t):
    ch = t.channel()
    x1 = t.exchange(ch, "direct", durable=True)
    x2 = t.exchange(ch, "fanout", auto_delete=True)
    ch.exchange_declare(x1, "direct", durable=True)
    ch.exchange_declare(x2, "fanout", auto_delete=True)


@test
def declare_unknown_type_is_connection_error(t):
    ch = t.channel()
    x = t.name("x")
    with connection_error(503, "COMMAND_INVALID - unknown exchange type "
                          "'x-no-such-type'"):
        ch.exchange_declare(x, "x-no-such-type")


@test
def passive_missing_404(t):
    ch = t.channel()
    x = t.name("missing")
    with channel_error(404, _no_exchange(t, x)):
        ch.exchange_declare(x, passive=True)


@test
def passive_ignores_type(t):
    ch = t.channel()
    x = t.exchange(ch, "topic")
    ch.exchange_declare(x, "fanout", passive=True)
    ch.exchange_declare(x, "direct", durable=True, passive=True)


@test
def mismatch_type_406(t):
    ch = t.channel()
    x = t.exchange(ch, "direct")
    with channel_error(406, _ineq(t, "type", x, "'fanout'", "'direct'")):
        ch.exchange_declare(x, "fanout")


@test
def mismatch_durable_406(t):
    ch = t.channel()
    x = t.exchange(ch, "direct")
    with channel_error(406, _ineq(t, "durable", x, "'true'", "'false'")):
        ch.exchange_declare(x, "direct", durable=True)


@test
def mismatch_auto_delete_406(t):
    ch = t.channel()
    x = t.exchange(ch, "topic", auto_delete=True)
    with channel_error(406, _ineq(t, "auto_delete", x, "'false'", "'true'")):
        ch.exchange_declare(x, "topic")


@test
def mismatch_internal_406(t):
    ch = t.channel()
    x = t.exchange(ch, "fanout")
    with channel_error(406, _ineq(t, "internal", x, "'true'", "'false'")):
        ch.exchange_declare(x, "fanout", internal=True)


@test
def mismatch_alternate_exchange_406(t):
    ch = t.channel()
    x = t.exchange(ch, "direct", arguments={"alternate-exchange": "ae1"})
    with channel_error(406, _ineq(t, "alternate-exchange", x, "'ae2'",
                                  "'ae1'")):
        ch.exchange_declare(x, "direct",
                            arguments={"alternate-exchange": "ae2"})


@test
def mismatch_alternate_exchange_added_406(t):
    ch = t.channel()
    x = t.exchange(ch, "direct")
    with channel_error(406, _ineq(t, "alternate-exchange", x,
                                  "the value 'ae' of type 'longstr'",
                                  "none")):
        ch.exchange_declare(x, "direct",
                            arguments={"alternate-exchange": "ae"})


@test
def mismatch_alternate_exchange_removed_406(t):
    ch = t.channel()
    x = t.exchange(ch, "direct", arguments={"alternate-exchange": "ae"})
    with channel_error(406, _ineq(t, "alternate-exchange", x, "none",
                                  "the value 'ae' of type 'longstr'")):
        ch.exchange_declare(x, "direct")


@test
def other_arguments_not_compared(t):
    # Only arguments the broker knows are checked for equivalence.
    ch = t.channel()
    x = t.exchange(ch, "direct", arguments={"my-arg": "a"})
    ch.exchange_declare(x, "direct", arguments={"my-arg": "b"})
    ch.exchange_declare(x, "direct")


@test
def reserved_amq_prefix_403(t):
    ch = t.channel()
    x = "amq." + t.name("x")
    with channel_error(403, "ACCESS_REFUSED - exchange name '%s' contains "
                       "reserved prefix 'amq.*'" % x):
        ch.exchange_declare(x, "direct")


@test
def reserved_amq_foo_403(t):
    ch = t.channel()
    with channel_error(403, "ACCESS_REFUSED - exchange name 'amq.foo' "
                       "contains reserved prefix 'amq.*'"):
        ch.exchange_declare("amq.foo", "direct")


@test
def builtin_exchanges_exist(t):
    ch = t.channel()
    for x in ("amq.direct", "amq.fanout", "amq.topic", "amq.headers",
              "amq.match"):
        ch.exchange_declare(x, passive=True)


@test
def redeclare_builtins_equivalently(t):
    ch = t.channel()
    for x, xtype in (("amq.direct", "direct"), ("amq.fanout", "fanout"),
                     ("amq.topic", "topic"), ("amq.headers", "headers"),
                     ("amq.match", "headers")):
        ch.exchange_declare(x, xtype, durable=True)


@test
def redeclare_builtin_non_durable_406(t):
    ch = t.channel()
    with channel_error(406, _ineq(t, "durable", "amq.direct", "'false'",
                                  "'true'")):
        ch.exchange_declare("amq.direct", "direct")


@test
def redeclare_builtin_other_type_406(t):
    ch = t.channel()
    with channel_error(406, _ineq(t, "type", "amq.fanout", "'topic'",
                                  "'fanout'")):
        ch.exchange_declare("amq.fanout", "topic", durable=True)


@test
def declare_default_exchange_403(t):
    ch = t.channel()
    with channel_error(403, "ACCESS_REFUSED - operation not permitted on "
                       "the default exchange"):
        ch.exchange_declare("", "direct", durable=True)


@test
def passive_default_exchange_403(t):
    ch = t.channel()
    with channel_error(403, "ACCESS_REFUSED - operation not permitted on "
                       "the default exchange"):
        ch.exchange_declare("", passive=True)


@test
def amq_default_is_not_an_exchange(t):
    # "amq.default" is only a display name: RabbitMQ has no such exchange.
    ch = t.channel()
    with channel_error(404, _no_exchange(t, "amq.default")):
        ch.exchange_declare("amq.default", passive=True)


@test
def delete_then_passive_404(t):
    ch = t.channel()
    x = t.exchange(ch, "fanout")
    ok = ch.exchange_delete(x)
    eq(ok.method.NAME, "Exchange.DeleteOk")
    with channel_error(404, _no_exchange(t, x)):
        ch.exchange_declare(x, passive=True)


@test
def delete_missing_is_ok(t):
    # RabbitMQ 3.10 answers delete-ok for an exchange that does not exist.
    ch = t.channel()
    ok = ch.exchange_delete(t.name("missing"))
    eq(ok.method.NAME, "Exchange.DeleteOk")
    ok = ch.exchange_delete(t.name("missing"), if_unused=True)
    eq(ok.method.NAME, "Exchange.DeleteOk")


@test
def delete_if_unused_with_queue_binding_406(t):
    ch = t.channel()
    x = t.exchange(ch, "direct")
    q = t.queue(ch)
    ch.queue_bind(q, x, "k")
    with channel_error(406, "PRECONDITION_FAILED - exchange '%s' in vhost "
                       "'%s' in use" % (x, t.vhost)):
        ch.exchange_delete(x, if_unused=True)
    ch = t.channel()
    ch.exchange_declare(x, passive=True)


@test
def delete_if_unused_as_e2e_source_406(t):
    ch = t.channel()
    x = t.exchange(ch, "direct")
    y = t.exchange(ch, "fanout")
    ch.exchange_bind(y, x, "k")          # x -> y
    with channel_error(406, "PRECONDITION_FAILED - exchange '%s' in vhost "
                       "'%s' in use" % (x, t.vhost)):
        ch.exchange_delete(x, if_unused=True)


@test
def delete_if_unused_as_e2e_destination_ok(t):
    # "unused" counts only bindings where the exchange is the source.
    ch = t.channel()
    x = t.exchange(ch, "direct")
    y = t.exchange(ch, "fanout")
    ch.exchange_bind(y, x, "k")          # x -> y
    ch.exchange_delete(y, if_unused=True)
    with channel_error(404, _no_exchange(t, y)):
        ch.exchange_declare(y, passive=True)


@test
def delete_if_unused_after_unbind(t):
    ch = t.channel()
    x = t.exchange(ch, "direct")
    q = t.queue(ch)
    ch.queue_bind(q, x, "k")
    ch.queue_unbind(q, x, "k")
    ch.exchange_delete(x, if_unused=True)
    with channel_error(404):
        ch.exchange_declare(x, passive=True)


@test
def delete_removes_bindings(t):
    ch = t.channel()
    x = t.exchange(ch, "fanout")
    q = t.queue(ch)
    ch.queue_bind(q, x)
    ch.exchange_delete(x)
    ch.exchange_declare(x, "fanout")     # same name, no bindings
    ch.basic_publish(x, "", b"x")
    eq(ch.basic_get(q)[0], None, "message routed through an old binding")


@test
def delete_builtin_403(t):
    ch = t.channel()
    with channel_error(403, "ACCESS_REFUSED - deletion of system exchange "
                       "'amq.direct' in vhost '%s' not allowed" % t.vhost):
        ch.exchange_delete("amq.direct")


@test
def delete_default_exchange_403(t):
    ch = t.channel()
    with channel_error(403, "ACCESS_REFUSED - operation not permitted on "
                       "the default exchange"):
        ch.exchange_delete("")


@test
def exchange_name_characters(t):
    ch = t.channel()
    x = t.name("x") + ".a-b_c:d"
    t.exchange(ch, "topic", name=x)
    ch.exchange_declare(x, passive=True)


harness.run()
