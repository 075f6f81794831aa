"""amqp-tools (rabbitmq-c command line clients) against the broker:
amqp-declare-queue, amqp-publish, amqp-get, amqp-consume -c N,
amqp-delete-queue, all with --url."""
import subprocess

import pika
import pika.exceptions

import harness
from py_util import (test, eq, wait_ready, drain, read_lines, queue_exists,
                     consumer_count)

TOOL_TIMEOUT = 8


def _run(t, *args, stdin=None):
    p = subprocess.run(list(args), input=stdin, capture_output=True,
                       timeout=TOOL_TIMEOUT)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def _ok(t, *args, stdin=None):
    rc, out, err = _run(t, *args, stdin=stdin)
    assert rc == 0, "%s exited %d: %s" % (args[0], rc, err)
    return out


@test
def declare_queue(t):
    q = t.name("tq")
    t.forget_queue(q)
    eq(_ok(t, "amqp-declare-queue", "--url", t.url(), "-q", q),
       q.encode() + b"\n")
    ch = t.channel()
    ok = ch.queue_declare(q, passive=True)
    eq(ok.method.message_count, 0)
    ch.queue_declare(q)                 # non-durable, as the tool made it


@test
def declare_durable_queue(t):
    q = t.name("tq")
    t.forget_queue(q)
    _ok(t, "amqp-declare-queue", "--url", t.url(), "-q", q, "-d")
    t.channel().queue_declare(q, durable=True)


@test
def declare_queue_mismatch_fails(t):
    ch = t.channel()
    q = t.queue(ch, durable=True)
    rc, out, err = _run(t, "amqp-declare-queue", "--url", t.url(), "-q", q)
    assert rc != 0, "amqp-declare-queue accepted a mismatch"
    assert ("406, message: PRECONDITION_FAILED - inequivalent arg 'durable' "
            "for queue '%s'" % q) in err, err


@test
def publish_then_get(t):
    ch = t.channel()
    q = t.queue(ch)
    _ok(t, "amqp-publish", "--url", t.url(), "-r", q, "-b", "hello tools")
    wait_ready(ch, q, 1)
    eq(_ok(t, "amqp-get", "--url", t.url(), "-q", q), b"hello tools")
    rc, out, err = _run(t, "amqp-get", "--url", t.url(), "-q", q)
    eq((rc, out), (2, b""), "amqp-get on an empty queue")


@test
def publish_properties_seen_by_pika(t):
    ch = t.channel()
    q = t.queue(ch)
    _ok(t, "amqp-publish", "--url", t.url(), "-r", q, "-b", "{}",
        "-C", "application/json", "-E", "identity", "-t", "replies",
        "-p", "-H", "x-trace: abc", "-H", "who: tools")
    wait_ready(ch, q, 1)
    m, p, body = ch.basic_get(q, auto_ack=True)
    eq(body, b"{}")
    eq((p.content_type, p.content_encoding, p.reply_to, p.delivery_mode),
       ("application/json", "identity", "replies", 2))
    eq(p.headers, {"x-trace": "abc", "who": "tools"})


@test
def publish_through_exchange(t):
    ch = t.channel()
    x = t.exchange(ch, "topic")
    q = t.queue(ch)
    ch.queue_bind(q, x, "logs.*")
    _ok(t, "amqp-publish", "--url", t.url(), "-e", x, "-r", "logs.app",
        "-b", "routed")
    _ok(t, "amqp-publish", "--url", t.url(), "-e", x, "-r", "other",
        "-b", "dropped")
    wait_ready(ch, q, 1)
    eq(drain(ch, q), [b"routed"])


@test
def publish_line_buffered(t):
    ch = t.channel()
    q = t.queue(ch)
    _ok(t, "amqp-publish", "--url", t.url(), "-r", q, "-l",
        stdin=b"one\ntwo\nthree\n")
    wait_ready(ch, q, 3)
    eq([b.rstrip(b"\n") for b in drain(ch, q)], [b"one", b"two", b"three"])


@test
def publish_missing_exchange_fails(t):
    x = t.name("missing")
    rc, out, err = _run(t, "amqp-publish", "--url", t.url(), "-e", x,
                        "-r", "k", "-b", "x")
    assert rc != 0, "publish to a missing exchange reported success"
    assert ("404, message: NOT_FOUND - no exchange '%s' in vhost '%s'"
            % (x, t.vhost)) in err, err


@test
def get_missing_queue_fails(t):
    q = t.name("missing")
    rc, out, err = _run(t, "amqp-get", "--url", t.url(), "-q", q)
    assert rc != 0
    assert ("404, message: NOT_FOUND - no queue '%s' in vhost '%s'"
            % (q, t.vhost)) in err, err


@test
def bad_password_fails(t):
    b = t.broker
    url = t.url().replace(":%s@" % b.password, ":%s@" % (b.password + "x"))
    rc, out, err = _run(t, "amqp-publish", "--url", url, "-r", "x", "-b", "y")
    assert rc != 0
    assert ("403, message: ACCESS_REFUSED - Login was refused using "
            "authentication mechanism PLAIN") in err, err


@test
def consume_count(t):
    ch = t.channel()
    q = t.queue(ch)
    for i in range(5):
        ch.basic_publish("", q, b"m%d" % i)
    wait_ready(ch, q, 5)
    out = _ok(t, "amqp-consume", "--url", t.url(), "-q", q, "-c", "3",
              "--", "sh", "-c", "cat; echo")
    eq(out.split(), [b"m0", b"m1", b"m2"])
    wait_ready(ch, q, 2)            # -c 3 acked exactly three
    eq(drain(ch, q), [b"m3", b"m4"])


@test
def consume_count_no_ack_prefetch(t):
    ch = t.channel()
    q = t.queue(ch)
    for i in range(4):
        ch.basic_publish("", q, b"n%d" % i)
    out = _ok(t, "amqp-consume", "--url", t.url(), "-q", q, "-c", "4",
              "-A", "--", "sh", "-c", "cat; echo")
    eq(out.split(), [b"n0", b"n1", b"n2", b"n3"])
    wait_ready(ch, q, 0)


@test
def consume_waits_for_messages(t):
    # amqp-consume started on an empty queue gets what is published later.
    ch = t.channel()
    q = t.queue(ch)
    p = t.spawn(["amqp-consume", "--url", t.url(), "-q", q, "-c", "2",
                 "-p", "1", "--", "sh", "-c", "cat; echo"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert harness.wait_for(lambda: consumer_count(ch, q) == 1, 5), \
        "amqp-consume did not start consuming"
    ch.basic_publish("", q, b"late1")
    ch.basic_publish("", q, b"late2")
    eq(read_lines(p, 2), ["late1", "late2"])
    eq(p.wait(TOOL_TIMEOUT), 0)


@test
def consume_from_exchange_binding(t):
    ch = t.channel()
    x = t.exchange(ch, "fanout")
    # amqp-tools 0.11 crashes on -e without -r, so give a key (fanout
    # ignores it).
    p = t.spawn(["amqp-consume", "--url", t.url(), "-e", x, "-r", "any",
                 "-c", "1", "--", "sh", "-c", "cat; echo"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # The tool declares a server-named queue and binds it: publish with
    # confirms and mandatory until the message is no longer returned.
    pch = t.channel()
    pch.confirm_delivery()
    assert harness.wait_for(lambda: _routed(pch, x), 5), \
        "amqp-consume never bound a queue to %s" % x
    eq(read_lines(p, 1), ["fanned"])
    eq(p.wait(TOOL_TIMEOUT), 0)


def _routed(ch, x):
    try:
        ch.basic_publish(x, "", b"fanned", mandatory=True)
        return True
    except pika.exceptions.UnroutableError:
        return False


@test
def delete_queue(t):
    ch = t.channel()
    q = t.queue(ch)
    for i in range(3):
        ch.basic_publish("", q, b"x")
    wait_ready(ch, q, 3)
    out = _ok(t, "amqp-delete-queue", "--url", t.url(), "-q", q)
    eq(out, b"3\n")                 # the tool prints delete-ok's count
    assert not queue_exists(t.conn(), q)


harness.run()
