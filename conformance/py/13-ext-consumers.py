"""Single active consumer (x-single-active-consumer) and consumer priorities
(x-priority on basic.consume) with pika, as RabbitMQ 3.10 does them on
classic queues.

Single active consumer: every basic.consume gets consume-ok and counts in
consumer_count, but only the earliest registered consumer receives; when
it goes (basic.cancel, channel or connection closed) the next in order of
registration takes over, with the old one's unacked messages requeued; a
newcomer never displaces the active one; nobody gets basic.cancel.

Consumer priorities: the consumers of the highest priority that have
credit (prefetch) get the messages, round robin among themselves; lower
ones get messages only while all higher ones are blocked."""
import harness
from py_util import (test, eq, channel_error, Collector, wait_ready,
                     consumer_count)
from ext_util import pump_all, pump_for


def _sac(t, ch):
    return t.queue(ch, arguments={"x-single-active-consumer": True})


class _Watch:
    """Consumers on their own connections, with cancel notifications."""

    def __init__(self, t):
        self.t = t
        self.conns = []
        self.cols = {}
        self.chans = {}
        self.cancels = []

    def add(self, name, queue, auto_ack=True, prefetch=None, conn=None,
            **kw):
        c = conn or self.t.conn()
        if c not in self.conns:
            self.conns.append(c)
        ch = c.channel()
        if prefetch is not None:
            ch.basic_qos(prefetch_count=prefetch)
        ch.add_on_cancel_callback(
            lambda frame: self.cancels.append(frame.method.consumer_tag))
        col = Collector()
        ch.basic_consume(queue, col, auto_ack=auto_ack, consumer_tag=name,
                         **kw)
        self.cols[name] = col
        self.chans[name] = ch
        return ch

    def bodies(self, name):
        return self.cols[name].bodies()

    def total(self):
        return sum(len(c) for c in self.cols.values())

    def wait_total(self, n, what=None):
        pump_all(self.conns, lambda: self.total() >= n, 5,
                 what or "%d deliveries" % n)


# Single active consumer -------------------------------------------------

@test
def sac_only_the_first_consumer_receives(t):
    ch = t.channel()
    q = _sac(t, ch)
    w = _Watch(t)
    for name in ("A", "B", "C"):
        w.add(name, q)
    eq(consumer_count(ch, q), 3)
    for i in range(6):
        ch.basic_publish("", q, b"%d" % i)
    w.wait_total(6)
    eq(w.bodies("A"), [b"%d" % i for i in range(6)])
    eq((w.bodies("B"), w.bodies("C")), ([], []))


@test
def sac_cancel_hands_over_to_the_next(t):
    ch = t.channel()
    q = _sac(t, ch)
    w = _Watch(t)
    for name in ("A", "B", "C"):
        w.add(name, q)
    ch.basic_publish("", q, b"1")
    w.wait_total(1)
    w.chans["A"].basic_cancel("A")
    for body in (b"2", b"3"):
        ch.basic_publish("", q, body)
    w.wait_total(3)
    eq((w.bodies("A"), w.bodies("B"), w.bodies("C")),
       ([b"1"], [b"2", b"3"], []))
    pump_for(w.conns, 0.1)
    eq(w.cancels, [])                  # no basic.cancel to anyone
    eq(consumer_count(ch, q), 2)


@test
def sac_channel_close_requeues_to_the_next(t):
    ch = t.channel()
    q = _sac(t, ch)
    w = _Watch(t)
    w.add("A", q, auto_ack=False, prefetch=1)
    w.add("B", q, auto_ack=True)
    for i in range(3):
        ch.basic_publish("", q, b"%d" % i)
    w.wait_total(1)
    eq(w.bodies("A"), [b"0"])
    wait_ready(ch, q, 2)               # A is full: the rest wait for A
    eq(w.bodies("B"), [])
    w.chans["A"].close()
    w.wait_total(4)
    eq([(m[2], m[0].redelivered) for m in w.cols["B"].msgs],
       [(b"0", True), (b"1", False), (b"2", False)])


@test
def sac_connection_loss_hands_over(t):
    ch = t.channel()
    q = _sac(t, ch)
    w = _Watch(t)
    w.add("A", q)
    w.add("B", q)
    ch.basic_publish("", q, b"x")
    w.wait_total(1)
    w.conns[0].close()
    ch.basic_publish("", q, b"y")
    w.wait_total(2)
    eq((w.bodies("A"), w.bodies("B")), ([b"x"], [b"y"]))


@test
def sac_newcomer_does_not_displace_the_active(t):
    ch = t.channel()
    q = _sac(t, ch)
    w = _Watch(t)
    w.add("A", q)
    w.add("B", q)
    w.chans["A"].basic_cancel("A")
    w.add("C", q)
    for body in (b"1", b"2"):
        ch.basic_publish("", q, body)
    w.wait_total(2)
    eq((w.bodies("B"), w.bodies("C")), ([b"1", b"2"], []))


@test
def sac_order_of_registration_across_channels(t):
    # B and C share a connection: after A the next is the earlier one.
    ch = t.channel()
    q = _sac(t, ch)
    w = _Watch(t)
    w.add("A", q)
    shared = t.conn()
    w.add("C", q, conn=shared)
    w.add("B", q, conn=shared)
    w.chans["A"].basic_cancel("A")
    ch.basic_publish("", q, b"m")
    w.wait_total(1)
    eq((w.bodies("C"), w.bodies("B")), ([b"m"], []))


@test
def sac_backlog_goes_to_the_first_consumer(t):
    ch = t.channel()
    q = _sac(t, ch)
    for i in range(4):
        ch.basic_publish("", q, b"%d" % i)
    wait_ready(ch, q, 4)
    w = _Watch(t)
    w.add("A", q)
    w.add("B", q)
    w.wait_total(4)
    eq(len(w.bodies("A")), 4)


@test
def sac_queue_deleted_cancels_every_consumer(t):
    # Waiting consumers are consumers too: all get basic.cancel.
    ch = t.channel()
    q = _sac(t, ch)
    w = _Watch(t)
    for name in ("A", "B", "C"):
        w.add(name, q)
    ch.queue_delete(q)
    pump_all(w.conns, lambda: len(w.cancels) >= 3, 5, "3 basic.cancel")
    eq(sorted(w.cancels), ["A", "B", "C"])


@test
def sac_false_is_an_ordinary_queue(t):
    ch = t.channel()
    q = t.queue(ch, arguments={"x-single-active-consumer": False})
    w = _Watch(t)
    w.add("A", q)
    w.add("B", q)
    for i in range(4):
        ch.basic_publish("", q, b"%d" % i)
    w.wait_total(4)
    eq((len(w.bodies("A")), len(w.bodies("B"))), (2, 2))


def _bad_sac(t, value, kind):
    ch = t.channel()
    q = t.name("q")
    t.forget_queue(q)
    with channel_error(406, "PRECONDITION_FAILED - invalid arg "
                       "'x-single-active-consumer' for queue '%s' in vhost "
                       "'%s': {unacceptable_type,%s}" % (q, t.vhost, kind)):
        ch.queue_declare(q, arguments={"x-single-active-consumer": value})


@test
def sac_string_406(t):
    _bad_sac(t, "true", "longstr")


@test
def sac_integer_406(t):
    _bad_sac(t, 1, "signedint")


@test
def sac_redeclare_must_match(t):
    ch = t.channel()
    q = _sac(t, ch)
    with channel_error(406, "PRECONDITION_FAILED - inequivalent arg "
                       "'x-single-active-consumer' for queue '%s' in vhost "
                       "'%s': received none but current is the value 'true' "
                       "of type 'bool'" % (q, t.vhost)):
        ch.queue_declare(q)


# Consumer priorities ----------------------------------------------------

@test
def higher_priority_consumer_first_while_it_has_credit(t):
    ch = t.channel()
    q = t.queue(ch)
    w = _Watch(t)
    c = t.conn()
    w.add("low", q, auto_ack=False, prefetch=10, conn=c,
          arguments={"x-priority": 0})
    w.add("high", q, auto_ack=False, prefetch=2, conn=c,
          arguments={"x-priority": 10})
    for i in range(6):
        ch.basic_publish("", q, b"%d" % i)
    w.wait_total(6)
    eq((w.bodies("high"), w.bodies("low")),
       ([b"0", b"1"], [b"2", b"3", b"4", b"5"]))
    # An ack gives "high" credit again: the next message is its.
    # (Published on the acking channel, so that the ack arrives first.)
    w.chans["high"].basic_ack(w.cols["high"].msgs[0][0].delivery_tag)
    w.chans["high"].basic_publish("", q, b"6")
    w.wait_total(7)
    eq(w.bodies("high"), [b"0", b"1", b"6"])


@test
def no_prefetch_high_priority_takes_everything(t):
    ch = t.channel()
    q = t.queue(ch)
    w = _Watch(t)
    w.add("low", q, arguments={"x-priority": 1})
    w.add("high", q, arguments={"x-priority": 5})
    w.add("none", q)
    for i in range(5):
        ch.basic_publish("", q, b"%d" % i)
    w.wait_total(5)
    eq((len(w.bodies("high")), w.bodies("low"), w.bodies("none")),
       (5, [], []))


@test
def equal_priorities_round_robin(t):
    ch = t.channel()
    q = t.queue(ch)
    w = _Watch(t)
    c = t.conn()
    w.add("h1", q, conn=c, arguments={"x-priority": 7})
    w.add("h2", q, conn=c, arguments={"x-priority": 7})
    w.add("low", q, conn=c)
    for i in range(4):
        ch.basic_publish("", q, b"%d" % i)
    w.wait_total(4)
    eq((w.bodies("h1"), w.bodies("h2"), w.bodies("low")),
       ([b"0", b"2"], [b"1", b"3"], []))


@test
def negative_priority_below_default(t):
    ch = t.channel()
    q = t.queue(ch)
    w = _Watch(t)
    c = t.conn()
    w.add("neg", q, conn=c, arguments={"x-priority": -5})
    w.add("default", q, conn=c, auto_ack=False, prefetch=1)
    for i in range(3):
        ch.basic_publish("", q, b"%d" % i)
    w.wait_total(3)
    eq((w.bodies("default"), w.bodies("neg")), ([b"0"], [b"1", b"2"]))


@test
def cancelled_high_priority_leaves_the_rest_to_low(t):
    ch = t.channel()
    q = t.queue(ch)
    w = _Watch(t)
    c = t.conn()
    w.add("high", q, conn=c, arguments={"x-priority": 3})
    w.add("low", q, conn=c)
    ch.basic_publish("", q, b"1")
    w.wait_total(1)
    w.chans["high"].basic_cancel("high")
    ch.basic_publish("", q, b"2")
    w.wait_total(2)
    eq((w.bodies("high"), w.bodies("low")), ([b"1"], [b"2"]))


def _bad_priority(t, value, kind):
    c = t.conn()
    ch = c.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    with channel_error(406, "PRECONDITION_FAILED - invalid arg 'x-priority' "
                       "for queue '%s' in vhost '%s': \"expected integer, "
                       "got %s\"" % (q, t.vhost, kind)):
        ch.basic_consume(q, lambda *a: None,
                         arguments={"x-priority": value})


@test
def consumer_priority_string_406(t):
    _bad_priority(t, "5", "longstr")


@test
def consumer_priority_bool_406(t):
    _bad_priority(t, True, "bool")


@test
def consumer_priority_wide_values_accepted(t):
    ch = t.channel()
    q = t.queue(ch)
    ch.basic_consume(q, lambda *a: None, arguments={"x-priority": -2 ** 31})
    ch.basic_consume(q, lambda *a: None, arguments={"x-priority": 2 ** 40})
    eq(consumer_count(ch, q), 2)


harness.run()
