"""Request/reply (RPC) with pika: reply_to and correlation_id, several
outstanding calls, several servers, a client that went away."""
import uuid

import pika

import harness
from py_util import test, eq, pump_until, Collector, wait_gone


class Server:
    """An RPC server: replies with the request body reversed."""

    def __init__(self, t, queue, name="s"):
        self.conn = t.conn()
        self.ch = self.conn.channel()
        self.ch.basic_qos(prefetch_count=1)
        self.name = name
        self.handled = 0
        self.returned = []
        self.ch.add_on_return_callback(
            lambda ch, m, p, b: self.returned.append((m, p, b)))
        self.ch.basic_consume(queue, self.on_request)

    def on_request(self, ch, m, props, body):
        self.handled += 1
        ch.basic_publish(
            "", props.reply_to, body[::-1],
            pika.BasicProperties(correlation_id=props.correlation_id,
                                 headers={"server": self.name}),
            mandatory=True)
        ch.basic_ack(m.delivery_tag)


class Client:
    def __init__(self, t):
        self.conn = t.conn()
        self.ch = self.conn.channel()
        self.reply_q = self.ch.queue_declare("", exclusive=True).method.queue
        self.replies = {}
        self.ch.basic_consume(self.reply_q, self.on_reply, auto_ack=True)

    def on_reply(self, ch, m, props, body):
        assert props.correlation_id not in self.replies, "duplicate reply"
        self.replies[props.correlation_id] = (body, props)

    def call(self, queue, body):
        cid = str(uuid.uuid4())
        self.ch.basic_publish("", queue, body, pika.BasicProperties(
            reply_to=self.reply_q, correlation_id=cid))
        return cid


def _pump(conns, cond, timeout=5):
    ok = harness.wait_for(lambda: [c.process_data_events(0.01)
                                   for c in conns] and cond(), timeout)
    assert ok, "timed out"


@test
def rpc_single_call(t):
    ch = t.channel()
    rq = t.queue(ch)
    srv = Server(t, rq)
    cli = Client(t)
    cid = cli.call(rq, b"hello")
    _pump([srv.conn, cli.conn], lambda: cid in cli.replies)
    body, props = cli.replies[cid]
    eq(body, b"olleh")
    eq(props.correlation_id, cid)
    eq(srv.returned, [])


@test
def rpc_many_outstanding_calls(t):
    ch = t.channel()
    rq = t.queue(ch)
    srv = Server(t, rq)
    cli = Client(t)
    calls = {cli.call(rq, b"req-%03d" % i): b"req-%03d" % i
             for i in range(50)}
    _pump([srv.conn, cli.conn], lambda: len(cli.replies) >= 50)
    for cid, req in calls.items():
        eq(cli.replies[cid][0], req[::-1], "reply to " + cid)


@test
def rpc_two_servers_share_load(t):
    ch = t.channel()
    rq = t.queue(ch)
    s1, s2 = Server(t, rq, "one"), Server(t, rq, "two")
    cli = Client(t)
    for i in range(20):
        cli.call(rq, b"%d" % i)
    _pump([s1.conn, s2.conn, cli.conn], lambda: len(cli.replies) >= 20)
    eq(s1.handled + s2.handled, 20)
    assert s1.handled and s2.handled, (s1.handled, s2.handled)
    servers = {p.headers["server"] for _, p in cli.replies.values()}
    eq(servers, {"one", "two"})


@test
def rpc_two_clients(t):
    ch = t.channel()
    rq = t.queue(ch)
    srv = Server(t, rq)
    a, b = Client(t), Client(t)
    ca = [a.call(rq, b"a%d" % i) for i in range(10)]
    cb = [b.call(rq, b"b%d" % i) for i in range(10)]
    _pump([srv.conn, a.conn, b.conn],
          lambda: len(a.replies) >= 10 and len(b.replies) >= 10)
    eq(sorted(a.replies), sorted(ca))
    eq(sorted(b.replies), sorted(cb))
    assert all(body.endswith(b"a") for body, _ in a.replies.values())


@test
def rpc_reply_to_vanished_client_is_returned(t):
    ch = t.channel()
    rq = t.queue(ch)
    srv = Server(t, rq)
    cli = Client(t)
    cid = cli.call(rq, b"lost")
    reply_q = cli.reply_q
    cli.conn.close()              # its exclusive reply queue is deleted
    wait_gone(t.conn(), reply_q)  # before the server handles the request
    _pump([srv.conn], lambda: srv.returned)
    m, p, body = srv.returned[0]
    eq((m.reply_code, m.reply_text, m.exchange, p.correlation_id, body),
       (312, "NO_ROUTE", "", cid, b"tsol"))


@test
def rpc_request_properties_preserved(t):
    c = t.conn()
    ch = c.channel()
    rq = t.queue(ch)
    props = pika.BasicProperties(reply_to="r.q", correlation_id="c-1",
                                 expiration="60000", message_id="m-1",
                                 type="rpc.request")
    ch.basic_publish("", rq, b"x", props)
    col = Collector()
    ch.basic_consume(rq, col, auto_ack=True)
    pump_until(c, lambda: col.msgs)
    p = col.msgs[0][1]
    eq((p.reply_to, p.correlation_id, p.expiration, p.message_id, p.type),
       ("r.q", "c-1", "60000", "m-1", "rpc.request"))


harness.run()
