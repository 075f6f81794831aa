"""Crash test: warrend is killed (SIGKILL) at a random moment while
publishers with confirms push persistent messages into durable queues, and
in some rounds while a consumer acks part of what it gets.  After a restart
on the same data directory every queue is drained and checked:

  - every confirmed message is there, in every queue it was routed to
    (one queue by the default exchange; two by a durable fanout exchange:
    one message row shared by two queues);
  - per publisher, sequence numbers only increase within a queue;
  - bodies are intact byte for byte (sizes from 0 to 200 KiB, more than one
    frame; a SHA-256 in a header, the sequence number in body and header);
  - nothing is there twice, nothing is there that was not published, and
    nothing carries redelivered=True unless a consumer had it;
  - a message the consumer received and had not acked is back, with
    redelivered=True; one it acked may be back (its ack may not have been
    committed), but then with redelivered=True too;
  - unconfirmed messages may or may not be there.

Rounds share the data directory (each round's queues are new), so the
store is recovered after many kills.  The seed is printed; DURABILITY_SEED
replays a run.  Warren only: it restarts the broker.
"""
import collections
import hashlib
import os
import random
import socket
import struct
import threading
import time

import amqp

from warren_proc import Warren, Tap, commit_barrier, skip_if_foreign, \
    finish

ROUNDS = 6
PUBLISHERS = 3
WINDOW = 400                    # unconfirmed messages per publisher
# Body sizes: mostly small, some over one frame (frame_max 131072).
SIZES = [0, 1, 7, 16, 100, 1000, 4096, 20000, 131072 - 8, 131073,
         200 * 1024]
SIZE_WEIGHTS = [6, 4, 4, 10, 20, 20, 10, 6, 2, 2, 2]
CONSUMER_ROUNDS = {1, 3, 5}     # 0-based: a consumer runs during the kill

NAMES = ["round_%d_%s" % (r + 1, "kill_with_consumer" if r in
                          CONSUMER_ROUNDS else "kill")
         for r in range(ROUNDS)] + [
             "redelivered_set_for_what_the_consumer_had",
             "rounds_confirmed_and_consumed_enough"]


def body_for(rng, pub, seq, size):
    """size bytes: pub and seq first (when they fit), then random bytes."""
    head = struct.pack(">4sII", b"WRN!", pub, seq)
    if size >= len(head):
        return head + rng.randbytes(size - len(head))
    return rng.randbytes(size)


class Publisher(threading.Thread):
    """One connection, one confirm channel, publishing until told to stop
    or until the broker goes away; records what was confirmed."""

    def __init__(self, warren, pub, seed, names):
        super().__init__(daemon=True)
        self.warren = warren
        self.pub = pub
        self.rng = random.Random(seed)
        self.names = names
        self.sent = {}                  # seq -> (target, size, sha)
        self.unconfirmed = collections.deque()
        self.confirmed = set()
        self.nacked = set()
        self.error = None
        self.lost = False               # the connection went away
        self.ready = threading.Event()
        self.go = threading.Event()
        self.halt = threading.Event()
        self.seq = 0

    def on_ack(self, tag, multiple):
        self._settle(tag, multiple, self.confirmed)

    def on_nack(self, tag, multiple):
        self._settle(tag, multiple, self.nacked)

    def _settle(self, tag, multiple, into):
        if multiple:
            while self.unconfirmed and self.unconfirmed[0] <= tag:
                into.add(self.unconfirmed.popleft())
        else:
            try:
                self.unconfirmed.remove(tag)
            except ValueError:
                self.error = "ack for unknown tag %d" % tag
            into.add(tag)

    def publish_one(self, ch):
        self.seq += 1
        seq = self.seq
        size = self.rng.choices(SIZES, SIZE_WEIGHTS)[0]
        body = body_for(self.rng, self.pub, seq, size)
        sha = hashlib.sha256(body).hexdigest()
        target = "q" if self.rng.random() < 0.5 else "fanout"
        self.sent[seq] = (target, size, sha)
        self.unconfirmed.append(seq)
        msg = amqp.Message(body, delivery_mode=2,
                           content_type="application/octet-stream",
                           application_headers={"pub": self.pub, "seq": seq,
                                                "sha256": sha, "size": size})
        if target == "q":
            ch.basic_publish(msg, exchange="", routing_key=self.names["q"])
        else:
            ch.basic_publish(msg, exchange=self.names["x"], routing_key="")

    def run(self):
        conn = None
        try:
            conn = self.warren.pyamqp()
            ch = conn.channel()
            ch.confirm_select()
            ch.events["basic_ack"].add(self.on_ack)
            ch.events["basic_nack"].add(self.on_nack)
        except Exception as e:
            self.error = "connect: %r" % (e,)
            self.ready.set()
            return
        self.ready.set()
        self.go.wait(10)
        try:
            while not self.halt.is_set():
                if len(self.unconfirmed) < WINDOW:
                    self.publish_one(ch)
                    if self.seq % 8 == 0:
                        self.poll(conn, 0.0005)
                else:
                    self.poll(conn, 0.02)
        except (OSError, amqp.exceptions.AMQPError,
                amqp.exceptions.RecoverableConnectionError) as e:
            # The broker was killed: reads and writes fail from here on.
            self.lost = True
            self.lost_reason = repr(e)
        except Exception as e:
            self.error = "publisher %d: %r" % (self.pub, e)
        if not self.lost and conn is not None:
            try:
                conn.close()
            except Exception:
                pass

    def poll(self, conn, timeout):
        """Read what the broker sent (acks) without waiting long."""
        try:
            while True:
                conn.drain_events(timeout=timeout)
                timeout = 0.0005
        except socket.timeout:
            pass


class Consumer(threading.Thread):
    """Consumes from two queues with manual acks, acking about two thirds
    of what it gets; records what it received and what it acked."""

    def __init__(self, warren, queues, seed):
        super().__init__(daemon=True)
        self.warren = warren
        self.queues = queues
        self.rng = random.Random(seed)
        self.received = {}      # (queue, pub, seq) -> acked?
        self.error = None
        self.ready = threading.Event()
        self.halt = threading.Event()

    def run(self):
        try:
            conn = self.warren.pyamqp()
            ch = conn.channel()
            ch.basic_qos(0, 300, False)
            for q in self.queues:
                ch.basic_consume(q, callback=self.make_cb(ch, q))
        except Exception as e:
            self.error = "consumer connect: %r" % (e,)
            self.ready.set()
            return
        self.ready.set()
        try:
            while not self.halt.is_set():
                try:
                    conn.drain_events(timeout=0.02)
                except socket.timeout:
                    pass
        except (OSError, amqp.exceptions.AMQPError,
                amqp.exceptions.RecoverableConnectionError):
            pass
        except Exception as e:
            self.error = "consumer: %r" % (e,)

    def make_cb(self, ch, q):
        def cb(msg):
            h = msg.headers or {}
            key = (q, h.get("pub"), h.get("seq"))
            ack = self.rng.random() < 0.66
            self.received[key] = False
            if ack:
                ch.basic_ack(msg.delivery_tag)
                self.received[key] = True
        return cb


def drain(warren, queue):
    """Every message in queue, consumed without ack: [(headers, body,
    redelivered, delivery_mode)]."""
    conn = warren.pyamqp()
    try:
        ch = conn.channel()
        _, count, _ = ch.queue_declare(queue, passive=True)
        got = []

        def cb(m):
            body = m.body
            if isinstance(body, str):
                # py-amqp leaves an empty body as ''; a decoded one would
                # mean the broker invented a content_encoding.
                if body:
                    raise AssertionError("%s: body decoded to text: %r"
                                         % (queue, m.properties))
                body = b""
            got.append((m.headers or {}, bytes(body),
                        m.delivery_info["redelivered"],
                        m.properties.get("delivery_mode")))
        ch.basic_consume(queue, no_ack=True, callback=cb)
        end = time.time() + 20
        while len(got) < count:
            if time.time() > end:
                raise AssertionError("%s: drained %d of %d messages"
                                     % (queue, len(got), count))
            try:
                conn.drain_events(timeout=0.2)
            except socket.timeout:
                pass
        _, left, _ = ch.queue_declare(queue, passive=True)
        if left != 0:
            raise AssertionError("%s: %d messages left after draining %d"
                                 % (queue, left, count))
        return got
    finally:
        conn.close()


class Round:
    def __init__(self, warren, r, rng, totals):
        self.warren = warren
        self.r = r
        self.rng = rng
        self.totals = totals
        tag = "%d-%d" % (os.getpid(), r)
        self.names = {"q": "crash-q-" + tag, "x": "crash-fanout-" + tag,
                      "q1": "crash-f1-" + tag, "q2": "crash-f2-" + tag}
        self.with_consumer = r in CONSUMER_ROUNDS

    def setup(self):
        n = self.names
        conn = self.warren.pika()
        ch = conn.channel()
        ch.exchange_declare(n["x"], "fanout", durable=True)
        for q in ("q", "q1", "q2"):
            ch.queue_declare(n[q], durable=True)
        ch.queue_bind(n["q1"], n["x"])
        ch.queue_bind(n["q2"], n["x"])
        commit_barrier(conn)
        conn.close()

    def run(self):
        w = self.warren
        w.start(wrapped=False)          # this run ends in SIGKILL
        self.setup()
        pubs = [Publisher(w, p, self.rng.getrandbits(64), self.names)
                for p in range(1, PUBLISHERS + 1)]
        for p in pubs:
            p.start()
        cons = None
        if self.with_consumer:
            cons = Consumer(w, [self.names["q"], self.names["q1"]],
                            self.rng.getrandbits(64))
            cons.start()
            cons.ready.wait(10)
        for p in pubs:
            p.ready.wait(10)
        delay = self.rng.uniform(0.05, 1.5)
        for p in pubs:
            p.go.set()
        # The random moment of the crash: a sleep is the point here.
        time.sleep(delay)
        w.kill()
        # Each client must notice on its own that the broker went away:
        # a publisher that stopped publishing before the kill would make
        # the round test less than it seems.
        if cons:
            cons.halt.set()
        for t in pubs + ([cons] if cons else []):
            t.join(10)
            if t.is_alive():
                t.halt.set()
                raise AssertionError("a client did not notice the kill "
                                     "within 10 s")
        errors = [t.error for t in pubs + ([cons] if cons else [])
                  if t.error]
        if errors:
            raise AssertionError("client errors: %r" % errors)
        for p in pubs:
            if not p.lost:
                raise AssertionError("publisher %d never saw the broker go "
                                     "away" % p.pub)
        w.start()                       # ends in SIGTERM below
        try:
            got = {q: drain(w, self.names[q]) for q in ("q", "q1", "q2")}
            self.check(pubs, cons, got, delay)
            c = w.pika()
            ch = c.channel()
            for q in ("q", "q1", "q2"):
                ch.queue_delete(self.names[q])
            ch.exchange_delete(self.names["x"])
            c.close()
        finally:
            w.stop()

    def check(self, pubs, cons, got, delay):
        confirmed = sum(len(p.confirmed) for p in pubs)
        sent = sum(len(p.sent) for p in pubs)
        received = cons.received if cons else {}
        print("# round %d: kill after %.3f s; %d published, %d confirmed; "
              "consumer got %d, acked %d; drained q=%d q1=%d q2=%d" % (
                  self.r + 1, delay, sent, confirmed, len(received),
                  sum(received.values()), len(got["q"]), len(got["q1"]),
                  len(got["q2"])), flush=True)
        bypub = {p.pub: p for p in pubs}
        self.totals["confirmed"] += confirmed
        self.totals["received"] += len(received)
        self.totals["unacked_confirmed"] += sum(
            1 for (q, pub, seq), acked in received.items()
            if not acked and seq in bypub[pub].confirmed)
        for p in pubs:
            if p.nacked:
                raise AssertionError("publisher %d: nacked %r"
                                     % (p.pub, sorted(p.nacked)[:10]))
        for qk in ("q", "q1", "q2"):
            self.check_queue(qk, pubs, bypub, received, got[qk],
                             cons is not None)

    def check_queue(self, qk, pubs, bypub, received, got, consumed):
        qname = self.names[qk]
        target = "q" if qk == "q" else "fanout"
        seen = set()
        last = {}
        for i, (h, body, redelivered, mode) in enumerate(got):
            where = "%s message %d (headers %r, redelivered %r)" % (
                qname, i, h, redelivered)
            pub, seq = h.get("pub"), h.get("seq")
            if pub not in bypub or seq not in bypub[pub].sent:
                raise AssertionError("%s: never published" % where)
            tgt, size, sha = bypub[pub].sent[seq]
            if tgt != target:
                raise AssertionError("%s: published to %s" % (where, tgt))
            if (pub, seq) in seen:
                raise AssertionError("%s: twice in the queue" % where)
            seen.add((pub, seq))
            if len(body) != size or h.get("size") != size:
                raise AssertionError("%s: %d bytes, published %d" % (
                    where, len(body), size))
            if hashlib.sha256(body).hexdigest() != sha or \
                    h.get("sha256") != sha:
                raise AssertionError("%s: body differs from what was "
                                     "published" % where)
            if size >= 12 and body[:12] != struct.pack(">4sII", b"WRN!",
                                                       pub, seq):
                raise AssertionError("%s: body head %r" % (where, body[:12]))
            if mode != 2:
                raise AssertionError("%s: delivery_mode %r" % (where, mode))
            if seq <= last.get(pub, 0):
                raise AssertionError("%s: seq %d after %d: out of order"
                                     % (where, seq, last[pub]))
            last[pub] = seq
            key = (qname, pub, seq)
            if key in received and not redelivered:
                self.totals["redelivered_missing"] += 1
                self.totals.setdefault("redelivered_example", (
                    "round %d: %s: the consumer had it (%s) before the "
                    "crash, but it came back with redelivered=False" % (
                        self.r + 1, where,
                        "acked" if received[key] else "unacked")))
            # After a crash Warren marks every recovered message
            # redelivered ("may have been delivered", 0-9-1): delivered
            # marks reach the disk after the deliveries, and holding
            # deliveries for them would cost every consumer an fsync.
            # So a redelivered flag without a consumer is allowed here.
        for p in pubs:
            for seq in sorted(p.confirmed):
                if p.sent[seq][0] != target or (p.pub, seq) in seen:
                    continue
                state = received.get((qname, p.pub, seq))
                if state is True:
                    continue            # acked: may or may not be back
                raise AssertionError(
                    "%s: confirmed message pub %d seq %d is missing (%s; "
                    "%d of %d confirmed messages for this queue missing)" % (
                        qname, p.pub, seq, "never delivered"
                        if state is None else "delivered, not acked",
                        sum(1 for s2 in p.confirmed
                            if p.sent[s2][0] == target and
                            (p.pub, s2) not in seen and
                            received.get((qname, p.pub, s2)) is not True),
                        sum(1 for s2 in p.confirmed
                            if p.sent[s2][0] == target)))


def main():
    skip_if_foreign(NAMES)
    seed = int(os.environ.get("DURABILITY_SEED") or
               random.SystemRandom().getrandbits(32))
    rng = random.Random(seed)
    w = Warren(prefix="warren-crash-")
    tap = Tap(NAMES, w)
    tap.plan()
    tap.comment("seed %d (DURABILITY_SEED=%d replays it)" % (seed, seed))
    totals = collections.Counter()
    for r in range(ROUNDS):
        rd = Round(w, r, rng, totals)
        tap.run(NAMES[r], rd.run, timeout=40)
        if w.running():
            w.kill()

    def redelivered():
        if totals["redelivered_missing"]:
            raise AssertionError(
                "%d messages the consumer had before a crash came back "
                "with redelivered=False, e.g. %s" % (
                    totals["redelivered_missing"],
                    totals["redelivered_example"]))
    # Every message a consumer had before a crash comes back redelivered
    # (Warren flags all recovered messages after a crash).
    redelivered_todo = None
    try:
        redelivered()
        tap.ok(NAMES[ROUNDS])
    except AssertionError as e:
        tap.not_ok(NAMES[ROUNDS], str(e),
                   " # TODO " + redelivered_todo if redelivered_todo
                   else "")

    def enough():
        if totals["confirmed"] < 500:
            raise AssertionError("only %d confirms over %d rounds: the kills "
                                 "came too early to test much"
                                 % (totals["confirmed"], ROUNDS))
        if totals["unacked_confirmed"] < 10:
            raise AssertionError("the consumer held only %d confirmed, "
                                 "unacked messages at the kills"
                                 % totals["unacked_confirmed"])
    tap.run(NAMES[ROUNDS + 1], enough)
    finish()


if __name__ == "__main__":
    main()
