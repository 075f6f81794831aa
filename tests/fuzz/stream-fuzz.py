#!/usr/bin/python3
"""tests/fuzz/stream-fuzz.py: mutated AMQP sessions against a running broker.

Each round builds a well-formed session (handshake, channels, queue.declare,
basic.consume, publishes of 0 B to 300 KB split into body frames, acks,
channel.close), mutates it (mostly frame by frame, keeping the framing
valid: payload octets, dropped, duplicated, swapped or truncated frames,
other channels and frame types; sometimes raw octets), and sends it in
pieces of random size on a new connection.  At the end the broker must
still serve a clean round trip (declare, publish, get).  Run it against a
warrend of the ASan+UBSan build to catch memory errors:

    .build-asan/src/warrend --listen 127.0.0.1:5697 --data-dir /tmp/fz &
    tests/fuzz/stream-fuzz.py --port 5697 --seconds 300

Progress on stderr every 10 s; exit 1 if the broker stops answering.
"""
import argparse
import os
import random
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "conformance", "lib"))
import rawamqp as R  # noqa: E402
from rawamqp import method_frame as mf  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--host", default="127.0.0.1")
ap.add_argument("--port", type=int, default=5672)
ap.add_argument("--seconds", type=float, default=60)
ap.add_argument("--seed", type=int, default=1)
opts = ap.parse_args()
rng = random.Random(opts.seed)


def session():
    out = [b"AMQP\x00\x00\x09\x01"]
    out.append(mf(0, R.CONNECTION_START_OK, R.start_ok_args()))
    out.append(mf(0, R.CONNECTION_TUNE_OK, R.tune_ok_args(2047, 131072, 0)))
    out.append(mf(0, R.CONNECTION_OPEN, R.open_args("/")))
    nch = rng.randint(1, 3)
    for ch in range(1, nch + 1):
        out.append(mf(ch, R.CHANNEL_OPEN, R.channel_open_args()))
        q = "fz%d" % rng.randint(0, 5)
        out.append(mf(ch, R.QUEUE_DECLARE, R.queue_declare_args(q)))
        if rng.random() < 0.5:
            out.append(mf(ch, R.BASIC_CONSUME, R.basic_consume_args(q, no_ack=rng.random() < 0.5)))
        for _ in range(rng.randint(1, 6)):
            size = rng.choice([0, 1, 100, 4095, 4096, 5000, 70000, 131064, 131065, 300000])
            body = rng.randbytes(16) * (size // 16) + b"x" * (size % 16)
            out.append(R.publish_frames(ch, body, "", q, frame_max=131072))
        if rng.random() < 0.3:
            out.append(mf(ch, R.BASIC_ACK, R.basic_ack_args(rng.randint(0, 20), multiple=True)))
        if rng.random() < 0.3:
            out.append(mf(ch, R.CHANNEL_CLOSE, R.close_args()))
    return b"".join(out)

def split_frames(data):
    frames = []
    pos = 8
    while pos + 7 <= len(data):
        t, ch, size = data[pos], int.from_bytes(data[pos+1:pos+3], "big"), int.from_bytes(data[pos+3:pos+7], "big")
        frames.append([t, ch, bytearray(data[pos+7:pos+7+size])])
        pos += 8 + size
    return data[:8], frames

def mutate_frames(data):
    head, fr = split_frames(data)
    for _ in range(rng.randint(1, 4)):
        if len(fr) <= 4:
            break
        i = rng.randrange(4, len(fr))  # keep the handshake
        k = rng.random()
        if k < 0.35 and fr[i][2]:
            p = fr[i][2]
            j = rng.randrange(len(p))
            p[j] = rng.choice([0, 1, 0xff, 0x7f, 0x80, rng.randrange(256)])
        elif k < 0.45:
            del fr[i]
        elif k < 0.55:
            fr.insert(i, [fr[i][0], fr[i][1], bytearray(fr[i][2])])
        elif k < 0.65:
            j = rng.randrange(4, len(fr)); fr[i], fr[j] = fr[j], fr[i]
        elif k < 0.75:
            fr[i][1] = rng.choice([0, 1, 2, 3, 65535])
        elif k < 0.85:
            fr[i][0] = rng.choice([1, 2, 3, 8, 9])
        elif fr[i][2]:
            cut = rng.randrange(len(fr[i][2]))
            fr[i][2] = fr[i][2][:cut]
    out = [head]
    for t, ch, p in fr:
        out.append(bytes([t]) + ch.to_bytes(2, "big") + len(p).to_bytes(4, "big") + bytes(p) + b"\xce")
    return b"".join(out)

def mutate(data):
    if rng.random() < 0.8:
        return mutate_frames(data)
    data = bytearray(data)
    hdr = 8 + 400  # leave the handshake mostly alone
    for _ in range(rng.randint(0, 4)):
        kind = rng.random()
        if len(data) <= hdr + 1:
            break
        i = rng.randrange(hdr, len(data))
        if kind < 0.4:
            data[i] = rng.randrange(256)
        elif kind < 0.6:
            del data[i:i + rng.randint(1, 16)]
        elif kind < 0.8:
            data[i:i] = rng.randbytes(rng.randint(1, 16))
        else:
            j = rng.randrange(hdr, len(data))
            data[i:i] = data[j:j + rng.randint(1, 64)]
    return bytes(data)


class Broker:
    host = opts.host
    port = opts.port
    vhost = "/"
    user = "guest"
    password = "guest"


def send_session(data):
    try:
        s = socket.create_connection((opts.host, opts.port), timeout=2)
    except OSError as e:
        sys.exit("stream-fuzz: cannot connect: %s" % e)
    try:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pos = 0
        while pos < len(data):
            k = rng.choice([1, 7, 8, 100, 4096, 65536, 1 << 20])
            s.sendall(data[pos:pos + k])
            pos += k
            if rng.random() < 0.05:
                time.sleep(0.001)
        s.settimeout(0.05)
        while s.recv(1 << 20):
            pass
    except OSError:
        pass  # the broker closed a bad connection: expected
    finally:
        s.close()


end = time.time() + opts.seconds
last = time.time()
n = 0
while time.time() < end:
    send_session(mutate(session()))
    n += 1
    if time.time() - last >= 10:
        print("stream-fuzz: %d sessions" % n, file=sys.stderr)
        last = time.time()
try:
    c = R.connect(Broker())
    c.roundtrip()
    c.close()
except Exception as e:  # noqa: BLE001
    print("stream-fuzz: broker failed after %d sessions: %r" % (n, e))
    sys.exit(1)
print("stream-fuzz: %d sessions (seed %d), then a clean round trip" %
      (n, opts.seed))
