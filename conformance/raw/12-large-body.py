"""Raw large-body conformance: body frames of many KiB that reach the broker
in pieces, cut anywhere (inside the frame header, inside the payload, just
before the frame-end octet), alone or together with the frames that follow.

Warren reads the payload of a large body frame straight into its message;
these cases check that every octet lands where it belongs and that the
errors and discards of the ordinary path still apply: a wrong frame-end
octet, a frame overrunning the declared body size, a body on a channel that
is closing, and a client that goes away in the middle of a frame.  Every
case keeps a well-behaved connection (rawamqp.Witness) going alongside.
Expected replies are RabbitMQ 3.10's, as in 12-malformed-content.py.
"""
import hashlib
import os
import time

import harness
import rawamqp as R
from rawamqp import Witness, bad_conn, method_frame as mf

PAUSE = 0.02  # long enough for the broker to read each piece on its own


def body_of(n, seed):
    """n octets that differ from one position to the next."""
    out = bytearray()
    block = 0
    while len(out) < n:
        out += hashlib.sha256(b"%s-%d" % (seed, block)).digest()
        block += 1
    return bytes(out[:n])


def send_in_pieces(c, data, cuts):
    """Send data cut at the given offsets, pausing between pieces."""
    last = 0
    for cut in sorted(set(cuts)) + [len(data)]:
        if cut > last:
            c.send(data[last:cut])
            time.sleep(PAUSE)
            last = cut


def publish(channel=1, exchange="", routing_key="nowhere"):
    return mf(channel, R.BASIC_PUBLISH,
              R.basic_publish_args(exchange, routing_key))


def expect_body(c, q, body):
    got = c.get(1, q)
    if got is None:
        raise AssertionError("queue %s is empty" % q)
    if got[2] != body:
        raise AssertionError("body of %d octets differs from the %d sent "
                             "(first difference at %d)" %
                             (len(got[2]), len(body),
                              next((i for i, (a, b) in
                                    enumerate(zip(got[2], body)) if a != b),
                                   min(len(got[2]), len(body)))))


@harness.test
def large_frames_cut_everywhere_arrive_whole(broker):
    with Witness(broker):
        c = bad_conn(broker)
        q = c.declare_queue(1, "", exclusive=True)
        body = body_of(300000, b"cut")
        frames = R.publish_frames(1, body, "", q, frame_max=c.frame_max)
        # publish + header, then body frames: cut in the first frame
        # header, in payloads, just before and after each end octet.
        start = len(R.publish_frames(1, b"", "", q))  # same header size
        cuts = [start + 3, start + 7, start + 5000, start + 70001]
        pos = start
        for i in range(0, len(body), c.frame_max - 8):
            n = min(c.frame_max - 8, len(body) - i)
            pos += 7 + n + 1
            cuts += [pos - 1, pos, pos + 1, pos + 4]
        send_in_pieces(c, frames, [x for x in cuts if x < len(frames)])
        expect_body(c, q, body)
        c.close()


@harness.test
def large_frame_read_one_octet_at_a_time_at_its_end(broker):
    with Witness(broker):
        c = bad_conn(broker)
        q = c.declare_queue(1, "", exclusive=True)
        body = body_of(20000, b"tail")
        frames = R.publish_frames(1, body, "", q, frame_max=c.frame_max)
        n = len(frames)
        send_in_pieces(c, frames, [n - 200] + list(range(n - 8, n)))
        expect_body(c, q, body)
        c.close()


@harness.test
def large_frame_rest_arrives_with_the_next_publishes(broker):
    with Witness(broker):
        c = bad_conn(broker)
        q = c.declare_queue(1, "", exclusive=True)
        bodies = [body_of(50000, b"a"), b"small", body_of(9000, b"b"),
                  body_of(4096, b"c"), body_of(4095, b"d")]
        data = b"".join(R.publish_frames(1, b, "", q, frame_max=c.frame_max)
                        for b in bodies)
        send_in_pieces(c, data, [60, 30000])
        for b in bodies:
            expect_body(c, q, b)
        c.close()


@harness.test
def many_large_messages_in_one_stream_keep_order(broker):
    with Witness(broker):
        c = bad_conn(broker)
        q = c.declare_queue(1, "", exclusive=True)
        bodies = [body_of(16384 + 4099 * i, b"m%d" % i) for i in range(24)]
        data = b"".join(R.publish_frames(1, b, "", q, frame_max=c.frame_max)
                        for b in bodies)
        c.send(data)
        for b in bodies:
            expect_body(c, q, b)
        c.close()


@harness.test
def bad_frame_end_after_large_body_is_501(broker):
    with Witness(broker):
        c = bad_conn(broker)
        body = body_of(40000, b"end")
        data = (publish() + R.header_frame(1, len(body)) +
                R.frame(R.FRAME_BODY, 1, body, end=ord("x")))
        send_in_pieces(c, data, [len(data) - 20000, len(data) - 1])
        c.expect_connection_close(R.FRAME_ERROR, "FRAME_ERROR - ", 0, 0)


@harness.test
def large_body_frame_overrunning_declared_size_is_505(broker):
    with Witness(broker):
        c = bad_conn(broker)
        body = body_of(40000, b"over")
        data = (publish() + R.header_frame(1, len(body) - 1) +
                R.body_frame(1, body))
        send_in_pieces(c, data, [len(data) - 30000])
        if broker.is_warren:
            # As in 12-malformed-content.py: RabbitMQ 3.10 swallows the
            # surplus and wedges the channel; Warren reports it at once.
            c.expect_connection_close(R.UNEXPECTED_FRAME,
                                      "UNEXPECTED_FRAME - ", 60, 40)
        else:
            c.send(publish())
            c.expect_connection_close(
                R.UNEXPECTED_FRAME, "UNEXPECTED_FRAME - expected content "
                "body, got non content body frame instead", 60, 40)


@harness.test
def large_body_on_a_closing_channel_is_discarded(broker):
    with Witness(broker):
        c = bad_conn(broker)
        x = harness.unique("rawx-missing")
        body = body_of(60000, b"closing")
        data = (publish(exchange=x, routing_key="k") +
                R.header_frame(1, len(body)) + R.body_frame(1, body))
        send_in_pieces(c, data, [len(data) - 50000, len(data) - 10000])
        c.expect_channel_close(
            1, R.NOT_FOUND,
            "NOT_FOUND - no exchange '%s' in vhost '%s'" % (x, broker.vhost),
            60, 40)
        c.open_channel(1)
        c.roundtrip(1)
        c.close()


@harness.test
def client_gone_in_the_middle_of_a_large_frame(broker):
    with Witness(broker) as w:
        for _ in range(5):
            c = bad_conn(broker)
            body = body_of(100000, b"gone")
            data = (publish() + R.header_frame(1, len(body)) +
                    R.body_frame(1, body))
            c.send(data[:50000])
            time.sleep(PAUSE)
            c.close_socket()
            w.check()


harness.run()
