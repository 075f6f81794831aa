"""Raw handshake conformance: clients that connect and then stop talking.

RabbitMQ's handshake_timeout is 10 s and covers everything up to
connection.open: it then closes the socket without sending anything (not
even after connection.start or tune).  Warren's default is meant to be the
same.  The cases run side by side, so the file takes about 10 s.
"""
import time

import rawamqp as R
import harness
from rawamqp import Conn, Witness

# Closed no later than this (RabbitMQ: 10 s) ...
LIMIT = 15.0
# ... and not absurdly early: a slow but honest client needs some time.
MINIMUM = 2.0


def idle_until_closed(broker, setup):
    with Witness(broker):
        t0 = time.time()
        c = Conn(broker)
        setup(c)
        c.expect_closed(timeout=LIMIT - (time.time() - t0))
        took = time.time() - t0
        if took < MINIMUM:
            raise AssertionError("idle connection closed after only %.1fs" %
                                 took)
        c.close_socket()


@R.concurrent_test
def connect_and_send_nothing_is_closed(broker):
    idle_until_closed(broker, lambda c: None)


@R.concurrent_test
def partial_protocol_header_is_closed(broker):
    idle_until_closed(broker, lambda c: c.send(b"AMQP"))


@R.concurrent_test
def no_start_ok_is_closed(broker):
    def setup(c):
        c.send_header()
        c.expect_start()
    idle_until_closed(broker, setup)


@R.concurrent_test
def no_tune_ok_is_closed(broker):
    def setup(c):
        c.send_header()
        c.expect_start()
        c.send_start_ok()
        c.expect_tune()
    idle_until_closed(broker, setup)


@R.concurrent_test
def no_connection_open_is_closed(broker):
    def setup(c):
        c.send_header()
        c.expect_start()
        c.send_start_ok()
        c.expect_tune()
        c.send_tune_ok()
    idle_until_closed(broker, setup)


harness.run()
