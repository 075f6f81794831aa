"""kombu (transport pyamqp, i.e. py-amqp): Producer/Consumer round trips,
acks and requeues, SimpleQueue, and a small Celery-like task pattern."""
import socket
import time
import uuid

import kombu
import kombu.simple

import harness
from py_util import test, eq


def _conn(t, **kw):
    c = kombu.Connection(t.kombu_url(), connect_timeout=5, **kw)
    c.connect()
    t.on_cleanup(c.release)
    return c


def _drain(c, cond, timeout=5):
    end = time.time() + timeout
    while not cond():
        left = end - time.time()
        if left <= 0:
            raise AssertionError("timed out draining kombu events")
        try:
            c.drain_events(timeout=min(left, 0.5))
        except socket.timeout:
            pass


@test
def producer_consumer_round_trip(t):
    c = _conn(t)
    xname, qname = t.name("kx"), t.name("kq")
    t.forget_exchange(xname)
    t.forget_queue(qname)
    x = kombu.Exchange(xname, "direct", durable=False)
    q = kombu.Queue(qname, x, routing_key="work", durable=False)
    got = []

    def on(body, message):
        got.append((body, message.content_type, message.properties,
                    message.headers))
        message.ack()
    with kombu.Consumer(c, [q], callbacks=[on], accept=["json"]):
        p = kombu.Producer(c, exchange=x, routing_key="work")
        p.publish({"n": 1, "s": "\u00e9"}, serializer="json",
                  headers={"h": "v"}, correlation_id="c1")
        _drain(c, lambda: got)
    body, ctype, props, headers = got[0]
    eq(body, {"n": 1, "s": "\u00e9"})
    eq(ctype, "application/json")
    eq(props["correlation_id"], "c1")
    eq(headers, {"h": "v"})


@test
def consumer_many_messages_in_order(t):
    c = _conn(t)
    qname = t.name("kq")
    t.forget_queue(qname)
    q = kombu.Queue(qname, routing_key=qname)
    got = []
    with kombu.Consumer(c, [q], accept=["json"],
                        callbacks=[lambda b, m: (got.append(b), m.ack())]):
        p = kombu.Producer(c)
        for i in range(100):
            p.publish(i, routing_key=qname, serializer="json")
        _drain(c, lambda: len(got) >= 100)
    eq(got, list(range(100)))


@test
def consumer_requeue_and_reject(t):
    c = _conn(t)
    qname = t.name("kq")
    t.forget_queue(qname)
    q = kombu.Queue(qname, routing_key=qname)
    seen = []

    def on(body, message):
        seen.append((body, message.delivery_info["redelivered"]))
        if body == "retry" and not message.delivery_info["redelivered"]:
            message.requeue()
        elif body == "bad":
            message.reject()
        else:
            message.ack()
    with kombu.Consumer(c, [q], callbacks=[on], accept=["json"]):
        p = kombu.Producer(c)
        for b in ("retry", "bad", "ok"):
            p.publish(b, routing_key=qname, serializer="json")
        _drain(c, lambda: len(seen) >= 4)
    eq(sorted(seen), sorted([("retry", False), ("bad", False), ("ok", False),
                             ("retry", True)]))
    with c.channel() as ch:
        eq(q(ch).queue_declare(passive=True).message_count, 0)


@test
def compression_round_trip(t):
    c = _conn(t)
    qname = t.name("kq")
    t.forget_queue(qname)
    q = kombu.Queue(qname, routing_key=qname)
    with c.channel() as ch:
        q(ch).declare()
        kombu.Producer(ch).publish({"data": "x" * 10000}, routing_key=qname,
                                   serializer="json", compression="zlib")
        m = None
        end = time.time() + 5
        while m is None and time.time() < end:
            m = q(ch).get(no_ack=True, accept=["json"])
        assert m is not None, "no message"
        eq(m.headers.get("compression"), "application/x-gzip")
        eq(m.decode(), {"data": "x" * 10000})


@test
def simple_queue_put_get(t):
    c = _conn(t)
    name = t.name("simple")
    t.forget_queue(name)
    t.forget_exchange(name)     # SimpleQueue declares a same-named exchange
    sq = c.SimpleQueue(name)
    try:
        for i in range(5):
            sq.put({"i": i})
        got = []
        for _ in range(5):
            m = sq.get(block=True, timeout=5)
            got.append(m.payload["i"])
            m.ack()
        eq(got, [0, 1, 2, 3, 4])
        try:
            sq.get_nowait()
        except sq.Empty:
            pass
        else:
            raise AssertionError("SimpleQueue not empty")
    finally:
        sq.close()


@test
def simple_queue_qsize_and_clear(t):
    c = _conn(t)
    name = t.name("simple")
    t.forget_queue(name)
    t.forget_exchange(name)
    sq = c.SimpleQueue(name)
    try:
        for i in range(7):
            sq.put(i)
        harness.wait_for(lambda: sq.qsize() == 7, 5)
        eq(sq.qsize(), 7)
        eq(sq.clear(), 7)
        eq(sq.qsize(), 0)
    finally:
        sq.close()


@test
def simple_queue_unacked_requeued_on_close(t):
    name = t.name("simple")
    t.forget_queue(name)
    t.forget_exchange(name)
    c1 = _conn(t)
    sq = c1.SimpleQueue(name)
    sq.put("keep me")
    m = sq.get(timeout=5)
    eq(m.payload, "keep me")
    sq.close()
    c1.release()                 # not acked: back to the queue
    c2 = _conn(t)
    sq2 = c2.SimpleQueue(name)
    try:
        m = sq2.get(timeout=5)
        eq((m.payload, m.delivery_info["redelivered"]), ("keep me", True))
        m.ack()
    finally:
        sq2.close()


@test(timeout=15)
def celery_like_task_pattern(t):
    """A client sends tasks with ids to a task queue; a worker runs them and
    posts results to a per-client result queue; the client collects every
    result by task id."""
    tasks_name, results_name = t.name("tasks"), t.name("results")
    for n in (tasks_name, results_name):
        t.forget_queue(n)
        t.forget_exchange(n)
    client = _conn(t)
    worker = _conn(t)
    tasks_out = client.SimpleQueue(tasks_name)
    results_in = client.SimpleQueue(results_name)
    tasks_in = worker.SimpleQueue(tasks_name)
    results_out = worker.SimpleQueue(results_name)
    ops = {"add": lambda a, b: a + b, "mul": lambda a, b: a * b}
    try:
        sent = {}
        for i in range(20):
            tid = str(uuid.uuid4())
            op = "add" if i % 2 else "mul"
            tasks_out.put({"args": [i, 3]}, headers={"task": op, "id": tid},
                          serializer="json")
            sent[tid] = ops[op](i, 3)
        for _ in range(20):                      # the worker
            m = tasks_in.get(timeout=5)
            h = m.headers
            res = ops[h["task"]](*m.payload["args"])
            results_out.put({"id": h["id"], "result": res})
            m.ack()
        results = {}
        for _ in range(20):                      # the client
            m = results_in.get(timeout=5)
            results[m.payload["id"]] = m.payload["result"]
            m.ack()
        eq(results, sent)
    finally:
        for sq in (tasks_out, results_in, tasks_in, results_out):
            sq.close()


@test
def simple_buffer_no_ack(t):
    c = _conn(t)
    name = t.name("buf")
    t.forget_queue(name)
    t.forget_exchange(name)
    sb = c.SimpleBuffer(name)
    try:
        sb.put("a")
        sb.put("b")
        eq([sb.get(timeout=5).payload for _ in range(2)], ["a", "b"])
    finally:
        sb.close()


@test
def kombu_declare_mismatch_raises(t):
    c = _conn(t)
    name = t.name("kq")
    t.forget_queue(name)
    with c.channel() as ch:
        kombu.Queue(name, durable=False)(ch).declare()
    with c.channel() as ch:
        try:
            kombu.Queue(name, durable=True)(ch).declare()
        except c.connection.channel_errors as e:
            eq(e.code, 406)
            eq(e.reply_text, "PRECONDITION_FAILED - inequivalent arg "
               "'durable' for queue '%s' in vhost '%s': received 'true' but "
               "current is 'false'" % (name, t.vhost))
            return
    raise AssertionError("mismatched redeclare accepted")


harness.run()
