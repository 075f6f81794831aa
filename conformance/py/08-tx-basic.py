"""Transactions with pika: tx.select/commit/rollback for publishes, acks,
nacks and rejects; returns at commit; errors."""
import pika

import harness
from py_util import (test, eq, channel_error, sync, wait_ready, drain,
                     consume, pump_until, Collector)


NOT_TX = "PRECONDITION_FAILED - channel is not transactional"


def _count(t, q):
    return t.channel().queue_declare(q, passive=True).method.message_count


@test
def publish_visible_only_on_commit(t):
    ch = t.channel()
    q = t.queue(ch)
    ch.tx_select()
    for i in range(5):
        ch.basic_publish("", q, b"%d" % i)
    sync(ch)
    eq(t.channel().basic_get(q)[0], None, "message before commit")
    eq(_count(t, q), 0)
    ok = ch.tx_commit()
    eq(ok.method.NAME, "Tx.CommitOk")
    wait_ready(t.channel(), q, 5)
    eq(drain(t.channel(), q), [b"%d" % i for i in range(5)])


@test
def rollback_discards_publishes(t):
    ch = t.channel()
    q = t.queue(ch)
    ch.tx_select()
    ch.basic_publish("", q, b"no")
    ok = ch.tx_rollback()
    eq(ok.method.NAME, "Tx.RollbackOk")
    ch.basic_publish("", q, b"yes")
    ch.tx_commit()
    eq(drain(ch, q), [b"yes"])


@test
def uncommitted_publishes_dropped_on_close(t):
    c = t.conn()
    ch = c.channel()
    q = t.queue(ch)
    ch.tx_select()
    ch.basic_publish("", q, b"lost")
    ch.close()
    ch = c.channel()
    ch.basic_publish("", q, b"marker")
    eq(drain(ch, q), [b"marker"])


@test
def transactions_are_sequential(t):
    ch = t.channel()
    q = t.queue(ch)
    ch.tx_select()
    for n in range(3):
        ch.basic_publish("", q, b"c%d" % n)
        ch.tx_commit()
        ch.basic_publish("", q, b"r%d" % n)
        ch.tx_rollback()
    eq(drain(ch, q), [b"c0", b"c1", b"c2"])


@test
def commit_is_atomic_across_queues(t):
    ch = t.channel()
    x = t.exchange(ch, "direct")
    qs = [t.queue(ch) for _ in range(3)]
    for i, q in enumerate(qs):
        ch.queue_bind(q, x, "k%d" % i)
    ch.tx_select()
    for i in range(3):
        ch.basic_publish(x, "k%d" % i, b"m%d" % i)
    probe = t.channel()
    for q in qs:
        eq(probe.basic_get(q)[0], None)
    ch.tx_commit()
    for i, q in enumerate(qs):
        eq(drain(probe, q), [b"m%d" % i])


@test
def empty_commit_and_rollback(t):
    ch = t.channel()
    ch.tx_select()
    ch.tx_commit()
    ch.tx_rollback()
    ch.tx_commit()


@test
def select_twice_ok(t):
    ch = t.channel()
    ch.tx_select()
    ch.tx_select()
    ch.tx_commit()


@test
def commit_without_select_406(t):
    ch = t.channel()
    with channel_error(406, NOT_TX):
        ch.tx_commit()


@test
def rollback_without_select_406(t):
    ch = t.channel()
    with channel_error(406, NOT_TX):
        ch.tx_rollback()


@test
def ack_applied_on_commit(t):
    c = t.conn()
    ch = c.channel()
    q = t.queue(ch)
    ch.basic_publish("", q, b"a")
    ch.tx_select()
    m, _, _ = ch.basic_get(q)
    ch.basic_ack(m.delivery_tag)
    ch.tx_commit()
    ch.close()                  # nothing unacked is left to requeue
    ch = c.channel()
    ch.basic_publish("", q, b"marker")
    eq(drain(ch, q), [b"marker"])


@test
def ack_undone_by_rollback(t):
    c = t.conn()
    ch = c.channel()
    q = t.queue(ch)
    ch.basic_publish("", q, b"a")
    ch.basic_publish("", q, b"b")
    ch.tx_select()
    m1, _, _ = ch.basic_get(q)
    m2, _, _ = ch.basic_get(q)
    ch.basic_ack(m2.delivery_tag, multiple=True)
    ch.tx_rollback()
    # the rolled-back acks were not applied: both still unacked, so they
    # come back when the channel closes ...
    ch.close()
    ch = c.channel()
    wait_ready(ch, q, 2)
    got = [ch.basic_get(q, auto_ack=True) for _ in range(2)]
    eq([(b, m.redelivered) for m, _, b in got], [(b"a", True), (b"b", True)])


@test
def ack_again_after_rollback(t):
    ch = t.channel()
    q = t.queue(ch)
    ch.basic_publish("", q, b"a")
    ch.tx_select()
    m, _, _ = ch.basic_get(q)
    ch.basic_ack(m.delivery_tag)
    ch.tx_rollback()
    # ... and the tag is still valid afterwards
    ch.basic_ack(m.delivery_tag)
    ch.tx_commit()
    sync(ch)
    eq(_count(t, q), 0)


@test
def nack_requeue_undone_by_rollback(t):
    ch = t.channel()
    q = t.queue(ch)
    ch.basic_publish("", q, b"a")
    ch.tx_select()
    m, _, _ = ch.basic_get(q)
    ch.basic_nack(m.delivery_tag, requeue=True)
    ch.tx_rollback()
    sync(ch)
    eq(ch.basic_get(q)[0], None, "requeued by a rolled-back nack")
    ch.basic_nack(m.delivery_tag, requeue=True)
    ch.tx_commit()
    wait_ready(t.channel(), q, 1)
    m, _, body = ch.basic_get(q, auto_ack=True)
    eq((body, m.redelivered), (b"a", True))


@test
def reject_in_tx_applied_on_commit(t):
    ch = t.channel()
    q = t.queue(ch)
    ch.basic_publish("", q, b"a")
    ch.tx_select()
    m, _, _ = ch.basic_get(q)
    ch.basic_reject(m.delivery_tag, requeue=True)
    sync(ch)
    eq(ch.basic_get(q)[0], None, "requeued before commit")
    ch.tx_commit()
    wait_ready(t.channel(), q, 1)


@test
def unknown_tag_in_tx_406(t):
    ch = t.channel()
    ch.tx_select()
    ch.basic_ack(5)
    with channel_error(406, "PRECONDITION_FAILED - unknown delivery tag 5"):
        ch.tx_commit()


@test
def publish_missing_exchange_in_tx_404(t):
    ch = t.channel()
    ch.tx_select()
    x = t.name("missing")
    ch.basic_publish(x, "k", b"x")
    with channel_error(404, "NOT_FOUND - no exchange '%s' in vhost '%s'"
                       % (x, t.vhost)):
        ch.tx_commit()


@test
def mandatory_return_sent_at_commit(t):
    c = t.conn()
    ch = c.channel()
    rets = []
    ch.add_on_return_callback(lambda *a: rets.append(a))
    ch.tx_select()
    ch.basic_publish("", t.name("missing"), b"r", mandatory=True)
    sync(ch)
    c.process_data_events(0)
    eq(rets, [], "basic.return before commit")
    ch.tx_commit()
    pump_until(c, lambda: rets, what="basic.return after commit")
    m = rets[0][1]
    eq((m.reply_code, m.reply_text, rets[0][3]), (312, "NO_ROUTE", b"r"))


@test
def mandatory_rolled_back_not_returned(t):
    c = t.conn()
    ch = c.channel()
    rets = []
    ch.add_on_return_callback(lambda *a: rets.append(a[3]))
    ch.tx_select()
    ch.basic_publish("", t.name("missing"), b"rolled back", mandatory=True)
    ch.tx_rollback()
    ch.basic_publish("", t.name("missing"), b"committed", mandatory=True)
    ch.tx_commit()
    pump_until(c, lambda: rets, what="basic.return")
    eq(rets, [b"committed"])


@test
def tx_consumer_acks(t):
    c = t.conn()
    ch = c.channel()
    q = t.queue(ch)
    for i in range(4):
        ch.basic_publish("", q, b"%d" % i)
    ch.tx_select()
    msgs = consume(c, ch, q, 4, auto_ack=False)
    ch.basic_ack(msgs[1][0].delivery_tag, multiple=True)
    ch.tx_commit()
    ch.basic_ack(msgs[3][0].delivery_tag, multiple=True)
    ch.tx_rollback()
    ch.close()
    ch = c.channel()
    wait_ready(ch, q, 2)
    eq(drain(ch, q), [b"2", b"3"])


harness.run()
