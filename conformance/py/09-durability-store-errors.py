"""Store errors: what warrend does when its store cannot be used.

  - a second warrend on the same data directory exits non-zero ("in use by
    another warrend") and the first keeps working; the lock goes with the
    process, so a start after SIGKILL works;
  - a store written by a newer version (PRAGMA user_version 99), a file
    whose header is garbage, a file of garbage, a store with a corrupt
    page: warrend exits non-zero with a message that says what is wrong,
    and leaves the file as it was;
  - the disk fills up while publishers with confirms are at work (a small
    tmpfs as the data directory, which needs root and mount(2)): no
    confirms while commits fail, connection.blocked for clients that
    announce the capability (and no such method for a client that does
    not), nothing confirmed is lost; once space is freed the commits
    resume, the confirms that waited arrive and connection.unblocked is
    sent.

Warren only: it starts and breaks its own brokers.
"""
import hashlib
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time

import amqp
import pika

import rawamqp as raw
from py_util import eq, drain
from warren_proc import Warren, Tap, Skip, commit_barrier, \
    skip_if_foreign, port_open, finish

PERSISTENT = pika.BasicProperties(delivery_mode=2)


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def seeded(prefix):
    """A stopped warrend whose store holds a durable queue with messages."""
    w = Warren(prefix=prefix)
    w.start()
    c = w.pika()
    ch = c.channel()
    ch.queue_declare("se-q", durable=True)
    ch.confirm_delivery()
    for i in range(200):
        ch.basic_publish("", "se-q", b"m%d-" % i + os.urandom(2000),
                         PERSISTENT)
    c.close()
    w.stop()
    return w


def refused_start(w, pattern, what):
    """warrend on w's data directory must exit non-zero, saying pattern,
    without listening, and without changing warren.db."""
    db = os.path.join(w.datadir, "warren.db")
    before = sha(db)
    rc, out, port = w.run_to_exit()
    if rc == 0:
        raise AssertionError("warrend started on %s (exit 0):\n%s"
                             % (what, out))
    if not re.search(pattern, out):
        raise AssertionError("exit %d; the output does not match %r:\n%s"
                             % (rc, pattern, out))
    if "listening on" in out or "ready" in out:
        raise AssertionError("warrend listened before refusing:\n%s" % out)
    return before, sha(db), out


def second_warrend_refused():
    w = Warren(prefix="warren-lock-")
    w.start()
    rc, out, port = w.run_to_exit()
    if rc == 0 or "in use by another warrend" not in out:
        raise AssertionError("second warrend: exit %d:\n%s" % (rc, out))
    if port_open(port):
        raise AssertionError("the second warrend's port is open")
    if not w.running():
        raise AssertionError("the first warrend died:\n" + w.log_tail())
    c = w.pika()
    ch = c.channel()
    ch.queue_declare("lock-q", durable=True)
    ch.confirm_delivery()
    ch.basic_publish("", "lock-q", b"still works", PERSISTENT)
    eq(drain(ch, "lock-q"), [b"still works"], "the first warrend")
    c.close()
    w.stop()
    w.cleanup()


def lock_released_by_kill():
    w = Warren(prefix="warren-lock-")
    w.start(wrapped=False)
    c = w.pika()
    commit_barrier(c)
    c.close()
    w.kill()
    if not os.path.exists(os.path.join(w.datadir, "warrend.lock")):
        raise AssertionError("no lock file in the data directory")
    w.start()           # the lock file is there, its flock went with -9
    w.stop()
    w.cleanup()


def newer_version_refused():
    w = seeded("warren-version-")
    db = os.path.join(w.datadir, "warren.db")
    con = sqlite3.connect(db)
    eq(con.execute("PRAGMA user_version").fetchone()[0], 4,
       "the version warrend writes")
    con.execute("PRAGMA user_version = 99")
    con.commit()
    con.close()
    before, after, out = refused_start(w, r"warren\.db.*version 99",
                                       "a version 99 store")
    eq(after, before, "warren.db after the refused start")
    # Untouched indeed: back at version 1 it opens with everything in it.
    con = sqlite3.connect(db)
    con.execute("PRAGMA user_version = 1")
    con.commit()
    con.close()
    w.start()
    c = w.pika()
    eq(c.channel().queue_declare("se-q", passive=True).method.message_count,
       200, "messages after the refused start")
    c.close()
    w.stop()
    w.cleanup()


def garbage_header_refused():
    w = seeded("warren-header-")
    db = os.path.join(w.datadir, "warren.db")
    with open(db, "r+b") as f:
        f.write(b"\xde\xad" * 50)
    before, after, out = refused_start(
        w, r"warren\.db.*(not a Warren store|not a database|corrupt|"
        r"malformed)", "a store with a garbage header")
    eq(after, before, "warren.db after the refused start")
    w.cleanup()


def garbage_file_refused():
    w = Warren(prefix="warren-garbage-")
    os.makedirs(w.datadir)
    with open(os.path.join(w.datadir, "warren.db"), "wb") as f:
        f.write(os.urandom(16384))
    before, after, out = refused_start(
        w, r"warren\.db.*(not a Warren store|not a database|corrupt|"
        r"malformed)", "a file of garbage")
    eq(after, before, "warren.db after the refused start")
    w.cleanup()


_corrupt = {}


def corrupt_page_refused():
    """Garbage over the root page of queue_msg, which recovery reads."""
    w = seeded("warren-page-")
    db = os.path.join(w.datadir, "warren.db")
    con = sqlite3.connect(db)
    page = con.execute("PRAGMA page_size").fetchone()[0]
    root = con.execute("SELECT rootpage FROM sqlite_master WHERE name = "
                       "'queue_msg'").fetchone()[0]
    con.close()
    with open(db, "r+b") as f:
        f.seek((root - 1) * page)
        f.write(os.urandom(page))
    before, after, out = refused_start(
        w, r"warren\.db.*(malformed|corrupt|not a database)",
        "a store with a corrupt page")
    _corrupt.update(before=before, after=after)
    w.cleanup()


def corrupt_page_file_unchanged():
    if not _corrupt:
        raise AssertionError("the previous case did not get that far")
    eq(_corrupt["after"], _corrupt["before"],
       "warren.db after warrend refused it (sha256)")


# Disk full ------------------------------------------------------------------


class Tmpfs:
    """A small tmpfs mounted for the test, or Skip."""

    def __init__(self, size):
        if os.geteuid() != 0:
            raise Skip("needs root to mount a small tmpfs")
        self.root = tempfile.mkdtemp(prefix="warren-full-")
        self.path = os.path.join(self.root, "fs")
        os.mkdir(self.path)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size,
                            "tmpfs", self.path], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        if r.returncode != 0:
            shutil.rmtree(self.root, ignore_errors=True)
            raise Skip("cannot mount a tmpfs here: %s"
                       % r.stdout.decode(errors="replace").strip())

    def free(self):
        st = os.statvfs(self.path)
        return st.f_bavail * st.f_frsize

    def fill(self, leave):
        """A file taking all but leave bytes."""
        self.filler = os.path.join(self.path, "filler")
        left = self.free() - leave
        chunk = b"\0" * (1 << 20)
        with open(self.filler, "wb") as f:
            while left > 0:
                n = min(left, len(chunk))
                f.write(chunk[:n])
                left -= n

    def unmount(self):
        r = subprocess.run(["umount", self.path], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        if r.returncode != 0:
            subprocess.run(["umount", "-l", self.path])
        shutil.rmtree(self.root, ignore_errors=True)


class Publisher:
    """py-amqp, confirms and connection.blocked, driven from this thread."""

    def __init__(self, w, queue):
        self.blocked = []
        self.unblocked = 0
        self.conn = w.pyamqp(on_blocked=self.blocked.append,
                             on_unblocked=self.on_unblocked)
        self.ch = self.conn.channel()
        self.ch.confirm_select()
        self.ch.events["basic_ack"].add(self.on_ack)
        self.ch.events["basic_nack"].add(self.on_nack)
        self.queue = queue
        self.bodies = {}
        self.unconfirmed = []
        self.confirmed = set()
        self.nacked = set()
        self.seq = 0

    def on_unblocked(self):
        self.unblocked += 1

    def on_ack(self, tag, multiple):
        for s in [s for s in self.unconfirmed if s == tag or
                  (multiple and s < tag)]:
            self.unconfirmed.remove(s)
            self.confirmed.add(s)

    def on_nack(self, tag, multiple):
        for s in [s for s in self.unconfirmed if s == tag or
                  (multiple and s < tag)]:
            self.unconfirmed.remove(s)
            self.nacked.add(s)

    def publish(self, size=65536):
        self.seq += 1
        body = b"%08d" % self.seq + os.urandom(size - 8)
        self.bodies[self.seq] = body
        self.unconfirmed.append(self.seq)
        self.ch.basic_publish(amqp.Message(body, delivery_mode=2),
                              routing_key=self.queue)

    def poll(self, timeout=0.01):
        try:
            while True:
                self.conn.drain_events(timeout=timeout)
                timeout = 0.001
        except socket.timeout:
            pass


def wait(cond, timeout, what, poll=None):
    end = time.time() + timeout
    while not cond():
        if time.time() > end:
            raise AssertionError("timed out (%g s) waiting for %s"
                                 % (timeout, what))
        if poll:
            poll()
        else:
            time.sleep(0.01)


def disk_full():
    fs = Tmpfs("8m")
    w = None
    try:
        w = Warren(prefix="warren-full-log-",
                   datadir=os.path.join(fs.path, "data"))
        w.start(wrapped=False)
        q = "full-q"
        c = w.pika()
        c.channel().queue_declare(q, durable=True)
        commit_barrier(c)
        c.close()
        pub = Publisher(w, q)
        # A client without the connection.blocked capability.
        rc = raw.Conn(w)
        rc.send_header()
        rc.expect_start()
        rc.send_start_ok(client_properties={
            "product": "no-blocked-capability",
            "capabilities": {"publisher_confirms": True}})
        rc.expect_tune()
        rc.send_tune_ok()
        rc.send_open()
        rc.expect_method(raw.CONNECTION_OPEN_OK, 0)
        rc.open_channel(1)
        rc.send_method(1, raw.CONFIRM_SELECT, raw.bits(False))
        rc.expect_method(raw.CONFIRM_SELECT_OK, 1)

        fs.fill(leave=256 * 1024)
        # Publish until the broker says it is blocked, a few at a time.
        wait(lambda: pub.blocked, 20, "connection.blocked",
             lambda: (pub.publish() if len(pub.unconfirmed) < 6 else None,
                      pub.poll()))
        if "commit failed" not in w.log():
            raise AssertionError("blocked, but no failed commit in the log")
        # The client without the capability publishes now: it is blocked
        # too, silently, and its message waits like the others.
        rc.publish(1, b"raw persistent", routing_key=q, delivery_mode=2)

        def failures():
            return w.log().count("commit failed")
        # A failed commit is retried every second: between two retries
        # nothing may be confirmed.
        n = failures()
        wait(lambda: failures() > n, 10, "a retried commit", pub.poll)
        n = failures()
        before = set(pub.confirmed)
        pending = list(pub.unconfirmed)
        if not pending:
            raise AssertionError("blocked with nothing waiting for a "
                                 "confirm")
        wait(lambda: failures() > n, 10, "another retried commit", pub.poll)
        eq(pub.confirmed, before, "confirms while commits fail")
        print("# disk full after %d messages of 64 KiB; %d confirmed, %d "
              "waiting; the log says: %s" % (
                  pub.seq, len(pub.confirmed), len(pub.unconfirmed),
                  re.search(r"commit failed: [^;]*", w.log()).group(0)),
              flush=True)
        eq(pub.nacked, set(), "nacks")
        try:
            f = rc.recv_frame(timeout=0.05)
            raise AssertionError("client without the capability got %r" % f)
        except raw.Timeout:
            pass

        os.remove(fs.filler)
        wait(lambda: pub.unblocked, 20, "connection.unblocked", pub.poll)
        wait(lambda: not pub.unconfirmed, 20, "the confirms that waited",
             pub.poll)
        eq(pub.nacked, set(), "nacks")
        f = rc.recv_frame(timeout=10)
        if not f.is_method(raw.BASIC_ACK, 1):
            raise AssertionError("client without the capability got %r, "
                                 "expected basic.ack" % f)
        eq(len(pub.blocked), 1, "connection.blocked methods")
        # And on it goes.
        for _ in range(5):
            pub.publish(1000)
        wait(lambda: not pub.unconfirmed, 10, "confirms after recovery",
             pub.poll)
        rc.close_socket()

        # Nothing confirmed is lost, even with a crash now.
        w.kill()
        w.start()
        c = w.pika()
        got = drain(c.channel(), q)
        c.close()
        raw_body = b"raw persistent"
        if raw_body not in got:
            raise AssertionError("the raw client's confirmed message is "
                                 "missing")
        got.remove(raw_body)
        want = [pub.bodies[s] for s in sorted(pub.confirmed)]
        if got != want:
            raise AssertionError("after the restart: %d messages, %d "
                                 "confirmed; first difference at %r" % (
                                     len(got), len(want), next(
                                         (i for i, (a, b) in enumerate(
                                             zip(got, want)) if a != b),
                                         min(len(got), len(want)))))
        w.stop()
    finally:
        if w is not None and w.running():
            w.kill()
        fs.unmount()
        if w is not None:
            w.cleanup()


CASES = [
    ("second_warrend_on_same_dir_refused", second_warrend_refused, None),
    ("lock_released_when_killed", lock_released_by_kill, None),
    ("newer_store_version_refused_file_unchanged", newer_version_refused,
     None),
    ("garbage_header_refused_file_unchanged", garbage_header_refused, None),
    ("garbage_file_refused_file_unchanged", garbage_file_refused, None),
    ("corrupt_page_refused", corrupt_page_refused, None),
    ("corrupt_page_file_unchanged", corrupt_page_file_unchanged, None),
    ("disk_full_blocks_then_recovers", disk_full, None),
]
NAMES = [name for name, _, _ in CASES]


def main():
    skip_if_foreign(NAMES)
    tap = Tap(NAMES)
    tap.plan()
    for name, fn, todo in CASES:
        tap.run(name, fn, timeout=60, todo=todo)
    finish()


if __name__ == "__main__":
    main()
