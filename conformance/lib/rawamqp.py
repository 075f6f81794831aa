"""A small raw AMQP 0-9-1 client on a plain socket, for conformance tests.

No client library: the tests build every octet themselves so they can send
malformed and out-of-order input.  Pieces:

  - field encoders: octet, short, long_, longlong, shortstr, longstr, table,
    array, field_value (every 0-9-1/RabbitMQ field type), bits
  - a decoder (Decoder) for the same types, and for server methods
  - frame builders: frame, method_frame, header_frame, body_frame,
    heartbeat_frame, and argument builders for the client methods
  - Conn: a socket with a deadline on every read, the handshake split in
    steps, and expectations (expect_method, expect_connection_close,
    expect_channel_close, expect_closed)
  - Witness: a well-behaved connection opened before a bad one, which must
    keep working (declare a queue, publish, get the message back)
  - concurrent_test: like harness.test, for cases that wait on the broker
    (RabbitMQ delays some closes by 3 s); they run side by side
  - RAWAMQP_TRACE=file: every close the broker sends and every socket close
    is appended there as JSON, named after the test, to tabulate replies

Every wait has a deadline: a broker that hangs makes the test fail, never
hang.
"""
import decimal
import os
import select
import socket
import struct
import time

PROTOCOL_HEADER = b"AMQP\x00\x00\x09\x01"

FRAME_METHOD = 1
FRAME_HEADER = 2
FRAME_BODY = 3
FRAME_HEARTBEAT = 8
FRAME_END = 0xCE
FRAME_MIN_SIZE = 4096

REPLY_SUCCESS = 200
CONTENT_TOO_LARGE = 311
NO_ROUTE = 312
NO_CONSUMERS = 313
CONNECTION_FORCED = 320
INVALID_PATH = 402
ACCESS_REFUSED = 403
NOT_FOUND = 404
RESOURCE_LOCKED = 405
PRECONDITION_FAILED = 406
FRAME_ERROR = 501
SYNTAX_ERROR = 502
COMMAND_INVALID = 503
CHANNEL_ERROR = 504
UNEXPECTED_FRAME = 505
RESOURCE_ERROR = 506
NOT_ALLOWED = 530
NOT_IMPLEMENTED = 540
INTERNAL_ERROR = 541

# Class ids.
CONNECTION = 10
CHANNEL = 20
EXCHANGE = 40
QUEUE = 50
BASIC = 60
CONFIRM = 85
TX = 90

# (class, method) pairs.
CONNECTION_START = (10, 10)
CONNECTION_START_OK = (10, 11)
CONNECTION_SECURE = (10, 20)
CONNECTION_SECURE_OK = (10, 21)
CONNECTION_TUNE = (10, 30)
CONNECTION_TUNE_OK = (10, 31)
CONNECTION_OPEN = (10, 40)
CONNECTION_OPEN_OK = (10, 41)
CONNECTION_CLOSE = (10, 50)
CONNECTION_CLOSE_OK = (10, 51)
CONNECTION_BLOCKED = (10, 60)
CONNECTION_UNBLOCKED = (10, 61)
CHANNEL_OPEN = (20, 10)
CHANNEL_OPEN_OK = (20, 11)
CHANNEL_FLOW = (20, 20)
CHANNEL_FLOW_OK = (20, 21)
CHANNEL_CLOSE = (20, 40)
CHANNEL_CLOSE_OK = (20, 41)
EXCHANGE_DECLARE = (40, 10)
EXCHANGE_DECLARE_OK = (40, 11)
EXCHANGE_DELETE = (40, 20)
EXCHANGE_DELETE_OK = (40, 21)
EXCHANGE_BIND = (40, 30)
EXCHANGE_BIND_OK = (40, 31)
EXCHANGE_UNBIND = (40, 40)
EXCHANGE_UNBIND_OK = (40, 51)
QUEUE_DECLARE = (50, 10)
QUEUE_DECLARE_OK = (50, 11)
QUEUE_BIND = (50, 20)
QUEUE_BIND_OK = (50, 21)
QUEUE_PURGE = (50, 30)
QUEUE_PURGE_OK = (50, 31)
QUEUE_DELETE = (50, 40)
QUEUE_DELETE_OK = (50, 41)
QUEUE_UNBIND = (50, 50)
QUEUE_UNBIND_OK = (50, 51)
BASIC_QOS = (60, 10)
BASIC_QOS_OK = (60, 11)
BASIC_CONSUME = (60, 20)
BASIC_CONSUME_OK = (60, 21)
BASIC_CANCEL = (60, 30)
BASIC_CANCEL_OK = (60, 31)
BASIC_PUBLISH = (60, 40)
BASIC_RETURN = (60, 50)
BASIC_DELIVER = (60, 60)
BASIC_GET = (60, 70)
BASIC_GET_OK = (60, 71)
BASIC_GET_EMPTY = (60, 72)
BASIC_ACK = (60, 80)
BASIC_REJECT = (60, 90)
BASIC_RECOVER_ASYNC = (60, 100)
BASIC_RECOVER = (60, 110)
BASIC_RECOVER_OK = (60, 111)
BASIC_NACK = (60, 120)
CONFIRM_SELECT = (85, 10)
CONFIRM_SELECT_OK = (85, 11)
TX_SELECT = (90, 10)
TX_SELECT_OK = (90, 11)
TX_COMMIT = (90, 20)
TX_COMMIT_OK = (90, 21)
TX_ROLLBACK = (90, 30)
TX_ROLLBACK_OK = (90, 31)

METHOD_NAMES = {
    v: k.lower().replace("_", ".", 1).replace("_", "-")
    for k, v in list(globals().items())
    if isinstance(v, tuple) and len(v) == 2 and k.isupper()
}

DEFAULT_TIMEOUT = 5.0


def _trace(event, **kw):
    """With RAWAMQP_TRACE=file, note what the broker did (one JSON line per
    event, named after the test function), to tabulate a broker's replies."""
    path = os.environ.get("RAWAMQP_TRACE")
    if not path:
        return
    import inspect
    import json
    name = "?"
    for fi in inspect.stack()[1:]:
        if (fi.frame.f_globals.get("__name__") == "__main__" and
                fi.function not in ("<module>", "run")):
            name = fi.function
    kw.update(test=name, event=event)
    with open(path, "a") as f:
        f.write(json.dumps(kw) + "\n")


class ProtocolError(AssertionError):
    """The broker said or did something the test did not expect."""


class Timeout(ProtocolError):
    """Nothing (or not enough) arrived before the deadline."""


class Closed(ProtocolError):
    """The broker closed the socket."""


# ---------------------------------------------------------------------------
# Field encoders (0-9-1 section 4.2.5; field types as RabbitMQ reads them:
# https://www.rabbitmq.com/amqp-0-9-1-errata.html#section_3).

def octet(v):
    return struct.pack(">B", v)


def short(v):
    return struct.pack(">H", v)


def long_(v):
    return struct.pack(">I", v)


def longlong(v):
    return struct.pack(">Q", v)


def _b(s):
    return s.encode("utf-8") if isinstance(s, str) else bytes(s)


def shortstr(s, length=None):
    """A short string; length overrides the length octet (for bad input)."""
    s = _b(s)
    n = len(s) if length is None else length
    if length is None and n > 255:
        raise ValueError("shortstr longer than 255 octets")
    return struct.pack(">B", n) + s


def longstr(s, length=None):
    """A long string; length overrides the length field (for bad input)."""
    s = _b(s)
    return struct.pack(">I", len(s) if length is None else length) + s


def bits(*flags):
    """Consecutive bit fields packed into octets, first flag in bit 0."""
    out = b""
    for i in range(0, max(len(flags), 1), 8):
        v = 0
        for j, f in enumerate(flags[i:i + 8]):
            if f:
                v |= 1 << j
        out += octet(v)
    return out


class Typed:
    """A field value with an explicit type octet, e.g. Typed("b", -3)."""

    def __init__(self, type_octet, value):
        self.type = type_octet
        self.value = value

    def __eq__(self, other):
        return (isinstance(other, Typed) and self.type == other.type and
                self.value == other.value)

    def __repr__(self):
        return "Typed(%r, %r)" % (self.type, self.value)


def field_value(v):
    """Encode one field value: type octet then value.

    Python types map to t (bool), l (int), d (float), S (str/bytes),
    F (dict), A (list), V (None), D (Decimal); Typed(t, v) picks any type:
    t b B s u I i l L f d D S x A T F V.
    """
    if isinstance(v, Typed):
        t, x = v.type, v.value
    elif isinstance(v, bool):
        t, x = "t", v
    elif isinstance(v, int):
        t, x = "l", v
    elif isinstance(v, float):
        t, x = "d", v
    elif isinstance(v, (str, bytes, bytearray)):
        t, x = "S", v
    elif isinstance(v, dict):
        t, x = "F", v
    elif isinstance(v, (list, tuple)):
        t, x = "A", v
    elif v is None:
        t, x = "V", None
    elif isinstance(v, decimal.Decimal):
        t, x = "D", v
    else:
        raise TypeError("cannot encode %r" % (v,))
    tb = t.encode() if isinstance(t, str) else bytes(t)
    if t == "t":
        body = octet(1 if x else 0)
    elif t == "b":
        body = struct.pack(">b", x)
    elif t == "B":
        body = struct.pack(">B", x)
    elif t == "s":
        body = struct.pack(">h", x)
    elif t == "u":
        body = struct.pack(">H", x)
    elif t == "I":
        body = struct.pack(">i", x)
    elif t == "i":
        body = struct.pack(">I", x)
    elif t == "l":
        body = struct.pack(">q", x)
    elif t == "L":
        body = struct.pack(">Q", x)
    elif t == "f":
        body = struct.pack(">f", x)
    elif t == "d":
        body = struct.pack(">d", x)
    elif t == "D":
        if isinstance(x, tuple):
            scale, value = x
        else:
            sign, digits, exp = x.as_tuple()
            value = int("".join(map(str, digits)) or "0")
            if sign:
                value = -value
            scale = -exp if exp < 0 else 0
            if exp > 0:
                value *= 10 ** exp
        body = struct.pack(">Bi", scale, value)
    elif t in ("S", "x"):
        body = longstr(x)
    elif t == "A":
        body = array(x)
    elif t == "T":
        body = struct.pack(">Q", x)
    elif t == "F":
        body = table(x)
    elif t == "V":
        body = b""
    else:
        # Unknown type octet: the value is raw bytes (for bad input).
        body = _b(x) if x is not None else b""
    return tb + body


def table_items(d):
    """The items of a table (without its length)."""
    items = d.items() if isinstance(d, dict) else d
    return b"".join(shortstr(k) + field_value(v) for k, v in items)


def table(d, length=None):
    """A field table from a dict (or a list of pairs, to keep duplicates).

    length overrides the length field (for bad input).
    """
    data = table_items(d or {})
    return long_(len(data) if length is None else length) + data


def array(items, length=None):
    data = b"".join(field_value(v) for v in items)
    return long_(len(data) if length is None else length) + data


# ---------------------------------------------------------------------------
# Decoder.

class Decoder:
    """Read AMQP fields from a bytes object, left to right."""

    def __init__(self, data, pos=0):
        self.data = bytes(data)
        self.pos = pos
        self._bits = None
        self._bitpos = 0

    def _take(self, n):
        if self.pos + n > len(self.data):
            raise ProtocolError("truncated: need %d octets at %d of %r" %
                                (n, self.pos, self.data))
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        self._bits = None
        return b

    def unpack(self, fmt):
        return struct.unpack(fmt, self._take(struct.calcsize(fmt)))[0]

    def octet(self):
        return self.unpack(">B")

    def short(self):
        return self.unpack(">H")

    def long_(self):
        return self.unpack(">I")

    def longlong(self):
        return self.unpack(">Q")

    def shortstr(self):
        n = self.octet()
        return self._take(n).decode("utf-8", "replace")

    def longstr(self):
        n = self.long_()
        return self._take(n)

    def bit(self):
        if self._bits is None or self._bitpos == 8:
            v = self._take(1)[0]
            self._bits, self._bitpos = v, 0
        v = bool(self._bits & (1 << self._bitpos))
        self._bitpos += 1
        return v

    def table(self):
        n = self.long_()
        end = self.pos + n
        if end > len(self.data):
            raise ProtocolError("table runs past the end")
        out = {}
        while self.pos < end:
            k = self.shortstr()
            out[k] = self.field_value()
        return out

    def array(self):
        n = self.long_()
        end = self.pos + n
        out = []
        while self.pos < end:
            out.append(self.field_value())
        return out

    def field_value(self):
        t = chr(self.octet())
        simple = {"b": ">b", "B": ">B", "s": ">h", "u": ">H", "I": ">i",
                  "i": ">I", "l": ">q", "L": ">Q", "f": ">f", "d": ">d",
                  "T": ">Q"}
        if t == "t":
            return bool(self.octet())
        if t in simple:
            return self.unpack(simple[t])
        if t == "D":
            scale = self.octet()
            value = self.unpack(">i")
            return decimal.Decimal(value).scaleb(-scale)
        if t in ("S", "x"):
            return self.longstr()
        if t == "A":
            return self.array()
        if t == "F":
            return self.table()
        if t == "V":
            return None
        raise ProtocolError("unknown field type %r" % t)

    def rest(self):
        b = self.data[self.pos:]
        self.pos = len(self.data)
        return b


# Argument layouts of the methods a server sends, for decoding.
_SERVER_ARGS = {
    CONNECTION_START: [("version_major", "octet"), ("version_minor", "octet"),
                       ("server_properties", "table"),
                       ("mechanisms", "longstr"), ("locales", "longstr")],
    CONNECTION_SECURE: [("challenge", "longstr")],
    CONNECTION_TUNE: [("channel_max", "short"), ("frame_max", "long_"),
                      ("heartbeat", "short")],
    CONNECTION_OPEN_OK: [("known_hosts", "shortstr")],
    CONNECTION_CLOSE: [("reply_code", "short"), ("reply_text", "shortstr"),
                       ("class_id", "short"), ("method_id", "short")],
    CONNECTION_CLOSE_OK: [],
    CONNECTION_BLOCKED: [("reason", "shortstr")],
    CONNECTION_UNBLOCKED: [],
    CHANNEL_OPEN_OK: [("channel_id", "longstr")],
    CHANNEL_FLOW: [("active", "bit")],
    CHANNEL_FLOW_OK: [("active", "bit")],
    CHANNEL_CLOSE: [("reply_code", "short"), ("reply_text", "shortstr"),
                    ("class_id", "short"), ("method_id", "short")],
    CHANNEL_CLOSE_OK: [],
    EXCHANGE_DECLARE_OK: [],
    EXCHANGE_DELETE_OK: [],
    EXCHANGE_BIND_OK: [],
    EXCHANGE_UNBIND_OK: [],
    QUEUE_DECLARE_OK: [("queue", "shortstr"), ("message_count", "long_"),
                       ("consumer_count", "long_")],
    QUEUE_BIND_OK: [],
    QUEUE_PURGE_OK: [("message_count", "long_")],
    QUEUE_DELETE_OK: [("message_count", "long_")],
    QUEUE_UNBIND_OK: [],
    BASIC_QOS_OK: [],
    BASIC_CONSUME_OK: [("consumer_tag", "shortstr")],
    BASIC_CANCEL: [("consumer_tag", "shortstr"), ("nowait", "bit")],
    BASIC_CANCEL_OK: [("consumer_tag", "shortstr")],
    BASIC_RETURN: [("reply_code", "short"), ("reply_text", "shortstr"),
                   ("exchange", "shortstr"), ("routing_key", "shortstr")],
    BASIC_DELIVER: [("consumer_tag", "shortstr"), ("delivery_tag", "longlong"),
                    ("redelivered", "bit"), ("exchange", "shortstr"),
                    ("routing_key", "shortstr")],
    BASIC_GET_OK: [("delivery_tag", "longlong"), ("redelivered", "bit"),
                   ("exchange", "shortstr"), ("routing_key", "shortstr"),
                   ("message_count", "long_")],
    BASIC_GET_EMPTY: [("cluster_id", "shortstr")],
    BASIC_ACK: [("delivery_tag", "longlong"), ("multiple", "bit")],
    BASIC_NACK: [("delivery_tag", "longlong"), ("multiple", "bit"),
                 ("requeue", "bit")],
    BASIC_RECOVER_OK: [],
    CONFIRM_SELECT_OK: [],
    TX_SELECT_OK: [],
    TX_COMMIT_OK: [],
    TX_ROLLBACK_OK: [],
}

# Basic properties in flag order (bit 15 first).
BASIC_PROPERTIES = [
    ("content_type", "shortstr"), ("content_encoding", "shortstr"),
    ("headers", "table"), ("delivery_mode", "octet"), ("priority", "octet"),
    ("correlation_id", "shortstr"), ("reply_to", "shortstr"),
    ("expiration", "shortstr"), ("message_id", "shortstr"),
    ("timestamp", "longlong"), ("type", "shortstr"), ("user_id", "shortstr"),
    ("app_id", "shortstr"), ("cluster_id", "shortstr"),
]


class Frame:
    """One frame read from the broker; method frames are decoded."""

    def __init__(self, ftype, channel, payload):
        self.type = ftype
        self.channel = channel
        self.payload = payload
        self.method = None  # (class, method)
        self.args = {}
        if ftype == FRAME_METHOD and len(payload) >= 4:
            self.method = struct.unpack(">HH", payload[:4])
            layout = _SERVER_ARGS.get(self.method)
            if layout is not None:
                d = Decoder(payload, 4)
                for name, kind in layout:
                    self.args[name] = getattr(d, kind)()
        elif ftype == FRAME_HEADER and len(payload) >= 14:
            d = Decoder(payload)
            self.class_id = d.short()
            d.short()
            self.body_size = d.longlong()
            flags = d.short()
            self.properties = {}
            for i, (name, kind) in enumerate(BASIC_PROPERTIES):
                if flags & (1 << (15 - i)):
                    self.properties[name] = getattr(d, kind)()

    def is_method(self, m, channel=None):
        return (self.type == FRAME_METHOD and self.method == tuple(m) and
                (channel is None or self.channel == channel))

    def __repr__(self):
        if self.type == FRAME_METHOD:
            name = METHOD_NAMES.get(self.method, str(self.method))
            return "<frame ch=%d %s %r>" % (self.channel, name, self.args)
        return "<frame type=%d ch=%d %r>" % (self.type, self.channel,
                                             self.payload[:64])


# ---------------------------------------------------------------------------
# Frame builders.

def frame(ftype, channel, payload, end=FRAME_END, size=None):
    """A frame; size and end override the length and frame-end octet."""
    payload = _b(payload)
    return (struct.pack(">BHI", ftype, channel,
                        len(payload) if size is None else size) +
            payload + bytes([end]))


def method_payload(m, args=b""):
    return struct.pack(">HH", m[0], m[1]) + _b(args)


def method_frame(channel, m, args=b"", **kw):
    return frame(FRAME_METHOD, channel, method_payload(m, args), **kw)


def basic_properties(**props):
    """Property flags and list for basic content headers."""
    flags = 0
    data = b""
    for i, (name, kind) in enumerate(BASIC_PROPERTIES):
        if name in props and props[name] is not None:
            flags |= 1 << (15 - i)
            v = props[name]
            data += {"shortstr": shortstr, "table": table, "octet": octet,
                     "longlong": longlong}[kind](v)
    unknown = set(props) - set(n for n, _ in BASIC_PROPERTIES)
    if unknown:
        raise TypeError("unknown properties %r" % unknown)
    return short(flags) + data


def header_payload(body_size, class_id=BASIC, weight=0, properties=None,
                   **props):
    """A content header payload; properties gives raw flag+list bytes."""
    if properties is None:
        properties = basic_properties(**props)
    return struct.pack(">HHQ", class_id, weight, body_size) + properties


def header_frame(channel, body_size, **kw):
    return frame(FRAME_HEADER, channel, header_payload(body_size, **kw))


def body_frame(channel, data):
    return frame(FRAME_BODY, channel, data)


def heartbeat_frame(channel=0):
    return frame(FRAME_HEARTBEAT, channel, b"")


# Argument builders for client methods.

def start_ok_args(user="guest", password="guest", mechanism="PLAIN",
                  locale="en_US", client_properties=None, response=None):
    if client_properties is None:
        client_properties = {
            "product": "warren-rawamqp",
            "capabilities": {"publisher_confirms": True,
                             "basic.nack": True,
                             "consumer_cancel_notify": True,
                             "connection.blocked": True,
                             "authentication_failure_close": True},
        }
    if response is None:
        response = b"\0" + _b(user) + b"\0" + _b(password)
    return (table(client_properties) + shortstr(mechanism) +
            longstr(response) + shortstr(locale))


def tune_ok_args(channel_max, frame_max, heartbeat):
    return short(channel_max) + long_(frame_max) + short(heartbeat)


def open_args(vhost="/"):
    return shortstr(vhost) + shortstr("") + bits(False)


def close_args(code=REPLY_SUCCESS, text="bye", class_id=0, method_id=0):
    return short(code) + shortstr(text) + short(class_id) + short(method_id)


def channel_open_args():
    return shortstr("")


def exchange_declare_args(exchange, type="direct", passive=False,
                          durable=False, auto_delete=False, internal=False,
                          nowait=False, arguments=None):
    return (short(0) + shortstr(exchange) + shortstr(type) +
            bits(passive, durable, auto_delete, internal, nowait) +
            table(arguments))


def exchange_delete_args(exchange, if_unused=False, nowait=False):
    return short(0) + shortstr(exchange) + bits(if_unused, nowait)


def queue_declare_args(queue="", passive=False, durable=False,
                       exclusive=False, auto_delete=False, nowait=False,
                       arguments=None):
    return (short(0) + shortstr(queue) +
            bits(passive, durable, exclusive, auto_delete, nowait) +
            table(arguments))


def queue_bind_args(queue, exchange, routing_key="", nowait=False,
                    arguments=None):
    return (short(0) + shortstr(queue) + shortstr(exchange) +
            shortstr(routing_key) + bits(nowait) + table(arguments))


def queue_delete_args(queue, if_unused=False, if_empty=False, nowait=False):
    return short(0) + shortstr(queue) + bits(if_unused, if_empty, nowait)


def queue_purge_args(queue, nowait=False):
    return short(0) + shortstr(queue) + bits(nowait)


def basic_qos_args(prefetch_size=0, prefetch_count=0, global_=False):
    return long_(prefetch_size) + short(prefetch_count) + bits(global_)


def basic_consume_args(queue, consumer_tag="", no_local=False, no_ack=False,
                       exclusive=False, nowait=False, arguments=None):
    return (short(0) + shortstr(queue) + shortstr(consumer_tag) +
            bits(no_local, no_ack, exclusive, nowait) + table(arguments))


def basic_publish_args(exchange="", routing_key="", mandatory=False,
                       immediate=False):
    return (short(0) + shortstr(exchange) + shortstr(routing_key) +
            bits(mandatory, immediate))


def basic_get_args(queue, no_ack=False):
    return short(0) + shortstr(queue) + bits(no_ack)


def basic_ack_args(delivery_tag, multiple=False):
    return longlong(delivery_tag) + bits(multiple)


def basic_reject_args(delivery_tag, requeue=True):
    return longlong(delivery_tag) + bits(requeue)


def basic_nack_args(delivery_tag, multiple=False, requeue=True):
    return longlong(delivery_tag) + bits(multiple, requeue)


def publish_frames(channel, body, exchange="", routing_key="",
                   mandatory=False, frame_max=131072, **props):
    """basic.publish, content header and body frames, as one bytes object."""
    body = _b(body)
    out = method_frame(channel, BASIC_PUBLISH,
                       basic_publish_args(exchange, routing_key, mandatory))
    out += header_frame(channel, len(body), **props)
    step = frame_max - 8
    for i in range(0, len(body), step):
        out += body_frame(channel, body[i:i + step])
    return out


# ---------------------------------------------------------------------------
# Connection.

class Conn:
    """A raw connection to the broker under test.

    Every read takes a timeout (DEFAULT_TIMEOUT unless given); on expiry it
    raises Timeout, on EOF Closed.
    """

    def __init__(self, broker, timeout=DEFAULT_TIMEOUT, rcvbuf=None):
        self.broker = broker
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((broker.host, broker.port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.eof = False
        self.tune = None
        self.frame_max = 131072
        self.channel_max = 2047
        self.log = []  # frames received, for failure messages

    # -- I/O ------------------------------------------------------------

    def send(self, data):
        """Send raw bytes; a reset by the broker raises Closed."""
        try:
            self.sock.sendall(_b(data))
        except (BrokenPipeError, ConnectionResetError) as e:
            raise Closed("send failed: %s" % e)

    def try_send(self, data):
        """Send raw bytes, ignoring a socket the broker already closed."""
        try:
            self.sock.sendall(_b(data))
            return True
        except OSError:
            return False

    def send_frame(self, ftype, channel, payload, **kw):
        self.send(frame(ftype, channel, payload, **kw))

    def send_method(self, channel, m, args=b""):
        self.send(method_frame(channel, m, args))

    def _fill(self, n, deadline):
        while len(self.buf) < n:
            if self.eof:
                raise Closed("connection closed by broker (have %d of %d "
                             "octets: %r); frames so far: %r" %
                             (len(self.buf), n, self.buf[:64], self.log))
            left = deadline - time.time()
            if left <= 0:
                raise Timeout("timed out waiting for %d octets (have %r); "
                              "frames so far: %r" %
                              (n, self.buf[:64], self.log))
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                data = b""
            if not data:
                self.eof = True
            self.buf += data

    def recv_bytes(self, n, timeout=None):
        """Exactly n raw octets."""
        deadline = time.time() + (self.timeout if timeout is None else timeout)
        self._fill(n, deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv_frame(self, timeout=None, skip_heartbeats=True):
        """The next frame (a Frame); heartbeats are skipped by default."""
        deadline = time.time() + (self.timeout if timeout is None else timeout)
        while True:
            self._fill(7, deadline)
            ftype, channel, size = struct.unpack(">BHI", self.buf[:7])
            if self.buf.startswith(b"AMQP"):
                raise ProtocolError("got a protocol header %r" %
                                    self.buf[:8])
            self._fill(7 + size + 1, deadline)
            payload = self.buf[7:7 + size]
            end = self.buf[7 + size]
            self.buf = self.buf[8 + size:]
            if end != FRAME_END:
                raise ProtocolError("bad frame end 0x%02x from broker" % end)
            f = Frame(ftype, channel, payload)
            self.log.append(f)
            if len(self.log) > 50:
                del self.log[:-50]
            if f.type == FRAME_HEARTBEAT and skip_heartbeats:
                continue
            return f

    def close_socket(self):
        try:
            self.sock.close()
        except OSError:
            pass

    # -- expectations ---------------------------------------------------

    def expect_method(self, m, channel=None, timeout=None):
        """The next frame must be method m (on channel, if given)."""
        f = self.recv_frame(timeout)
        if not f.is_method(m, channel):
            raise ProtocolError("expected %s on channel %s, got %r" %
                                (METHOD_NAMES.get(tuple(m), m), channel, f))
        return f

    def expect_closed(self, timeout=None, trace=True):
        """The broker must close the socket without sending anything more.

        Returns nothing; raises if a frame (or any octet) arrives first or
        the socket stays open past the deadline.
        """
        t0 = time.time()
        deadline = t0 + (self.timeout if timeout is None else timeout)
        while not self.eof:
            left = deadline - time.time()
            if left <= 0:
                raise Timeout("socket still open after %.1fs; frames so far: "
                              "%r" % (timeout or self.timeout, self.log))
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                data = b""
            if not data:
                self.eof = True
            self.buf += data
        if self.buf:
            extra = self.buf
            try:
                extra = repr(self.recv_frame(0.01))
            except ProtocolError:
                pass
            raise ProtocolError("expected the socket closed, got %s first" %
                                extra)
        if trace:
            _trace("socket-closed", after=round(time.time() - t0, 1))

    def _check_close(self, f, code, text, class_id, method_id, kind):
        a = f.args
        got = (a["reply_code"], a["reply_text"], a["class_id"],
               a["method_id"])
        _trace(kind, code=got[0], text=got[1], class_id=got[2],
               method_id=got[3])
        if code is not None and got[0] != code:
            raise ProtocolError("%s: expected code %d, got %r" %
                                (kind, code, got))
        if text is not None and not got[1].startswith(text):
            raise ProtocolError("%s: expected text starting %r, got %r" %
                                (kind, text, got))
        if class_id is not None and got[2] != class_id:
            raise ProtocolError("%s: expected class-id %d, got %r" %
                                (kind, class_id, got))
        if method_id is not None and got[3] != method_id:
            raise ProtocolError("%s: expected method-id %d, got %r" %
                                (kind, method_id, got))
        return got

    def expect_connection_close(self, code, text=None, class_id=None,
                                method_id=None, close_ok=True,
                                timeout=None, junk=None):
        """The next frame must be connection.close with this code.

        text is a prefix of the reply text; class_id/method_id, when given,
        must match.  Then (junk, if given, is sent first: the broker must
        ignore it) close-ok is sent and the socket must close with nothing
        more.  Frames arriving on other channels before the close (e.g. a
        basic.get-ok still in flight) are skipped.  Returns
        (code, text, class_id, method_id).
        """
        deadline = time.time() + (self.timeout if timeout is None else timeout)
        while True:
            f = self.recv_frame(max(0.0, deadline - time.time()))
            if f.is_method(CONNECTION_CLOSE, 0):
                break
            if f.channel == 0:
                raise ProtocolError("expected connection.close, got %r" % f)
        got = self._check_close(f, code, text, class_id, method_id,
                                "connection.close")
        if close_ok:
            if junk:
                self.try_send(junk)
            self.try_send(method_frame(0, CONNECTION_CLOSE_OK))
            self.expect_closed(timeout)
        return got

    def expect_channel_close(self, channel, code, text=None, class_id=None,
                             method_id=None, close_ok=True, timeout=None):
        """The next frame on channel must be channel.close with this code.

        Other frames on that channel before it are skipped (a broker may
        have had a reply in flight); a connection.close fails the test.
        With close_ok, channel.close-ok is sent.  Returns
        (code, text, class_id, method_id).
        """
        deadline = time.time() + (self.timeout if timeout is None else timeout)
        while True:
            f = self.recv_frame(max(0.0, deadline - time.time()))
            if f.is_method(CHANNEL_CLOSE, channel):
                break
            if f.is_method(CONNECTION_CLOSE):
                raise ProtocolError("expected channel.close on %d, got %r" %
                                    (channel, f))
        got = self._check_close(f, code, text, class_id, method_id,
                                "channel.close")
        if close_ok:
            self.send_method(channel, CHANNEL_CLOSE_OK)
        return got

    # -- handshake steps --------------------------------------------------

    def send_header(self, header=PROTOCOL_HEADER):
        self.send(header)

    def expect_start(self):
        f = self.expect_method(CONNECTION_START, 0)
        return f.args

    def send_start_ok(self, **kw):
        kw.setdefault("user", self.broker.user)
        kw.setdefault("password", self.broker.password)
        self.send_method(0, CONNECTION_START_OK, start_ok_args(**kw))

    def expect_tune(self):
        f = self.expect_method(CONNECTION_TUNE, 0)
        self.tune = f.args
        return f.args

    def send_tune_ok(self, channel_max=None, frame_max=None, heartbeat=0):
        t = self.tune or {"channel_max": 2047, "frame_max": 131072}
        self.channel_max = t["channel_max"] if channel_max is None \
            else channel_max
        self.frame_max = t["frame_max"] if frame_max is None else frame_max
        self.send_method(0, CONNECTION_TUNE_OK,
                         tune_ok_args(self.channel_max, self.frame_max,
                                      heartbeat))

    def send_open(self, vhost=None):
        self.send_method(0, CONNECTION_OPEN,
                         open_args(self.broker.vhost if vhost is None
                                   else vhost))

    def handshake(self, channel_max=None, frame_max=None, heartbeat=0):
        """Protocol header, start-ok PLAIN, tune-ok, open; returns tune."""
        self.send_header()
        self.expect_start()
        self.send_start_ok()
        tune = self.expect_tune()
        self.send_tune_ok(channel_max, frame_max, heartbeat)
        self.send_open()
        self.expect_method(CONNECTION_OPEN_OK, 0)
        return tune

    def open_channel(self, channel=1):
        self.send_method(channel, CHANNEL_OPEN, channel_open_args())
        self.expect_method(CHANNEL_OPEN_OK, channel)

    def close(self, timeout=None):
        """A clean connection.close / close-ok, then the socket is closed.

        Frames still in flight on channels are skipped.  After close-ok the
        client closes its side (0-9-1: close-ok tells the recipient "that
        it is safe to ... close the socket"; RabbitMQ waits for the client
        to do so), and the broker must then close without sending more.
        """
        self.send_method(0, CONNECTION_CLOSE, close_args())
        deadline = time.time() + (self.timeout if timeout is None else timeout)
        while True:
            f = self.recv_frame(max(0.0, deadline - time.time()))
            if f.is_method(CONNECTION_CLOSE_OK, 0):
                break
            if f.channel == 0:
                raise ProtocolError("clean close answered by %r" % f)
        self.shutdown_and_expect_eof(timeout)
        self.close_socket()

    def shutdown_and_expect_eof(self, timeout=None):
        """Close our sending side; the broker must close with nothing more.

        Anything the broker sent before (say, a reply to a frame it should
        have ignored) arrives before the EOF and fails the test.
        """
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        self.expect_closed(timeout, trace=False)

    def expect_protocol_header(self, timeout=None):
        """The broker must answer with its protocol header, then close."""
        got = self.recv_bytes(8, timeout)
        _trace("protocol-header", header=repr(got))
        if got != PROTOCOL_HEADER:
            raise ProtocolError("expected %r, got %r" % (PROTOCOL_HEADER, got))
        self.expect_closed(timeout)

    def expect_close_or_drop(self, code, text=None, class_id=None,
                             method_id=None, timeout=None):
        """Either a silent close or connection.close(code), then closed.

        For errors before connection.open-ok where RabbitMQ closes the
        socket without a word (as 0-9-1 requires for some of them) and a
        broker may instead explain itself with connection.close first.
        Returns the close tuple, or None for a silent close.
        """
        deadline = time.time() + (self.timeout if timeout is None else timeout)
        try:
            self._fill(1, deadline)
        except Closed:
            if not self.buf:
                return None
        return self.expect_connection_close(
            code, text, class_id, method_id,
            timeout=max(0.5, deadline - time.time()))

    def send_until(self, data, deadline):
        """Send as much of data as the broker takes before the deadline.

        Returns the number of octets sent; never blocks past the deadline
        (a broker that stops reading is not a test failure here).
        """
        data = _b(data)
        sent = 0
        self.sock.setblocking(False)
        try:
            while sent < len(data) and time.time() < deadline:
                _, w, _ = select.select([], [self.sock], [],
                                        max(0.0, deadline - time.time()))
                if not w:
                    break
                try:
                    sent += self.sock.send(data[sent:sent + 65536])
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    break
        finally:
            self.sock.setblocking(True)
            self.sock.settimeout(self.timeout)
        return sent

    # -- small synchronous operations ---------------------------------------

    def declare_queue(self, channel=1, queue="", **kw):
        self.send_method(channel, QUEUE_DECLARE, queue_declare_args(queue,
                                                                    **kw))
        return self.expect_method(QUEUE_DECLARE_OK, channel).args["queue"]

    def publish(self, channel, body, exchange="", routing_key="", **kw):
        self.send(publish_frames(channel, body, exchange, routing_key,
                                 frame_max=self.frame_max, **kw))

    def get(self, channel, queue, no_ack=True):
        """basic.get; returns (get-ok Frame, header Frame, body) or None."""
        self.send_method(channel, BASIC_GET, basic_get_args(queue, no_ack))
        f = self.recv_frame()
        if f.is_method(BASIC_GET_EMPTY, channel):
            return None
        if not f.is_method(BASIC_GET_OK, channel):
            raise ProtocolError("expected basic.get-ok, got %r" % f)
        return (f,) + self.read_content(channel)

    def read_content(self, channel):
        """A content header and its body frames; returns (header, body)."""
        h = self.recv_frame()
        if h.type != FRAME_HEADER or h.channel != channel:
            raise ProtocolError("expected a content header, got %r" % h)
        body = b""
        while len(body) < h.body_size:
            b = self.recv_frame()
            if b.type != FRAME_BODY or b.channel != channel:
                raise ProtocolError("expected a body frame, got %r" % b)
            body += b.payload
        if len(body) != h.body_size:
            raise ProtocolError("body of %d octets, header said %d" %
                                (len(body), h.body_size))
        return h, body

    def roundtrip(self, channel=1):
        """Declare a queue, publish to it, get the message back, delete it."""
        q = self.declare_queue(channel, exclusive=True)
        body = os.urandom(8).hex().encode()
        self.publish(channel, body, routing_key=q)
        # The publish is asynchronous; poll basic.get with a deadline.
        deadline = time.time() + self.timeout
        while True:
            r = self.get(channel, q)
            if r is not None:
                break
            if time.time() >= deadline:
                raise Timeout("message published to %s never arrived" % q)
            time.sleep(0.01)
        if r[2] != body:
            raise ProtocolError("got %r back, published %r" % (r[2], body))
        self.send_method(channel, QUEUE_DELETE, queue_delete_args(q))
        self.expect_method(QUEUE_DELETE_OK, channel)


def connect(broker, channel=1, **kw):
    """An open connection with channel (if not None) open."""
    c = Conn(broker)
    c.handshake(**kw)
    if channel is not None:
        c.open_channel(channel)
    return c


class Witness:
    """A well-behaved connection that must survive another one's bad input.

        with Witness(broker):
            ... bad connection ...

    On entry it connects, opens channel 1 and does a round trip (declare,
    publish, get); on a clean exit it does another round trip and closes
    cleanly, so a broker that let the bad input hurt others fails the test.
    """

    def __init__(self, broker):
        self.broker = broker
        self.conn = None

    def __enter__(self):
        self.conn = connect(self.broker)
        self.conn.roundtrip()
        return self

    def check(self):
        self.conn.roundtrip()

    def __exit__(self, etype, e, tb):
        try:
            if etype is None:
                self.check()
                self.conn.close()
        finally:
            self.conn.close_socket()
        return False


def bad_conn(broker, channel=1, **kw):
    """A connection for bad input, handshake done and channel open."""
    return connect(broker, channel, **kw)


# ---------------------------------------------------------------------------
# Concurrent cases.

class _Concurrent:
    """A case whose body runs in a thread, alongside the other such cases.

    RabbitMQ makes some bad clients wait seconds before it closes them (3 s
    for errors during the handshake and for frame errors); running those
    cases side by side keeps a file well under its time budget while TAP
    still reports each case on its own line, in order.
    """

    group = []

    def __init__(self, fn, budget):
        self.fn = fn
        self.budget = budget
        self.__name__ = fn.__name__
        self.__doc__ = fn.__doc__
        self.thread = None
        self.error = None
        _Concurrent.group.append(self)

    def _body(self, broker):
        try:
            self.fn(broker)
        except BaseException as e:  # reported by __call__, in order
            self.error = e

    def __call__(self, broker):
        import threading
        for c in _Concurrent.group:
            if c.thread is None:
                c.started = time.time()
                c.thread = threading.Thread(target=c._body, args=(broker,),
                                            daemon=True)
                c.thread.start()
        self.thread.join(max(0.0, self.started + self.budget - time.time()))
        if self.thread.is_alive():
            raise Timeout("case still running after %.0fs" % self.budget)
        if self.error is not None:
            raise self.error


def concurrent_test(fn=None, budget=20.0):
    """Like harness.test, but the body runs in a thread started together
    with every other concurrent_test case of the file (see _Concurrent)."""
    import harness

    def register(f):
        harness.test(_Concurrent(f, budget))
        return f
    return register(fn) if fn is not None else register
