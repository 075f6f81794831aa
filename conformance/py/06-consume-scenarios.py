"""Application scenarios with pika: a work queue with competing consumers
and manual acks, prefetch limits under load, and requeue when a consumer
process dies abruptly."""
import collections
import signal
import subprocess

import pika

import harness
from py_util import (test, eq, pump_until, wait_ready, Collector, read_lines,
                     python, consume, consumer_count)

# A consumer in its own process: prints each body it gets and never acks.
CHILD_CONSUMER = r"""
import sys, pika
url, queue, prefetch = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = pika.BlockingConnection(pika.URLParameters(url))
ch = c.channel()
ch.basic_qos(prefetch_count=prefetch)
def on(ch, m, p, body):
    sys.stdout.write(body.decode() + "\n")
    sys.stdout.flush()
ch.basic_consume(queue, on)
print("ready", flush=True)
ch.start_consuming()
"""


def _pump_all(conns):
    for c in conns:
        c.process_data_events(0.01)


@test(timeout=15)
def work_queue_three_competing_consumers(t):
    pub = t.channel()
    q = t.queue(pub, durable=True)
    conns = [t.conn() for _ in range(3)]
    got = collections.defaultdict(list)
    for i, c in enumerate(conns):
        ch = c.channel()
        ch.basic_qos(prefetch_count=1)

        def work(ch, m, p, body, i=i):
            got[i].append(body)
            ch.basic_ack(m.delivery_tag)
        ch.basic_consume(q, work)
    n = 300
    props = pika.BasicProperties(delivery_mode=2)
    for j in range(n):
        pub.basic_publish("", q, b"task-%d" % j, props)
    harness.wait_for(lambda: _pump_all(conns) or
                     sum(map(len, got.values())) >= n, 10)
    everything = [b for msgs in got.values() for b in msgs]
    eq(len(everything), n, "tasks processed")
    eq(sorted(everything), sorted(b"task-%d" % j for j in range(n)),
       "every task exactly once")
    eq(len(got), 3, "consumers that got work")
    for i, msgs in got.items():
        assert len(msgs) >= n // 10, "consumer %d starved: %d" % (i, len(msgs))
        # each worker sees its share in publish order
        nums = [int(b.split(b"-")[1]) for b in msgs]
        eq(nums, sorted(nums), "order seen by consumer %d" % i)
    _pump_all(conns)
    wait_ready(pub, q, 0)


@test(timeout=15)
def work_queue_with_requeue_on_failure(t):
    # Workers that fail (nack+requeue) the first attempt of every 5th task:
    # the task is redone once, by someone, with redelivered set.
    pub = t.channel()
    q = t.queue(pub)
    conns = [t.conn() for _ in range(3)]
    done = []
    failed = set()
    for c in conns:
        ch = c.channel()
        ch.basic_qos(prefetch_count=2)

        def work(ch, m, p, body):
            k = int(body)
            if k % 5 == 0 and k not in failed:
                assert not m.redelivered
                failed.add(k)
                ch.basic_nack(m.delivery_tag, requeue=True)
                return
            if k in failed:
                assert m.redelivered, "task %d redone without redelivered" % k
            done.append(k)
            ch.basic_ack(m.delivery_tag)
        ch.basic_consume(q, work)
    for j in range(100):
        pub.basic_publish("", q, b"%d" % j)
    harness.wait_for(lambda: _pump_all(conns) or len(done) >= 100, 10)
    eq(sorted(done), list(range(100)))
    eq(len(failed), 20)


@test(timeout=15)
def prefetch_limit_under_load(t):
    pub = t.channel()
    q = t.queue(pub)
    limits = [1, 3, 5]
    conns, state = [], []
    for lim in limits:
        c = t.conn()
        ch = c.channel()
        ch.basic_qos(prefetch_count=lim)
        st = {"ch": ch, "unacked": [], "max": 0, "n": 0, "lim": lim}

        def on(ch, m, p, body, st=st):
            st["unacked"].append(m.delivery_tag)
            st["n"] += 1
            st["max"] = max(st["max"], len(st["unacked"]))
        ch.basic_consume(q, on)
        conns.append(c)
        state.append(st)
    n = 200
    for j in range(n):
        pub.basic_publish("", q, b"%d" % j)

    def step():
        _pump_all(conns)
        for st in state:       # finish one task per round, slowly
            if st["unacked"]:
                st["ch"].basic_ack(st["unacked"].pop(0))
        return sum(st["n"] for st in state) >= n
    harness.wait_for(step, 10)
    eq(sum(st["n"] for st in state), n)
    for st in state:
        assert st["max"] <= st["lim"], \
            "prefetch %d exceeded: %d unacked" % (st["lim"], st["max"])
        eq(st["max"], st["lim"], "consumer with prefetch %d filled up"
           % st["lim"])
    for st in state:
        for tag in st["unacked"]:
            st["ch"].basic_ack(tag)


@test(timeout=15)
def requeue_when_consumer_process_killed(t):
    ch = t.channel()
    q = t.queue(ch)
    for j in range(10):
        ch.basic_publish("", q, b"job-%d" % j)
    child = t.spawn([python(), "-c", CHILD_CONSUMER, t.url(), q, "4"],
                    stdout=subprocess.PIPE)
    lines = read_lines(child, 5)
    eq(lines[0], "ready")
    held = lines[1:]
    eq(held, ["job-%d" % j for j in range(4)], "held by the child")
    # Another consumer gets the rest meanwhile.
    c2 = t.conn()
    ch2 = c2.channel()
    col = Collector()
    ch2.basic_consume(q, col)
    pump_until(c2, lambda: len(col) >= 6, what="the 6 other jobs")
    eq([m[0].redelivered for m in col.msgs], [False] * 6)
    # The child dies without closing anything: SIGKILL, no AMQP close.
    child.send_signal(signal.SIGKILL)
    child.wait(5)
    pump_until(c2, lambda: len(col) >= 10, timeout=8,
               what="the dead consumer's jobs")
    redone = col.msgs[6:]
    eq(sorted(b.decode() for _, _, b in redone), sorted(held))
    eq([m.redelivered for m, _, _ in redone], [True] * 4)
    for m, _, _ in col.msgs:
        ch2.basic_ack(m.delivery_tag)
    wait_ready(ch2, q, 0)


@test(timeout=15)
def requeue_when_consumer_socket_dropped(t):
    # Same, but the client's TCP connection is shut down under pika.
    from py_util import kill_socket
    c1 = t.conn()
    ch1 = c1.channel()
    q = t.queue(ch1)
    for j in range(3):
        ch1.basic_publish("", q, b"%d" % j)
    msgs = consume(c1, ch1, q, 3, auto_ack=False)
    eq(len(msgs), 3)
    kill_socket(c1)
    ch = t.channel()
    wait_ready(ch, q, 3, timeout=8)
    got = [ch.basic_get(q, auto_ack=True) for _ in range(3)]
    eq([(b, m.redelivered) for m, _, b in got],
       [(b"0", True), (b"1", True), (b"2", True)])


@test(timeout=15)
def killed_consumer_with_autoack_loses_messages(t):
    # no-ack deliveries are gone once sent, whatever happens to the client.
    ch = t.channel()
    q = t.queue(ch)
    code = CHILD_CONSUMER.replace("ch.basic_consume(queue, on)",
                                  "ch.basic_consume(queue, on, auto_ack=True)")
    for j in range(3):
        ch.basic_publish("", q, b"%d" % j)
    child = t.spawn([python(), "-c", code, t.url(), q, "0"],
                    stdout=subprocess.PIPE)
    eq(read_lines(child, 4), ["ready", "0", "1", "2"])
    child.send_signal(signal.SIGKILL)
    child.wait(5)
    assert harness.wait_for(lambda: consumer_count(ch, q) == 0, 5), \
        "the dead consumer is still registered"
    wait_ready(ch, q, 0)


harness.run()
