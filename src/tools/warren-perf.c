/*
 * warren-perf: a load generator for AMQP 0-9-1 brokers (Warren, RabbitMQ).
 *
 * Every connection logs in with rabbitmq-c; after that the fast path is
 * ours.  A publisher encodes the frames of many basic.publish (method,
 * content header, body) into one buffer and writes them with one send();
 * a consumer reads the socket itself, parses the frames and acks with
 * multiple=true.  `--client rmq` keeps rabbitmq-c on both sides instead.
 *
 * Every body starts with a 16-byte header: one little-endian u64 holding
 * the publisher id (high 16 bits) and its sequence number (low 48 bits),
 * then the send time in ns of CLOCK_MONOTONIC.  From it the consumers
 * count losses, duplicates and reorderings per publisher and measure the
 * latency.  One thread per publisher and per consumer connection; the
 * main thread sets up, prints progress on stderr once a second, and ends
 * with one JSON object on stdout.  See warren-perf(1).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <linux/sockios.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <amqp.h>
#include <amqp_tcp_socket.h>

#include "amqp_defs.h"

#define PERF_HDR		16	/* id:16 seq:48, then ts:64 */
#define PERF_SEQ_MASK		((UINT64_C(1) << 48) - 1)
#define PERF_URL		"amqp://guest:guest@127.0.0.1:5672/"
#define PERF_FRAME_MAX		131072
#define PERF_CHUNK_BITS		20	/* a bitmap chunk: 2^20 sequences */
#define PERF_CHUNKS		4096	/* so 2^32 messages per publisher */
#define PERF_HIST_N		(64 + 58 * 32)	/* 32 buckets per octave */
#define PERF_TAG_PREFIX		"wp-"	/* consumer tag: wp-<queue index> */
#define PERF_BIND_WINDOW	256	/* queue.bind sent before reading */
#define PERF_NONE		UINT64_MAX

/* Scenario bits, for the flags each scenario takes. */
#define S_E2E		0x01
#define S_CONFIRM	0x02
#define S_FANOUT	0x04
#define S_TOPIC		0x08
#define S_LATENCY	0x10
#define S_BACKLOG	0x20
#define S_CONNS		0x40
#define S_LOOPBACK	0x80
#define S_FLOW		(S_E2E | S_CONFIRM | S_FANOUT | S_TOPIC | S_LATENCY)
#define S_BROKER	(S_FLOW | S_BACKLOG | S_CONNS)
#define S_ALL		(S_BROKER | S_LOOPBACK)

/* Option keys beyond single letters. */
enum {
	OPT_PREFETCH = 256, OPT_ACK_EVERY, OPT_BATCH, OPT_WINDOW, OPT_RATE,
	OPT_BURST, OPT_BINDINGS, OPT_KEYS, OPT_CONNECTIONS, OPT_PID,
	OPT_TIMEOUT, OPT_CLIENT, OPT_PERSISTENT, OPT_FRAME_MAX
};

struct perf_run;

/* Latency histogram: log-linear buckets of ns, about 3% wide. */
struct perf_hist {
	uint64_t	 n;
	uint64_t	 max;
	double		 sum;
	uint64_t	 b[PERF_HIST_N];
};

/* The command line, after scenario defaults are applied. */
struct perf_opts {
	const struct perf_scenario *sc;
	const char	*url;
	char		*urlbuf;	/* owned: amqp_parse_url cuts it up */
	struct amqp_connection_info ci;	/* borrows from urlbuf */
	size_t		 size;
	uint64_t	 count;		/* total to publish; 0: by duration */
	double		 duration;	/* seconds of publishing */
	int		 publishers;
	int		 consumers;
	int		 queues;
	int		 prefetch;
	int		 ack_every;
	int		 batch;		/* messages per write; 0: auto */
	int		 window;
	double		 rate;		/* msg/s over all publishers; 0: max */
	int		 burst;
	int		 bindings;
	int		 keys;
	int		 connections;
	long		 pid;
	double		 timeout;
	int		 rmq;		/* --client rmq */
	int		 persistent;
	int		 frame_max;
	int		 quiet;
	int		 size_raised;	/* asked for less than PERF_HDR */
};

/* One scenario: its name, runner, help and the flags it takes. */
struct perf_scenario {
	const char	*name;
	unsigned	 bit;
	int		 (*run)(struct perf_run *);
	const char	*summary;
	const char	*text;
};

/* A command-line flag, with the scenarios it applies to. */
struct perf_flag {
	const char	*name;
	int		 has_arg;
	int		 key;
	const char	*arg;
	unsigned	 scenarios;
	const char	*help;
};

/* The encoded frames of one basic.publish, to copy into a batch. */
struct perf_tmpl {
	uint8_t		*bytes;		/* owned */
	size_t		 len;
	size_t		 body_off;	/* where the 16-byte header goes */
};

/* One received frame, borrowing from the reader's buffer. */
struct perf_frame {
	uint8_t		 type;
	uint16_t	 channel;
	const uint8_t	*p;
	uint32_t	 n;
};

typedef int	 (*perf_frame_cb)(void *, const struct perf_frame *);

/* Bytes read from a socket, cut into frames without copying. */
struct perf_reader {
	int		 fd;
	uint8_t		*buf;		/* owned */
	size_t		 cap;
	size_t		 off;		/* first unparsed byte */
	size_t		 len;		/* end of the data */
	size_t		 frame_max;
};

/* What a set of consumers saw of one (queue, publisher) pair. */
struct perf_stream {
	uint64_t	*chunks[PERF_CHUNKS];	/* owned, made on first use */
	uint64_t	 expected;
};

/* One publisher connection and its thread. */
struct perf_pub {
	struct perf_run	*run;		/* borrowed */
	int		 id;
	amqp_connection_state_t conn;	/* owned */
	int		 fd;
	struct perf_reader rd;
	uint64_t	 quota;		/* messages to send; 0: by time */
	_Atomic uint64_t sent;
	_Atomic uint64_t confirmed;
	_Atomic uint64_t nacked;
	uint64_t	 returned;
	uint64_t	 late;		/* paced bursts sent late */
	uint64_t	 t_first;
	uint64_t	 t_end;		/* last write, or last confirm */
	struct perf_hist clat;		/* confirm latency */
	uint64_t	*ring_ts;	/* owned: send time by tag */
	uint8_t		*ring_done;	/* owned: acked out of order */
	uint64_t	 ring_mask;
	uint64_t	 next_tag;	/* tag of the next publish */
	uint64_t	 low;		/* lowest unconfirmed tag */
	uint8_t		*buf;		/* owned: one batch of frames */
	size_t		 bufcap;
	pthread_t	 thread;
	int		 started;
	int		 closed;
	_Atomic int	 done;		/* the thread has finished */
};

/* One consumer connection, consuming from one or more queues. */
struct perf_cons {
	struct perf_run	*run;		/* borrowed */
	int		 id;
	amqp_connection_state_t conn;	/* owned */
	int		 fd;
	struct perf_reader rd;
	_Atomic uint64_t delivered;	/* every delivery */
	_Atomic uint64_t distinct;	/* first sight of a message */
	uint64_t	 bytes;
	uint64_t	 dups;		/* seen before, not redelivered */
	uint64_t	 redelivered;	/* seen before, redelivered */
	uint64_t	 reordered;
	uint64_t	 bad;		/* body without our header */
	uint64_t	*st_recv;	/* owned: per stream, distinct */
	uint64_t	*st_dups;	/* owned */
	uint64_t	*st_reord;	/* owned */
	uint64_t	*st_last;	/* owned: highest sequence seen */
	struct perf_hist lat;
	uint64_t	 t_first;
	uint64_t	 t_last;
	uint64_t	 now;		/* time of the current read */
	/* The message being assembled. */
	int		 in_msg;
	int		 queue;
	int		 redeliv;
	uint64_t	 tag;
	uint64_t	 body_size;
	uint64_t	 body_left;
	uint8_t		 hdr[PERF_HDR];
	size_t		 hdr_have;
	/* Acks. */
	uint64_t	 last_tag;
	uint64_t	 unacked;
	int		 no_ack;	/* loopback: nothing to ack */
	int		 closed;
	pthread_t	 thread;
	int		 started;
};

/* The loopback's relay: what arrives on rd.fd goes out on out, unparsed. */
struct perf_relay {
	struct perf_run	*run;		/* borrowed */
	struct perf_reader rd;		/* used for its buffer only */
	int		 out;
	uint64_t	 reads;		/* reads that brought bytes */
	pthread_t	 thread;
	int		 started;
};

/* Everything about one run of a scenario. */
struct perf_run {
	struct perf_opts *o;		/* borrowed */
	char		 prefix[96];	/* unique names start with this */
	char		 exchange[128];
	int		 nq;
	char		(*qnames)[128];	/* owned */
	int		 np;
	struct perf_pub	*pubs;		/* owned */
	int		 nc;
	struct perf_cons *cons;		/* owned */
	struct perf_stream *streams;	/* owned: nq * np */
	size_t		 nstreams;
	int		 shared;	/* several consumers per queue */
	int		 confirm;
	int		 persistent;
	const char	*routing_key;	/* single key, or NULL: keys[] */
	int		 nkeys;
	char		(*keys)[64];	/* owned: topic routing keys */
	char		(*patterns)[32]; /* owned: topic bindings */
	uint8_t		*key_match;	/* owned: nkeys * nq */
	struct perf_tmpl *tmpls;	/* owned: one per key */
	int		 ntmpls;
	int		 batch;
	int		 frame_max;
	uint64_t	 deadline;	/* publishing ends; 0: by count */
	uint64_t	 t_start;
	_Atomic int	 cons_stop;
	_Atomic int	 pub_stop;
	double		 bindings_per_msg;
	double		 queues_per_msg;
	double		 bind_seconds;
	int		 timed_out;
	int		 declared;	/* something to clean up */
	int64_t		*left;		/* owned: messages left per queue */
};

/* Scenario runners. */
static int	 perf_flow(struct perf_run *);
static int	 perf_backlog(struct perf_run *);
static int	 perf_conns(struct perf_run *);
static int	 perf_loopback(struct perf_run *);

static void	 perf_usage(FILE *, const struct perf_scenario *);

static _Atomic int	 perf_abort;	/* an error or a signal: stop all */
static _Atomic int	 perf_nerrors;
static pthread_mutex_t	 perf_err_lock = PTHREAD_MUTEX_INITIALIZER;
static char		 perf_err[512];
static volatile sig_atomic_t perf_signalled;

static const struct perf_scenario perf_scenarios[] = {
	{ "e2e", S_E2E, perf_flow,
	  "P publishers, C consumers, one transient queue",
	  "Publishers send to one transient queue through the default "
	  "exchange;\nconsumers share it.  Throughput is counted from the "
	  "first publish to\nthe last delivery." },
	{ "confirm", S_CONFIRM, perf_flow,
	  "persistent messages, durable queue, publisher confirms",
	  "Persistent messages (delivery-mode 2) to a durable queue, each "
	  "publisher\nin confirm mode with at most --window unconfirmed "
	  "messages; consumers\nrunning.  Reports confirmed msg/s and the "
	  "confirm latency." },
	{ "fanout", S_FANOUT, perf_flow,
	  "a fanout exchange bound to Q queues, a consumer each",
	  "One publisher (--publishers) sends to a fanout exchange bound to "
	  "Q\nqueues; each queue has a consumer (--consumers connections share "
	  "the\nqueues).  Reports deliveries/s." },
	{ "topic", S_TOPIC, perf_flow,
	  "a topic exchange with N mixed bindings over Q queues",
	  "A topic exchange with --bindings bindings of mixed patterns "
	  "(literal\nwords, *, #) spread over Q queues; the publisher cycles "
	  "through --keys\nrouting keys, each matching a number of bindings "
	  "computed beforehand\nand reported.  Reports msg/s and "
	  "deliveries/s." },
	{ "latency", S_LATENCY, perf_flow,
	  "a fixed publish rate; latency percentiles",
	  "One publisher sends --rate messages per second in bursts of "
	  "--burst,\npaced with clock_nanosleep; one consumer.  Reports "
	  "p50/p99/p99.9/max." },
	{ "backlog", S_BACKLOG, perf_backlog,
	  "fill a queue with no consumer, then drain it",
	  "Publishes --count messages into a queue with no consumer, waits "
	  "until\nthe broker counts them all, then drains it.  With --pid, "
	  "reports the\nbroker's RSS per queued message (VmRSS before and "
	  "after filling)." },
	{ "conns", S_CONNS, perf_conns,
	  "K idle connections with a channel each",
	  "Opens --connections connections with one channel each.  With "
	  "--pid,\nreports the broker's RSS per connection.  RLIMIT_NOFILE is "
	  "raised as far\nas allowed; the run says so when it is the limit." },
	{ "loopback", S_LOOPBACK, perf_loopback,
	  "no broker: the frames through loopback TCP (--rate: a relay)",
	  "No broker: one thread writes the publisher's batches into a "
	  "loopback\nTCP connection, another reads and parses them as a "
	  "consumer would.\nThe ceiling of this machine and this tool for "
	  "the message size.\n\nWith --rate, the relay mode: bursts paced "
	  "as in latency go into a\nloopback TCP connection; a relay thread "
	  "waits until it is readable,\nreads what is there and writes it, "
	  "unparsed, into a second one, where\nthe consumer reads.  Reports "
	  "latency_us as latency does: the floor of\ntwo loopback hops "
	  "through an idle process on this machine, which a\nbroker's "
	  "latency over the same two hops cannot go below." },
	{ NULL, 0, NULL, NULL, NULL }
};

static const struct perf_flag perf_flags[] = {
	{ "url", 1, 'u', "URL", S_ALL,
	  "broker (default " PERF_URL ")" },
	{ "size", 1, 's', "BYTES", S_ALL & ~S_CONNS,
	  "body size, at least 16 (default 16; k, m: KiB, MiB)" },
	{ "count", 1, 'n', "N", S_ALL & ~S_CONNS,
	  "messages to publish in all (k, m: 10^3, 10^6)" },
	{ "duration", 1, 'd', "SEC", S_FLOW | S_LOOPBACK,
	  "seconds of publishing without --count (default 10)" },
	{ "publishers", 1, 'p', "P", S_FLOW | S_BACKLOG,
	  "publisher connections (default 1)" },
	{ "consumers", 1, 'c', "C", S_FLOW | S_BACKLOG,
	  "consumer connections (default 1; fanout Q, topic 2)" },
	{ "queues", 1, 'q', "Q", S_FANOUT | S_TOPIC,
	  "queues (fanout 4, topic 10)" },
	{ "prefetch", 1, OPT_PREFETCH, "N", S_FLOW | S_BACKLOG,
	  "prefetch-count per consumer, 0 none (default 2000)" },
	{ "ack-every", 1, OPT_ACK_EVERY, "N", S_FLOW | S_BACKLOG,
	  "ack multiple once N unacked (default prefetch/4)" },
	{ "batch", 1, OPT_BATCH, "N", S_ALL & ~S_CONNS & ~S_LATENCY,
	  "messages per write (default: 64 KiB, at most 1024)" },
	{ "window", 1, OPT_WINDOW, "W", S_CONFIRM,
	  "unconfirmed messages per publisher (default 1000)" },
	{ "rate", 1, OPT_RATE, "R", S_FLOW | S_LOOPBACK,
	  "msg/s in all, 0 no limit (default 0; latency 10000)" },
	{ "burst", 1, OPT_BURST, "B", S_FLOW | S_LOOPBACK,
	  "messages per paced write with --rate (default 10)" },
	{ "bindings", 1, OPT_BINDINGS, "N", S_TOPIC,
	  "topic bindings (default 10000)" },
	{ "keys", 1, OPT_KEYS, "K", S_TOPIC,
	  "distinct routing keys published (default 100)" },
	{ "connections", 1, OPT_CONNECTIONS, "K", S_CONNS,
	  "connections to open (default 1000)" },
	{ "pid", 1, OPT_PID, "PID", S_BACKLOG | S_CONNS,
	  "broker pid, to read VmRSS in /proc/PID/status" },
	{ "timeout", 1, OPT_TIMEOUT, "SEC", S_FLOW | S_BACKLOG,
	  "give up when nothing moves for SEC (default 10)" },
	{ "client", 1, OPT_CLIENT, "raw|rmq", S_FLOW | S_BACKLOG,
	  "raw: own frame I/O (default); rmq: rabbitmq-c only" },
	{ "persistent", 0, OPT_PERSISTENT, NULL,
	  S_E2E | S_FANOUT | S_TOPIC | S_LATENCY | S_BACKLOG,
	  "delivery-mode 2 and durable queues" },
	{ "frame-max", 1, OPT_FRAME_MAX, "N", S_ALL & ~S_CONNS,
	  "frame-max to ask for (default 131072)" },
	{ "quiet", 0, 'Q', NULL, S_ALL,
	  "no progress on stderr" },
	{ "help", 0, 'h', NULL, S_ALL,
	  "this help; after a scenario, that scenario's" },
	{ NULL, 0, 0, NULL, 0, NULL }
};

/* Time of CLOCK_MONOTONIC in ns. */
static uint64_t
perf_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

/* Sleep for ms milliseconds (a signal may cut it short). */
static void
perf_sleep_ms(int ms)
{
	struct timespec	 ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	nanosleep(&ts, NULL);
}

/* Keep the first error's text, count every error and make all stop. */
static void
perf_fail(const char *fmt, ...)
{
	va_list	 ap;

	pthread_mutex_lock(&perf_err_lock);
	if (perf_err[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(perf_err, sizeof perf_err, fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&perf_err_lock);
	atomic_fetch_add(&perf_nerrors, 1);
	atomic_store(&perf_abort, 1);
}

/* Print a line on stderr unless --quiet. */
static void
perf_note(const struct perf_opts *o, const char *fmt, ...)
{
	va_list	 ap;

	if (o != NULL && o->quiet)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "warren-perf: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* Allocate zeroed memory or exit. */
static void *
perf_calloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size)) == NULL) {
		fprintf(stderr, "warren-perf: out of memory\n");
		exit(1);
	}
	return (p);
}

/* Store big-endian integers, as the wire wants them. */
static uint8_t *
perf_put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
	return (p + 2);
}

/* Store a big-endian u32. */
static uint8_t *
perf_put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
	return (p + 4);
}

/* Store a big-endian u64. */
static uint8_t *
perf_put64(uint8_t *p, uint64_t v)
{
	p = perf_put32(p, (uint32_t)(v >> 32));
	return (perf_put32(p, (uint32_t)v));
}

/* Load a big-endian u16. */
static uint16_t
perf_get16(const uint8_t *p)
{
	return ((uint16_t)(p[0] << 8 | p[1]));
}

/* Load a big-endian u32. */
static uint32_t
perf_get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

/* Load a big-endian u64. */
static uint64_t
perf_get64(const uint8_t *p)
{
	return ((uint64_t)perf_get32(p) << 32 | perf_get32(p + 4));
}

/* Write the body header: publisher id, sequence and send time. */
static void
perf_stamp(uint8_t *p, unsigned id, uint64_t seq, uint64_t ts)
{
	uint64_t	 a = (uint64_t)id << 48 | (seq & PERF_SEQ_MASK);
	int		 i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(a >> (8 * i));
	for (i = 0; i < 8; i++)
		p[8 + i] = (uint8_t)(ts >> (8 * i));
}

/* Read a body header back. */
static void
perf_unstamp(const uint8_t *p, unsigned *id, uint64_t *seq, uint64_t *ts)
{
	uint64_t	 a = 0, t = 0;
	int		 i;

	for (i = 7; i >= 0; i--) {
		a = a << 8 | p[i];
		t = t << 8 | p[8 + i];
	}
	*id = (unsigned)(a >> 48);
	*seq = a & PERF_SEQ_MASK;
	*ts = t;
}

/* Index of the histogram bucket that holds v. */
static int
perf_hist_index(uint64_t v)
{
	int	 e;

	if (v < 64)
		return ((int)v);
	e = 63 - __builtin_clzll(v);
	return (64 + (e - 6) * 32 + (int)((v >> (e - 5)) & 31));
}

/* The middle of bucket i. */
static double
perf_hist_value(int i)
{
	int		 e, sub;
	uint64_t	 lo, w;

	if (i < 64)
		return ((double)i);
	e = 6 + (i - 64) / 32;
	sub = (i - 64) % 32;
	lo = (uint64_t)(32 + sub) << (e - 5);
	w = (uint64_t)1 << (e - 5);
	return ((double)lo + (double)w / 2.0);
}

/* Count one value of ns. */
static void
perf_hist_add(struct perf_hist *h, uint64_t v)
{
	h->b[perf_hist_index(v)]++;
	h->n++;
	h->sum += (double)v;
	if (v > h->max)
		h->max = v;
}

/* Add the counts of src to dst. */
static void
perf_hist_merge(struct perf_hist *dst, const struct perf_hist *src)
{
	int	 i;

	for (i = 0; i < PERF_HIST_N; i++)
		dst->b[i] += src->b[i];
	dst->n += src->n;
	dst->sum += src->sum;
	if (src->max > dst->max)
		dst->max = src->max;
}

/* The q-quantile in ns (q in 0..1), never above the maximum. */
static double
perf_hist_quantile(const struct perf_hist *h, double q)
{
	uint64_t	 want, seen = 0;
	double		 v;
	int		 i;

	if (h->n == 0)
		return (0);
	want = (uint64_t)ceil(q * (double)h->n);
	if (want == 0)
		want = 1;
	for (i = 0; i < PERF_HIST_N; i++) {
		seen += h->b[i];
		if (seen >= want) {
			v = perf_hist_value(i);
			return (v > (double)h->max ? (double)h->max : v);
		}
	}
	return ((double)h->max);
}

/* Parse a count or size with an optional k/m/g suffix (times unit^n). */
static int
perf_parse_num(const char *s, double unit, double *out)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno != 0 || v < 0)
		return (-1);
	switch (*end) {
	case 'k': case 'K':
		v *= unit;
		end++;
		break;
	case 'm': case 'M':
		v *= unit * unit;
		end++;
		break;
	case 'g': case 'G':
		v *= unit * unit * unit;
		end++;
		break;
	}
	if (*end != '\0')
		return (-1);
	*out = v;
	return (0);
}

/* The broker's VmRSS in kB, or -1. */
static long
perf_rss_kb(long pid)
{
	char	 path[64], line[256];
	FILE	*f;
	long	 kb = -1;

	if (pid <= 0)
		return (-1);
	snprintf(path, sizeof path, "/proc/%ld/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kb = strtol(line + 6, NULL, 10);
			break;
		}
	}
	fclose(f);
	return (kb);
}

/* A fast deterministic generator (splitmix64), for topic bindings. */
static uint64_t
perf_rand(uint64_t *state)
{
	uint64_t	 z;

	z = (*state += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return (z ^ (z >> 31));
}

/*
 * A small JSON writer: one object on stdout per run.  Nesting is tracked
 * so that commas fall where they should.
 */
static int	 perf_json_first[8];
static int	 perf_json_depth;

/* Start a member (or an array element when key is NULL). */
static void
perf_json_key(const char *key)
{
	if (!perf_json_first[perf_json_depth])
		fputc(',', stdout);
	perf_json_first[perf_json_depth] = 0;
	if (key != NULL)
		printf("\"%s\":", key);
}

/* Open an object, or an array with c '['. */
static void
perf_json_open(const char *key, int c)
{
	if (perf_json_depth > 0 || key != NULL)
		perf_json_key(key);
	fputc(c, stdout);
	perf_json_first[++perf_json_depth] = 1;
}

/* Close what perf_json_open opened. */
static void
perf_json_close(int c)
{
	fputc(c, stdout);
	perf_json_depth--;
}

/* An unsigned member. */
static void
perf_json_u64(const char *key, uint64_t v)
{
	perf_json_key(key);
	printf("%" PRIu64, v);
}

/* A number member; null when it is not finite. */
static void
perf_json_num(const char *key, double v)
{
	perf_json_key(key);
	if (!isfinite(v))
		printf("null");
	else if (v == floor(v) && fabs(v) < 1e15)
		printf("%.0f", v);
	else
		printf("%.*f", fabs(v) >= 100 ? 1 : 3, v);
}

/* A string member, escaped. */
static void
perf_json_str(const char *key, const char *s)
{
	perf_json_key(key);
	fputc('"', stdout);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			fputc(*s, stdout);
	}
	fputc('"', stdout);
}

/* A boolean member. */
static void
perf_json_bool(const char *key, int v)
{
	perf_json_key(key);
	printf(v ? "true" : "false");
}

/* A histogram as microseconds: p50, p99, p99.9, max, mean, count. */
static void
perf_json_hist(const char *key, const struct perf_hist *h)
{
	perf_json_open(key, '{');
	perf_json_u64("count", h->n);
	perf_json_num("p50", perf_hist_quantile(h, 0.50) / 1e3);
	perf_json_num("p99", perf_hist_quantile(h, 0.99) / 1e3);
	perf_json_num("p999", perf_hist_quantile(h, 0.999) / 1e3);
	perf_json_num("max", (double)h->max / 1e3);
	perf_json_num("mean", h->n ? h->sum / (double)h->n / 1e3 : 0);
	perf_json_close('}');
}

/* Make a reader over fd for frames up to frame_max. */
static void
perf_reader_init(struct perf_reader *rd, int fd, size_t frame_max)
{
	rd->fd = fd;
	rd->frame_max = frame_max;
	rd->cap = 2 * frame_max + 65536;
	if (rd->cap < 262144)
		rd->cap = 262144;
	rd->buf = perf_calloc(1, rd->cap);
	rd->off = rd->len = 0;
}

/* Free the reader's buffer. */
static void
perf_reader_free(struct perf_reader *rd)
{
	free(rd->buf);
	rd->buf = NULL;
}

/* One read(): > 0 bytes read, 0 nothing yet (EAGAIN), -1 EOF or error. */
static int
perf_reader_fill(struct perf_reader *rd)
{
	ssize_t	 n;

	if (rd->off == rd->len)
		rd->off = rd->len = 0;
	else if (rd->off > 0 && rd->cap - rd->len < rd->frame_max + 8) {
		memmove(rd->buf, rd->buf + rd->off, rd->len - rd->off);
		rd->len -= rd->off;
		rd->off = 0;
	}
	for (;;) {
		n = recv(rd->fd, rd->buf + rd->len, rd->cap - rd->len, 0);
		if (n > 0) {
			rd->len += (size_t)n;
			return (1);
		}
		if (n == 0)
			return (-1);
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return (0);
		return (-1);
	}
}

/* The next whole frame: 1 and *f set, 0 when incomplete, -1 when bad. */
static int
perf_reader_next(struct perf_reader *rd, struct perf_frame *f)
{
	const uint8_t	*p = rd->buf + rd->off;
	size_t		 have = rd->len - rd->off;
	uint32_t	 size;

	if (have < 7)
		return (0);
	size = perf_get32(p + 3);
	if (size > rd->frame_max)
		return (-1);
	if (have < (size_t)size + 8)
		return (0);
	if (p[7 + size] != AMQP_FRAME_END)
		return (-1);
	f->type = p[0];
	f->channel = perf_get16(p + 1);
	f->p = p + 7;
	f->n = size;
	rd->off += (size_t)size + 8;
	return (1);
}

/* Read what is there and hand each whole frame to cb: -1 on EOF, error,
 * a bad frame or cb's refusal; 0 when nothing was there; else 1. */
static int
perf_reader_pump(struct perf_reader *rd, perf_frame_cb cb, void *arg)
{
	struct perf_frame	 f;
	int			 r;

	if ((r = perf_reader_fill(rd)) <= 0)
		return (r);
	while ((r = perf_reader_next(rd, &f)) == 1) {
		if (cb(arg, &f) != 0)
			return (-1);
	}
	if (r < 0) {
		perf_fail("malformed frame from the broker");
		return (-1);
	}
	return (1);
}

/* Send all of p on the non-blocking fd.  While the socket is full, frames
 * coming the other way go to cb (if rd is set), so neither side stalls. */
static int
perf_write_all(int fd, const uint8_t *p, size_t len, struct perf_reader *rd,
    perf_frame_cb cb, void *arg)
{
	struct pollfd	 pfd;
	ssize_t		 n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return (-1);
		if (atomic_load_explicit(&perf_abort, memory_order_relaxed))
			return (-1);
		pfd.fd = fd;
		pfd.events = POLLOUT | (rd != NULL ? POLLIN : 0);
		pfd.revents = 0;
		if (poll(&pfd, 1, 100) < 0 && errno != EINTR)
			return (-1);
		if (rd != NULL &&
		    (pfd.revents & (POLLIN | POLLHUP | POLLERR)) &&
		    perf_reader_pump(rd, cb, arg) < 0)
			return (-1);
	}
	return (0);
}

/* Begin a frame at p; return where its payload goes. */
static uint8_t *
perf_frame_begin(uint8_t *p, uint8_t type, uint16_t channel, uint32_t size)
{
	*p++ = type;
	p = perf_put16(p, channel);
	return (perf_put32(p, size));
}

/* Bytes of one basic.publish with this exchange, key and body size. */
static size_t
perf_tmpl_size(const char *exchange, const char *key, int persistent,
    size_t size, size_t frame_max)
{
	size_t	 chunk = frame_max - 8;

	return (8 + 4 + 2 + 1 + strlen(exchange) + 1 + strlen(key) + 1 +
	    8 + 14 + (persistent ? 1 : 0) +
	    size + 8 * ((size + chunk - 1) / chunk));
}

/* Encode one basic.publish on channel 1: the method frame, the content
 * header (delivery-mode 2 if persistent, no other property) and the body
 * cut at frame_max, padded with a pattern after the header's place. */
static void
perf_tmpl_make(struct perf_tmpl *t, const char *exchange, const char *key,
    int persistent, size_t size, size_t frame_max)
{
	size_t	 el = strlen(exchange), kl = strlen(key), left, chunk, i;
	uint8_t	*p;

	t->len = perf_tmpl_size(exchange, key, persistent, size, frame_max);
	t->bytes = p = perf_calloc(1, t->len);
	t->body_off = 0;
	p = perf_frame_begin(p, AMQP_FRAME_METHOD, 1,
	    (uint32_t)(4 + 2 + 1 + el + 1 + kl + 1));
	p = perf_put32(p, AMQP_BASIC_PUBLISH);
	p = perf_put16(p, 0);			/* ticket */
	*p++ = (uint8_t)el;
	memcpy(p, exchange, el);
	p += el;
	*p++ = (uint8_t)kl;
	memcpy(p, key, kl);
	p += kl;
	*p++ = 0;				/* mandatory, immediate */
	*p++ = AMQP_FRAME_END;

	/* 0-9-1 4.2.6.1: class, weight, body size, property flags. */
	p = perf_frame_begin(p, AMQP_FRAME_HEADER, 1,
	    14 + (persistent ? 1 : 0));
	p = perf_put16(p, AMQP_CLASS_BASIC);
	p = perf_put16(p, 0);
	p = perf_put64(p, size);
	p = perf_put16(p, persistent ? AMQP_BASIC_DELIVERY_MODE_FLAG : 0);
	if (persistent)
		*p++ = 2;
	*p++ = AMQP_FRAME_END;

	for (left = size; left > 0; left -= chunk) {
		chunk = left < frame_max - 8 ? left : frame_max - 8;
		p = perf_frame_begin(p, AMQP_FRAME_BODY, 1, (uint32_t)chunk);
		if (t->body_off == 0)
			t->body_off = (size_t)(p - t->bytes);
		for (i = 0; i < chunk; i++)
			p[i] = (uint8_t)('a' + (i % 26));
		p += chunk;
		*p++ = AMQP_FRAME_END;
	}
}

/* Encode a method frame with a basic.ack for tag on channel 1. */
static size_t
perf_ack_encode(uint8_t *b, uint64_t tag, int multiple)
{
	uint8_t	*p = b;

	p = perf_frame_begin(p, AMQP_FRAME_METHOD, 1, 13);
	p = perf_put32(p, AMQP_BASIC_ACK);
	p = perf_put64(p, tag);
	*p++ = multiple ? 1 : 0;
	*p++ = AMQP_FRAME_END;
	return ((size_t)(p - b));
}

/* Text for a failed rabbitmq-c RPC, with the broker's reason if any. */
static void
perf_rpc_text(amqp_rpc_reply_t r, char *buf, size_t len)
{
	amqp_connection_close_t	*cc;
	amqp_channel_close_t	*ch;

	switch (r.reply_type) {
	case AMQP_RESPONSE_NORMAL:
		snprintf(buf, len, "ok");
		break;
	case AMQP_RESPONSE_NONE:
		snprintf(buf, len, "missing RPC reply");
		break;
	case AMQP_RESPONSE_LIBRARY_EXCEPTION:
		snprintf(buf, len, "%s", amqp_error_string2(r.library_error));
		break;
	case AMQP_RESPONSE_SERVER_EXCEPTION:
		if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
			cc = r.reply.decoded;
			snprintf(buf, len, "connection closed: %u %.*s",
			    cc->reply_code, (int)cc->reply_text.len,
			    (char *)cc->reply_text.bytes);
		} else if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
			ch = r.reply.decoded;
			snprintf(buf, len, "channel closed: %u %.*s",
			    ch->reply_code, (int)ch->reply_text.len,
			    (char *)ch->reply_text.bytes);
		} else
			snprintf(buf, len, "unexpected method 0x%08x",
			    r.reply.id);
		break;
	}
}

/* Check the last RPC on conn; on failure record what failed, return -1. */
static int
perf_rpc_ok(amqp_connection_state_t conn, const char *what)
{
	char	 text[256];
	amqp_rpc_reply_t r = amqp_get_rpc_reply(conn);

	if (r.reply_type == AMQP_RESPONSE_NORMAL)
		return (0);
	perf_rpc_text(r, text, sizeof text);
	perf_fail("%s: %s", what, text);
	return (-1);
}

/* Connect, log in (no heartbeats) and open channel 1; NULL on failure. */
static amqp_connection_state_t
perf_connect(const struct perf_opts *o, int frame_max)
{
	amqp_connection_state_t	 conn;
	amqp_socket_t		*sock;
	struct timeval		 tv = { 30, 0 };
	amqp_rpc_reply_t	 r;
	char			 text[256];
	int			 st;

	if ((conn = amqp_new_connection()) == NULL) {
		perf_fail("amqp_new_connection failed");
		return (NULL);
	}
	if ((sock = amqp_tcp_socket_new(conn)) == NULL) {
		perf_fail("amqp_tcp_socket_new failed");
		goto fail;
	}
	st = amqp_socket_open_noblock(sock, o->ci.host, o->ci.port, &tv);
	if (st != AMQP_STATUS_OK) {
		perf_fail("connect to %s:%d: %s", o->ci.host, o->ci.port,
		    amqp_error_string2(st));
		goto fail;
	}
	amqp_set_handshake_timeout(conn, &tv);
	amqp_set_rpc_timeout(conn, &tv);
	r = amqp_login(conn, o->ci.vhost, 0, frame_max, 0,
	    AMQP_SASL_METHOD_PLAIN, o->ci.user, o->ci.password);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		perf_rpc_text(r, text, sizeof text);
		perf_fail("login to %s:%d: %s", o->ci.host, o->ci.port, text);
		goto fail;
	}
	amqp_channel_open(conn, 1);
	if (perf_rpc_ok(conn, "channel.open") != 0)
		goto fail;
	return (conn);
fail:
	amqp_destroy_connection(conn);
	return (NULL);
}

/* Make the connection's socket non-blocking for our own I/O. */
static int
perf_conn_fd(amqp_connection_state_t conn)
{
	int	 fd = amqp_get_sockfd(conn);
	int	 fl = fcntl(fd, F_GETFL);

	if (fl != -1)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	return (fd);
}

/* Text of a connection.close or channel.close method payload. */
static void
perf_close_text(const uint8_t *p, size_t n, char *buf, size_t len)
{
	unsigned	 code = 0, tl = 0;

	if (n >= 7) {
		code = perf_get16(p + 4);
		tl = p[6];
		if (7 + tl > n)
			tl = (unsigned)(n - 7);
	}
	snprintf(buf, len, "%u %.*s", code, (int)tl,
	    n >= 7 ? (const char *)p + 7 : "");
}

/* Frames seen while closing: note close-ok, ignore the rest. */
static int
perf_close_cb(void *arg, const struct perf_frame *f)
{
	int	*done = arg;

	if (f->type == AMQP_FRAME_METHOD && f->n >= 4 &&
	    (perf_get32(f->p) == AMQP_CONNECTION_CLOSE_OK ||
	    perf_get32(f->p) == AMQP_CONNECTION_CLOSE))
		*done = 1;
	return (0);
}

/* Bytes written to fd that the peer has not acknowledged yet. */
static int
perf_unsent(int fd)
{
	int	 n = 0;

	if (ioctl(fd, SIOCOUTQ, &n) != 0)
		return (0);
	return (n);
}

/* Close a connection we have been reading ourselves: send
 * connection.close, discard frames until close-ok (so the broker has
 * handled everything sent before it), then drop the socket.  A broker
 * still reading a backlog of publishes may take long to get to the close:
 * wait as long as our unsent bytes keep shrinking, and give up after
 * timeout seconds without progress. */
static void
perf_close_raw(amqp_connection_state_t conn, struct perf_reader *rd,
    double timeout)
{
	uint8_t		 b[64], *p = b;
	struct pollfd	 pfd;
	uint64_t	 since = perf_now(), limit = (uint64_t)(timeout * 1e9);
	int		 done = 0, unsent, last = -1;

	p = perf_frame_begin(p, AMQP_FRAME_METHOD, 0, 4 + 2 + 1 + 2 + 2 + 2);
	p = perf_put32(p, AMQP_CONNECTION_CLOSE);
	p = perf_put16(p, AMQP_REPLY_SUCCESS);
	*p++ = 2;
	memcpy(p, "ok", 2);
	p += 2;
	p = perf_put16(p, 0);
	p = perf_put16(p, 0);
	*p++ = AMQP_FRAME_END;
	if (perf_write_all(rd->fd, b, (size_t)(p - b), NULL, NULL, NULL) == 0) {
		while (!done && !perf_signalled) {
			pfd.fd = rd->fd;
			pfd.events = POLLIN;
			if (poll(&pfd, 1, 100) > 0 &&
			    perf_reader_pump(rd, perf_close_cb, &done) < 0)
				break;
			if ((unsent = perf_unsent(rd->fd)) != last) {
				last = unsent;
				since = perf_now();
			} else if (perf_now() - since > limit) {
				perf_fail("no connection.close-ok after %.0f s",
				    timeout);
				break;
			}
		}
	}
	amqp_destroy_connection(conn);
}

/* Close a connection rabbitmq-c still reads, politely. */
static void
perf_close_lib(amqp_connection_state_t conn)
{
	amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS);
	amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(conn);
}

/* Mark seq as seen in stream s: 1 if it was seen before, -1 if it is
 * beyond what the bitmap holds.  Chunks are made on first use; several
 * consumers may race on one stream, so words change atomically. */
static int
perf_stream_mark(struct perf_stream *s, uint64_t seq)
{
	uint64_t	*c, *fresh, *expect, bit, old;
	size_t		 ci = (size_t)(seq >> PERF_CHUNK_BITS);

	if (ci >= PERF_CHUNKS)
		return (-1);
	c = __atomic_load_n(&s->chunks[ci], __ATOMIC_ACQUIRE);
	if (c == NULL) {
		fresh = perf_calloc((UINT64_C(1) << PERF_CHUNK_BITS) / 64,
		    sizeof *fresh);
		expect = NULL;
		if (__atomic_compare_exchange_n(&s->chunks[ci], &expect, fresh,
		    0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			c = fresh;
		else {
			free(fresh);
			c = expect;
		}
	}
	seq &= (UINT64_C(1) << PERF_CHUNK_BITS) - 1;
	bit = UINT64_C(1) << (seq & 63);
	old = __atomic_fetch_or(&c[seq >> 6], bit, __ATOMIC_RELAXED);
	return ((old & bit) != 0);
}

/* Free a stream's bitmap. */
static void
perf_stream_free(struct perf_stream *s)
{
	size_t	 i;

	for (i = 0; i < PERF_CHUNKS; i++)
		free(s->chunks[i]);
}

/* The queue index named by a consumer tag wp-<index>, or -1. */
static int
perf_tag_queue(const struct perf_run *run, const uint8_t *p, size_t n)
{
	size_t	 pl = strlen(PERF_TAG_PREFIX), i;
	int	 q = 0;

	if (n <= pl || memcmp(p, PERF_TAG_PREFIX, pl) != 0)
		return (-1);
	for (i = pl; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return (-1);
		q = q * 10 + (p[i] - '0');
	}
	return (q < run->nq ? q : -1);
}

/* Ack everything delivered so far with one basic.ack multiple=true. */
static int
perf_cons_ack(struct perf_cons *c)
{
	uint8_t	 b[32];
	size_t	 n;

	if (c->unacked == 0 || c->no_ack)
		return (0);
	c->unacked = 0;
	if (c->run->o->rmq) {
		if (amqp_basic_ack(c->conn, 1, c->last_tag, 1) != 0) {
			perf_fail("consumer %d: basic.ack failed", c->id);
			return (-1);
		}
		return (0);
	}
	n = perf_ack_encode(b, c->last_tag, 1);
	if (perf_write_all(c->fd, b, n, NULL, NULL, NULL) != 0) {
		if (!atomic_load(&perf_abort))
			perf_fail("consumer %d: writing basic.ack: %s", c->id,
			    strerror(errno));
		return (-1);
	}
	return (0);
}

/* A whole message arrived: check its header against what was seen. */
static void
perf_cons_message(struct perf_cons *c)
{
	struct perf_run	*run = c->run;
	unsigned	 id;
	uint64_t	 seq, ts;
	size_t		 si;
	int		 seen;

	atomic_store_explicit(&c->delivered,
	    atomic_load_explicit(&c->delivered, memory_order_relaxed) + 1,
	    memory_order_relaxed);
	c->bytes += c->body_size;
	if (c->t_first == 0)
		c->t_first = c->now;
	c->t_last = c->now;
	if (c->tag != 0) {
		c->last_tag = c->tag;
		c->unacked++;
	}
	if (c->hdr_have < PERF_HDR) {
		c->bad++;
		return;
	}
	perf_unstamp(c->hdr, &id, &seq, &ts);
	if ((int)id >= run->np || c->queue < 0) {
		c->bad++;
		return;
	}
	si = (size_t)c->queue * (size_t)run->np + id;
	if ((seen = perf_stream_mark(&run->streams[si], seq)) < 0) {
		c->bad++;
		return;
	}
	if (seen) {
		if (c->redeliv)
			c->redelivered++;
		else {
			c->dups++;
			c->st_dups[si]++;
		}
		return;
	}
	c->st_recv[si]++;
	atomic_store_explicit(&c->distinct,
	    atomic_load_explicit(&c->distinct, memory_order_relaxed) + 1,
	    memory_order_relaxed);
	if (c->st_last[si] != PERF_NONE && seq < c->st_last[si]) {
		c->reordered++;
		c->st_reord[si]++;
	} else
		c->st_last[si] = seq;
	if (c->now > ts)
		perf_hist_add(&c->lat, c->now - ts);
	else
		perf_hist_add(&c->lat, 0);
}

/* basic.deliver (or, on the loopback, basic.publish) starts a message. */
static void
perf_cons_start(struct perf_cons *c, int queue, uint64_t tag, int redeliv)
{
	c->in_msg = 1;
	c->queue = queue;
	c->tag = tag;
	c->redeliv = redeliv;
	c->body_size = c->body_left = 0;
	c->hdr_have = 0;
}

/* A content header: the body size. */
static int
perf_cons_header(struct perf_cons *c, uint64_t body_size)
{
	if (c->in_msg != 1) {
		perf_fail("consumer %d: content header out of place", c->id);
		return (-1);
	}
	c->in_msg = 2;
	c->body_size = c->body_left = body_size;
	if (body_size == 0) {
		c->in_msg = 0;
		perf_cons_message(c);
	}
	return (0);
}

/* A body frame: keep the first 16 bytes, count the rest. */
static int
perf_cons_body(struct perf_cons *c, const uint8_t *p, size_t n)
{
	size_t	 take;

	if (c->in_msg != 2 || n > c->body_left) {
		perf_fail("consumer %d: body frame out of place", c->id);
		return (-1);
	}
	if (c->hdr_have < PERF_HDR) {
		take = PERF_HDR - c->hdr_have;
		if (take > n)
			take = n;
		memcpy(c->hdr + c->hdr_have, p, take);
		c->hdr_have += take;
	}
	c->body_left -= n;
	if (c->body_left == 0) {
		c->in_msg = 0;
		perf_cons_message(c);
	}
	return (0);
}

/* A method frame on a consumer connection, parsed by hand. */
static int
perf_cons_method(struct perf_cons *c, const uint8_t *p, size_t n)
{
	char		 text[300];
	uint32_t	 id;
	size_t		 tl;

	if (n < 4)
		return (0);
	id = perf_get32(p);
	switch (id) {
	case AMQP_BASIC_DELIVER:
		/* consumer-tag, delivery-tag, redelivered, exchange, key */
		if (n < 5 || (tl = p[4]) + 5 + 9 > n)
			goto bad;
		perf_cons_start(c, perf_tag_queue(c->run, p + 5, tl),
		    perf_get64(p + 5 + tl), p[5 + tl + 8] & 1);
		return (0);
	case AMQP_BASIC_PUBLISH:
		perf_cons_start(c, 0, 0, 0);
		return (0);
	case AMQP_CHANNEL_CLOSE:
	case AMQP_CONNECTION_CLOSE:
		perf_close_text(p, n, text, sizeof text);
		perf_fail("consumer %d: broker closed the %s: %s", c->id,
		    id == AMQP_CHANNEL_CLOSE ? "channel" : "connection", text);
		return (-1);
	case AMQP_BASIC_CANCEL:
		perf_fail("consumer %d: cancelled by the broker", c->id);
		return (-1);
	case AMQP_CONNECTION_CLOSE_OK:
		c->closed = 1;
		return (0);
	default:
		return (0);
	}
bad:
	perf_fail("consumer %d: malformed basic.deliver", c->id);
	return (-1);
}

/* One frame read by hand. */
static int
perf_cons_frame(void *arg, const struct perf_frame *f)
{
	struct perf_cons	*c = arg;

	switch (f->type) {
	case AMQP_FRAME_METHOD:
		return (perf_cons_method(c, f->p, f->n));
	case AMQP_FRAME_HEADER:
		if (f->n < 14) {
			perf_fail("consumer %d: short content header", c->id);
			return (-1);
		}
		return (perf_cons_header(c, perf_get64(f->p + 4)));
	case AMQP_FRAME_BODY:
		return (perf_cons_body(c, f->p, f->n));
	default:
		return (0);
	}
}

/* One frame decoded by rabbitmq-c. */
static int
perf_cons_lib_frame(struct perf_cons *c, const amqp_frame_t *f)
{
	amqp_basic_deliver_t	*d;
	amqp_channel_close_t	*cc;

	switch (f->frame_type) {
	case AMQP_FRAME_METHOD:
		switch (f->payload.method.id) {
		case AMQP_BASIC_DELIVER_METHOD:
			d = f->payload.method.decoded;
			perf_cons_start(c, perf_tag_queue(c->run,
			    d->consumer_tag.bytes, d->consumer_tag.len),
			    d->delivery_tag, d->redelivered);
			return (0);
		case AMQP_CHANNEL_CLOSE_METHOD:
		case AMQP_CONNECTION_CLOSE_METHOD:
			/* Both start with reply-code and reply-text. */
			cc = f->payload.method.decoded;
			perf_fail("consumer %d: broker closed: %u %.*s", c->id,
			    cc->reply_code, (int)cc->reply_text.len,
			    (char *)cc->reply_text.bytes);
			return (-1);
		case AMQP_BASIC_CANCEL_METHOD:
			perf_fail("consumer %d: cancelled by the broker",
			    c->id);
			return (-1);
		}
		return (0);
	case AMQP_FRAME_HEADER:
		return (perf_cons_header(c, f->payload.properties.body_size));
	case AMQP_FRAME_BODY:
		return (perf_cons_body(c, f->payload.body_fragment.bytes,
		    f->payload.body_fragment.len));
	}
	return (0);
}

/* Frames rabbitmq-c has already read (while waiting for consume-ok, or
 * in its buffer) must be handled before we read the socket ourselves. */
static int
perf_cons_drain_lib(struct perf_cons *c)
{
	amqp_frame_t	 f;

	while (amqp_frames_enqueued(c->conn) || amqp_data_in_buffer(c->conn)) {
		if (amqp_simple_wait_frame(c->conn, &f) != AMQP_STATUS_OK) {
			perf_fail("consumer %d: reading a frame", c->id);
			return (-1);
		}
		c->now = perf_now();
		if (perf_cons_lib_frame(c, &f) != 0)
			return (-1);
	}
	amqp_maybe_release_buffers(c->conn);
	return (0);
}

/* Consumer thread, reading the socket itself. */
static void *
perf_cons_raw_main(void *arg)
{
	struct perf_cons	*c = arg;
	struct perf_run		*run = c->run;
	struct perf_frame	 f;
	struct pollfd		 pfd;
	int			 r;

	if (c->conn != NULL && perf_cons_drain_lib(c) != 0)
		return (NULL);
	while (!atomic_load_explicit(&run->cons_stop, memory_order_relaxed) &&
	    !atomic_load_explicit(&perf_abort, memory_order_relaxed)) {
		r = perf_reader_fill(&c->rd);
		if (r < 0) {
			perf_fail("consumer %d: connection lost", c->id);
			break;
		}
		if (r == 0) {
			if (perf_cons_ack(c) != 0)
				break;
			pfd.fd = c->fd;
			pfd.events = POLLIN;
			poll(&pfd, 1, 20);
			continue;
		}
		c->now = perf_now();
		while ((r = perf_reader_next(&c->rd, &f)) == 1)
			if (perf_cons_frame(c, &f) != 0)
				break;
		if (r < 0)
			perf_fail("consumer %d: malformed frame", c->id);
		if (r != 0)
			break;
		if (c->unacked >= (uint64_t)run->o->ack_every &&
		    perf_cons_ack(c) != 0)
			break;
	}
	perf_cons_ack(c);
	return (NULL);
}

/* Consumer thread, all through rabbitmq-c. */
static void *
perf_cons_lib_main(void *arg)
{
	struct perf_cons	*c = arg;
	struct perf_run		*run = c->run;
	struct timeval		 tv = { 0, 20000 };
	amqp_frame_t		 f;
	int			 st;

	while (!atomic_load_explicit(&run->cons_stop, memory_order_relaxed) &&
	    !atomic_load_explicit(&perf_abort, memory_order_relaxed)) {
		st = amqp_simple_wait_frame_noblock(c->conn, &f, &tv);
		if (st == AMQP_STATUS_TIMEOUT) {
			if (perf_cons_ack(c) != 0)
				break;
			continue;
		}
		if (st != AMQP_STATUS_OK) {
			perf_fail("consumer %d: %s", c->id,
			    amqp_error_string2(st));
			break;
		}
		c->now = perf_now();
		if (perf_cons_lib_frame(c, &f) != 0)
			break;
		if (c->unacked >= (uint64_t)run->o->ack_every &&
		    perf_cons_ack(c) != 0)
			break;
		if (!amqp_data_in_buffer(c->conn))
			amqp_maybe_release_buffers(c->conn);
	}
	perf_cons_ack(c);
	return (NULL);
}

/* Give a consumer its per-stream counters. */
static void
perf_cons_init(struct perf_run *run, struct perf_cons *c, int id)
{
	size_t	 i;

	c->run = run;
	c->id = id;
	c->fd = -1;
	c->st_recv = perf_calloc(run->nstreams, sizeof *c->st_recv);
	c->st_dups = perf_calloc(run->nstreams, sizeof *c->st_dups);
	c->st_reord = perf_calloc(run->nstreams, sizeof *c->st_reord);
	c->st_last = perf_calloc(run->nstreams, sizeof *c->st_last);
	for (i = 0; i < run->nstreams; i++)
		c->st_last[i] = PERF_NONE;
}

/* Connect a consumer, set its prefetch and consume from its queues: the
 * queues q with q % nc == id. */
static int
perf_cons_setup(struct perf_run *run, struct perf_cons *c)
{
	const struct perf_opts	*o = run->o;
	char			 tag[32];
	int			 q;

	if ((c->conn = perf_connect(o, run->frame_max)) == NULL)
		return (-1);
	if (o->prefetch > 0) {
		amqp_basic_qos(c->conn, 1, 0, (uint16_t)o->prefetch, 0);
		if (perf_rpc_ok(c->conn, "basic.qos") != 0)
			return (-1);
	}
	for (q = c->id; q < run->nq; q += run->nc) {
		snprintf(tag, sizeof tag, PERF_TAG_PREFIX "%d", q);
		amqp_basic_consume(c->conn, 1,
		    amqp_cstring_bytes(run->qnames[q]),
		    amqp_cstring_bytes(tag), 0, 0, 0, amqp_empty_table);
		if (perf_rpc_ok(c->conn, "basic.consume") != 0)
			return (-1);
	}
	c->fd = perf_conn_fd(c->conn);
	perf_reader_init(&c->rd, c->fd, (size_t)amqp_get_frame_max(c->conn));
	return (0);
}

/* Start a consumer's thread. */
static int
perf_cons_start_thread(struct perf_run *run, struct perf_cons *c)
{
	if (pthread_create(&c->thread, NULL, run->o->rmq ?
	    perf_cons_lib_main : perf_cons_raw_main, c) != 0) {
		perf_fail("pthread_create: %s", strerror(errno));
		return (-1);
	}
	c->started = 1;
	return (0);
}

/* Join a consumer's thread and close its connection. */
static void
perf_cons_finish(struct perf_run *run, struct perf_cons *c)
{
	if (c->started)
		pthread_join(c->thread, NULL);
	c->started = 0;
	if (c->conn != NULL) {
		if (run->o->rmq)
			perf_close_lib(c->conn);
		else
			perf_close_raw(c->conn, &c->rd, run->o->timeout);
		c->conn = NULL;
	}
	perf_reader_free(&c->rd);
}

/* A confirm (or, with nack, a refusal) of tag, or of every tag up to it. */
static void
perf_pub_confirm(struct perf_pub *pb, uint64_t tag, int multiple, int nack)
{
	uint64_t	 now = perf_now(), t, n = 0;

	if (tag >= pb->next_tag) {
		perf_fail("publisher %d: confirm of tag %" PRIu64
		    " never published", pb->id, tag);
		return;
	}
	if (multiple) {
		for (t = pb->low; t <= tag; t++) {
			if (!pb->ring_done[t & pb->ring_mask]) {
				perf_hist_add(&pb->clat,
				    now - pb->ring_ts[t & pb->ring_mask]);
				n++;
			}
			pb->ring_done[t & pb->ring_mask] = 0;
		}
		if (tag >= pb->low)
			pb->low = tag + 1;
	} else if (tag >= pb->low && !pb->ring_done[tag & pb->ring_mask]) {
		perf_hist_add(&pb->clat,
		    now - pb->ring_ts[tag & pb->ring_mask]);
		pb->ring_done[tag & pb->ring_mask] = 1;
		n++;
	}
	while (pb->low < pb->next_tag && pb->ring_done[pb->low & pb->ring_mask])
		pb->ring_done[pb->low++ & pb->ring_mask] = 0;
	if (nack)
		atomic_fetch_add_explicit(&pb->nacked, n, memory_order_relaxed);
	else
		atomic_fetch_add_explicit(&pb->confirmed, n,
		    memory_order_relaxed);
	if (n > 0)
		pb->t_end = now;
}

/* A frame coming back to a publisher read by hand: confirms, returns,
 * flow control and closes. */
static int
perf_pub_frame(void *arg, const struct perf_frame *f)
{
	struct perf_pub	*pb = arg;
	char		 text[300];
	uint32_t	 id;

	if (f->type != AMQP_FRAME_METHOD || f->n < 4)
		return (0);
	id = perf_get32(f->p);
	switch (id) {
	case AMQP_BASIC_ACK:
	case AMQP_BASIC_NACK:
		if (f->n < 13) {
			perf_fail("publisher %d: short basic.ack", pb->id);
			return (-1);
		}
		perf_pub_confirm(pb, perf_get64(f->p + 4), f->p[12] & 1,
		    id == AMQP_BASIC_NACK);
		return (0);
	case AMQP_BASIC_RETURN:
		pb->returned++;
		return (0);
	case AMQP_CHANNEL_CLOSE:
	case AMQP_CONNECTION_CLOSE:
		perf_close_text(f->p, f->n, text, sizeof text);
		perf_fail("publisher %d: broker closed the %s: %s", pb->id,
		    id == AMQP_CHANNEL_CLOSE ? "channel" : "connection", text);
		return (-1);
	case AMQP_CONNECTION_CLOSE_OK:
		pb->closed = 1;
		return (0);
	}
	return (0);
}

/* Confirms and closes read by rabbitmq-c; wait up to us microseconds for
 * the first frame, then take what is already there.  -1 on error. */
static int
perf_pub_lib_poll(struct perf_pub *pb, long us)
{
	struct timeval		 tv = { us / 1000000, us % 1000000 };
	amqp_frame_t		 f;
	amqp_basic_ack_t	*a;
	amqp_basic_nack_t	*na;
	amqp_channel_close_t	*cc;
	int			 st;

	for (;;) {
		st = amqp_simple_wait_frame_noblock(pb->conn, &f, &tv);
		if (st == AMQP_STATUS_TIMEOUT)
			return (0);
		if (st != AMQP_STATUS_OK) {
			perf_fail("publisher %d: %s", pb->id,
			    amqp_error_string2(st));
			return (-1);
		}
		tv.tv_sec = tv.tv_usec = 0;
		if (f.frame_type != AMQP_FRAME_METHOD)
			continue;
		switch (f.payload.method.id) {
		case AMQP_BASIC_ACK_METHOD:
			a = f.payload.method.decoded;
			perf_pub_confirm(pb, a->delivery_tag, a->multiple, 0);
			break;
		case AMQP_BASIC_NACK_METHOD:
			na = f.payload.method.decoded;
			perf_pub_confirm(pb, na->delivery_tag, na->multiple, 1);
			break;
		case AMQP_BASIC_RETURN_METHOD:
			pb->returned++;
			break;
		case AMQP_CHANNEL_CLOSE_METHOD:
		case AMQP_CONNECTION_CLOSE_METHOD:
			cc = f.payload.method.decoded;
			perf_fail("publisher %d: broker closed: %u %.*s",
			    pb->id, cc->reply_code, (int)cc->reply_text.len,
			    (char *)cc->reply_text.bytes);
			return (-1);
		}
		if (!amqp_data_in_buffer(pb->conn))
			amqp_maybe_release_buffers(pb->conn);
	}
}

/* Wait for confirms (or anything) for up to 100 ms. */
static int
perf_pub_wait(struct perf_pub *pb)
{
	struct pollfd	 pfd;

	if (pb->run->o->rmq)
		return (perf_pub_lib_poll(pb, 100000));
	pfd.fd = pb->fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 100) <= 0)
		return (0);
	return (perf_reader_pump(&pb->rd, perf_pub_frame, pb) < 0 ? -1 : 0);
}

/* The routing key of message seq. */
static const char *
perf_pub_key(const struct perf_run *run, uint64_t seq)
{
	if (run->routing_key != NULL)
		return (run->routing_key);
	return (run->keys[seq % (uint64_t)run->nkeys]);
}

/* Send n messages from seq on, stamped now: one write of hand-encoded
 * frames, or n amqp_basic_publish calls with --client rmq. */
static int
perf_pub_send(struct perf_pub *pb, uint64_t seq, size_t n, uint64_t now)
{
	struct perf_run		*run = pb->run;
	const struct perf_tmpl	*t;
	amqp_basic_properties_t	 props;
	amqp_bytes_t		 body;
	size_t			 i, len = 0;
	int			 st;

	for (i = 0; i < n && run->confirm; i++)
		pb->ring_ts[(pb->next_tag + i) & pb->ring_mask] = now;
	if (run->o->rmq) {
		memset(&props, 0, sizeof props);
		if (run->persistent) {
			props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
			props.delivery_mode = 2;
		}
		body.bytes = pb->buf;
		body.len = run->o->size;
		for (i = 0; i < n; i++) {
			perf_stamp(pb->buf, (unsigned)pb->id, seq + i, now);
			st = amqp_basic_publish(pb->conn, 1,
			    amqp_cstring_bytes(run->exchange),
			    amqp_cstring_bytes(perf_pub_key(run, seq + i)),
			    0, 0, &props, body);
			if (st != AMQP_STATUS_OK) {
				perf_fail("publisher %d: basic.publish: %s",
				    pb->id, amqp_error_string2(st));
				return (-1);
			}
		}
		return (0);
	}
	for (i = 0; i < n; i++) {
		t = &run->tmpls[run->ntmpls == 1 ? 0 :
		    (seq + i) % (uint64_t)run->ntmpls];
		if (run->ntmpls != 1)
			memcpy(pb->buf + len, t->bytes, t->len);
		perf_stamp(pb->buf + len + t->body_off, (unsigned)pb->id,
		    seq + i, now);
		len += t->len;
	}
	if (perf_write_all(pb->fd, pb->buf, len, &pb->rd, perf_pub_frame,
	    pb) != 0) {
		if (!atomic_load(&perf_abort))
			perf_fail("publisher %d: write: %s", pb->id,
			    strerror(errno));
		return (-1);
	}
	return (0);
}

/* Publisher thread: send batches until the quota, the deadline or a stop;
 * in confirm mode keep at most --window unconfirmed, then wait for the
 * last confirm.  With --rate, bursts are paced by clock_nanosleep. */
static void *
perf_pub_main(void *arg)
{
	struct perf_pub		*pb = arg;
	struct perf_run		*run = pb->run;
	const struct perf_opts	*o = run->o;
	struct timespec		 ts;
	uint64_t		 seq = 0, now, next = 0, interval = 0, avail;
	uint64_t		 n, last_low, idle_since;
	int			 paced = o->rate > 0;

	if (paced) {
		interval = (uint64_t)((double)o->burst * 1e9 /
		    (o->rate / run->np));
		next = perf_now() + interval * (uint64_t)pb->id /
		    (uint64_t)run->np;
	}
	while (!atomic_load_explicit(&perf_abort, memory_order_relaxed) &&
	    !atomic_load_explicit(&run->pub_stop, memory_order_relaxed)) {
		n = paced ? (uint64_t)o->burst : (uint64_t)run->batch;
		if (pb->quota != 0) {
			if (seq >= pb->quota)
				break;
			if (n > pb->quota - seq)
				n = pb->quota - seq;
		}
		if (run->confirm) {
			avail = (uint64_t)o->window - (pb->next_tag - pb->low);
			if (avail == 0) {
				if (perf_pub_wait(pb) != 0)
					break;
				continue;
			}
			if (n > avail)
				n = avail;
		}
		now = perf_now();
		if (paced) {
			if (now < next) {
				ts.tv_sec = (time_t)(next / 1000000000u);
				ts.tv_nsec = (long)(next % 1000000000u);
				while (clock_nanosleep(CLOCK_MONOTONIC,
				    TIMER_ABSTIME, &ts, NULL) == EINTR)
					;
				now = perf_now();
			} else if (now > next + interval)
				pb->late++;
			next += interval;
			if (now > next + UINT64_C(1000000000))
				next = now;	/* a second behind: give up */
		}
		if (run->deadline != 0 && now >= run->deadline)
			break;
		if (pb->t_first == 0)
			pb->t_first = now;
		if (perf_pub_send(pb, seq, (size_t)n, now) != 0)
			break;
		seq += n;
		pb->next_tag += n;
		atomic_store_explicit(&pb->sent, seq, memory_order_relaxed);
		if (!run->confirm)
			pb->t_end = perf_now();
		if (o->rmq ? (run->confirm && perf_pub_lib_poll(pb, 0) != 0) :
		    perf_reader_pump(&pb->rd, perf_pub_frame, pb) < 0)
			break;
	}

	/* The last confirms; give up when none comes for --timeout. */
	last_low = pb->low;
	idle_since = perf_now();
	while (run->confirm && pb->low < pb->next_tag &&
	    !atomic_load(&perf_abort)) {
		if (perf_pub_wait(pb) != 0)
			break;
		if (pb->low != last_low) {
			last_low = pb->low;
			idle_since = perf_now();
		} else if (perf_now() - idle_since >
		    (uint64_t)(o->timeout * 1e9)) {
			perf_fail("publisher %d: %" PRIu64 " confirms missing "
			    "after %.0f s", pb->id, pb->next_tag - pb->low,
			    o->timeout);
			break;
		}
	}
	if (pb->conn == NULL)
		;	/* the loopback: the main thread closes the socket */
	else if (o->rmq)
		perf_close_lib(pb->conn);
	else
		perf_close_raw(pb->conn, &pb->rd, o->timeout);
	pb->conn = NULL;
	atomic_store(&pb->done, 1);
	return (NULL);
}

/* A publisher's buffer for a batch or a burst of hand-encoded frames;
 * with a single template the copies are made once. */
static void
perf_pub_buf(struct perf_run *run, struct perf_pub *pb)
{
	size_t	 maxlen = 0, nmsg, i;
	int	 k;

	for (k = 0; k < run->ntmpls; k++)
		if (run->tmpls[k].len > maxlen)
			maxlen = run->tmpls[k].len;
	nmsg = (size_t)(run->batch > run->o->burst ? run->batch :
	    run->o->burst);
	pb->bufcap = nmsg * maxlen;
	pb->buf = perf_calloc(1, pb->bufcap);
	if (run->ntmpls == 1)
		for (i = 0; i < nmsg; i++)
			memcpy(pb->buf + i * maxlen, run->tmpls[0].bytes,
			    maxlen);
}

/* Connect a publisher (confirm.select in confirm mode) and make its
 * batch buffer. */
static int
perf_pub_setup(struct perf_run *run, struct perf_pub *pb, int id)
{
	const struct perf_opts	*o = run->o;
	size_t			 ring;

	pb->run = run;
	pb->id = id;
	pb->next_tag = pb->low = 1;
	if ((pb->conn = perf_connect(o, run->frame_max)) == NULL)
		return (-1);
	if (run->confirm) {
		amqp_confirm_select(pb->conn, 1);
		if (perf_rpc_ok(pb->conn, "confirm.select") != 0)
			return (-1);
		for (ring = 1; ring < (size_t)o->window; ring <<= 1)
			;
		pb->ring_mask = ring - 1;
		pb->ring_ts = perf_calloc(ring, sizeof *pb->ring_ts);
		pb->ring_done = perf_calloc(ring, 1);
	}
	pb->fd = perf_conn_fd(pb->conn);
	perf_reader_init(&pb->rd, pb->fd, (size_t)run->frame_max);
	if (o->rmq) {
		pb->buf = perf_calloc(1, o->size);
		memset(pb->buf, 'x', o->size);
		return (0);
	}
	perf_pub_buf(run, pb);
	return (0);
}

/* Free what a publisher holds after its thread ended. */
static void
perf_pub_free(struct perf_pub *pb)
{
	if (pb->conn != NULL)
		amqp_destroy_connection(pb->conn);
	pb->conn = NULL;
	perf_reader_free(&pb->rd);
	free(pb->buf);
	free(pb->ring_ts);
	free(pb->ring_done);
	pb->buf = NULL;
	pb->ring_ts = NULL;
	pb->ring_done = NULL;
}

/*
 * Topic bindings.  Keys have three words a<0-99>.b<0-99>.c<0-9>; binding i
 * goes to queue i % Q and is, by i % 100: 65 literal keys, 15 a.*.c,
 * 10 *.b.c, 5 a.b.#, 4 #.b.c and 1 a.#, drawn from a fixed seed so both
 * brokers get the same set.  The published keys are the first literal
 * bindings' keys, so each matches at least one binding; how many bindings
 * and queues each matches is computed here with a reference matcher.
 */

/* Cut a topic into words; return how many (at most max). */
static int
perf_topic_words(const char *s, const char **w, size_t *wl, int max)
{
	int		 n = 0;
	const char	*e;

	for (;;) {
		if (n == max)
			return (n);
		e = strchr(s, '.');
		w[n] = s;
		wl[n] = e != NULL ? (size_t)(e - s) : strlen(s);
		n++;
		if (e == NULL)
			return (n);
		s = e + 1;
	}
}

/* Reference matcher over words: * is one word, # zero or more. */
static int
perf_topic_match_words(const char **pw, const size_t *pl, int np,
    const char **kw, const size_t *kl, int nk)
{
	int	 i;

	if (np == 0)
		return (nk == 0);
	if (pl[0] == 1 && pw[0][0] == '#') {
		for (i = 0; i <= nk; i++)
			if (perf_topic_match_words(pw + 1, pl + 1, np - 1,
			    kw + i, kl + i, nk - i))
				return (1);
		return (0);
	}
	if (nk == 0)
		return (0);
	if (!(pl[0] == 1 && pw[0][0] == '*') &&
	    (pl[0] != kl[0] || memcmp(pw[0], kw[0], pl[0]) != 0))
		return (0);
	return (perf_topic_match_words(pw + 1, pl + 1, np - 1, kw + 1, kl + 1,
	    nk - 1));
}

/* Does the binding pattern match the routing key? */
static int
perf_topic_match(const char *pattern, const char *key)
{
	const char	*pw[16], *kw[16];
	size_t		 pl[16], kl[16];
	int		 np, nk;

	np = perf_topic_words(pattern, pw, pl, 16);
	nk = perf_topic_words(key, kw, kl, 16);
	return (perf_topic_match_words(pw, pl, np, kw, kl, nk));
}

/* FNV-1a of a pattern and its queue, for the duplicate check. */
static uint64_t
perf_topic_hash(const char *s, int q)
{
	uint64_t	 h = UINT64_C(14695981039346656037);

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * UINT64_C(1099511628211);
	return ((h ^ (uint64_t)q) * UINT64_C(1099511628211));
}

/* Draw binding i's pattern of its kind. */
static void
perf_topic_pattern(char *buf, size_t len, int i, uint64_t *rng)
{
	int	 kind = i % 100;
	int	 a = (int)(perf_rand(rng) % 100);
	int	 b = (int)(perf_rand(rng) % 100);
	int	 c = (int)(perf_rand(rng) % 10);

	if (kind < 65)
		snprintf(buf, len, "a%d.b%d.c%d", a, b, c);
	else if (kind < 80)
		snprintf(buf, len, "a%d.*.c%d", a, c);
	else if (kind < 90)
		snprintf(buf, len, "*.b%d.c%d", b, c);
	else if (kind < 95)
		snprintf(buf, len, "a%d.b%d.#", a, b);
	else if (kind < 99)
		snprintf(buf, len, "#.b%d.c%d", b, c);
	else
		snprintf(buf, len, "a%d.#", a);
}

/* Make the bindings (patterns[i] to queue i % nq), the published keys and
 * which queues each key reaches. */
static void
perf_topic_plan(struct perf_run *run)
{
	int		 n = run->o->bindings, i, k, q, tries, cnt, nqk;
	char		(*pat)[32];
	size_t		 hsize, h;
	int		*table;
	uint64_t	 rng = 42;
	double		 sumb = 0, sumq = 0;

	run->patterns = pat = perf_calloc((size_t)n, sizeof *pat);
	for (hsize = 1; hsize < (size_t)n * 4; hsize <<= 1)
		;
	table = perf_calloc(hsize, sizeof *table);
	for (i = 0; i < n; i++) {
		q = i % run->nq;
		for (tries = 0;; tries++) {
			/* A kind with few patterns may run out: literals. */
			perf_topic_pattern(pat[i], sizeof pat[i],
			    tries < 64 ? i : 0, &rng);
			h = perf_topic_hash(pat[i], q) & (hsize - 1);
			while (table[h] != 0 &&
			    (strcmp(pat[table[h] - 1], pat[i]) != 0 ||
			    (table[h] - 1) % run->nq != q))
				h = (h + 1) & (hsize - 1);
			if (table[h] == 0) {
				table[h] = i + 1;
				break;
			}
		}
	}
	free(table);

	run->keys = perf_calloc((size_t)run->o->keys, sizeof *run->keys);
	for (i = 0, k = 0; i < n && k < run->o->keys; i++) {
		if (strchr(pat[i], '*') != NULL || strchr(pat[i], '#') != NULL)
			continue;
		for (q = 0; q < k && strcmp(run->keys[q], pat[i]) != 0; q++)
			;
		if (q == k)
			snprintf(run->keys[k++], sizeof run->keys[0], "%s",
			    pat[i]);
	}
	run->nkeys = k;
	run->key_match = perf_calloc((size_t)k * (size_t)run->nq, 1);
	for (k = 0; k < run->nkeys; k++) {
		cnt = 0;
		for (i = 0; i < n; i++) {
			if (perf_topic_match(pat[i], run->keys[k])) {
				cnt++;
				run->key_match[k * run->nq + i % run->nq] = 1;
			}
		}
		for (q = 0, nqk = 0; q < run->nq; q++)
			nqk += run->key_match[k * run->nq + q];
		sumb += cnt;
		sumq += nqk;
	}
	run->bindings_per_msg = run->nkeys ? sumb / run->nkeys : 0;
	run->queues_per_msg = run->nkeys ? sumq / run->nkeys : 0;
}

/* Bind every pattern, PERF_BIND_WINDOW queue.bind at a time before
 * reading their bind-oks. */
static int
perf_topic_bind(struct perf_run *run, amqp_connection_state_t ctl)
{
	char			(*pat)[32] = run->patterns;
	amqp_queue_bind_t	 b;
	amqp_method_t		 m;
	uint64_t		 t0 = perf_now();
	int			 n = run->o->bindings, i, j, end;

	memset(&b, 0, sizeof b);
	b.exchange = amqp_cstring_bytes(run->exchange);
	b.arguments = amqp_empty_table;
	for (i = 0; i < n; i = end) {
		end = i + PERF_BIND_WINDOW < n ? i + PERF_BIND_WINDOW : n;
		for (j = i; j < end; j++) {
			b.queue = amqp_cstring_bytes(run->qnames[j % run->nq]);
			b.routing_key = amqp_cstring_bytes(pat[j]);
			if (amqp_send_method(ctl, 1, AMQP_QUEUE_BIND_METHOD,
			    &b) != AMQP_STATUS_OK) {
				perf_fail("queue.bind: send failed");
				return (-1);
			}
		}
		for (j = i; j < end; j++) {
			if (amqp_simple_wait_method(ctl, 1,
			    AMQP_QUEUE_BIND_OK_METHOD, &m) != AMQP_STATUS_OK) {
				perf_fail("queue.bind %s: no bind-ok", pat[j]);
				return (-1);
			}
		}
		amqp_maybe_release_buffers(ctl);
	}
	run->bind_seconds = (double)(perf_now() - t0) / 1e9;
	return (0);
}

/* Unique queue and exchange names for this run. */
static void
perf_names(struct perf_run *run)
{
	int	 q;

	run->qnames = perf_calloc((size_t)run->nq, sizeof *run->qnames);
	for (q = 0; q < run->nq; q++)
		snprintf(run->qnames[q], sizeof run->qnames[q], "%s-q%d",
		    run->prefix, q);
	run->exchange[0] = '\0';
	if (run->o->sc->bit & (S_FANOUT | S_TOPIC))
		snprintf(run->exchange, sizeof run->exchange, "%s-x",
		    run->prefix);
}

/* Declare the exchange, the queues and (fanout) their bindings. */
static int
perf_declare(struct perf_run *run, amqp_connection_state_t ctl)
{
	unsigned	 bit = run->o->sc->bit;
	int		 q;

	run->declared = 1;
	if (run->exchange[0] != '\0') {
		amqp_exchange_declare(ctl, 1, amqp_cstring_bytes(run->exchange),
		    amqp_cstring_bytes(bit == S_FANOUT ? "fanout" : "topic"),
		    0, 0, 0, 0, amqp_empty_table);
		if (perf_rpc_ok(ctl, "exchange.declare") != 0)
			return (-1);
	}
	for (q = 0; q < run->nq; q++) {
		amqp_queue_declare(ctl, 1, amqp_cstring_bytes(run->qnames[q]),
		    0, run->persistent, 0, 0, amqp_empty_table);
		if (perf_rpc_ok(ctl, "queue.declare") != 0)
			return (-1);
		if (bit != S_FANOUT)
			continue;
		amqp_queue_bind(ctl, 1, amqp_cstring_bytes(run->qnames[q]),
		    amqp_cstring_bytes(run->exchange), amqp_empty_bytes,
		    amqp_empty_table);
		if (perf_rpc_ok(ctl, "queue.bind") != 0)
			return (-1);
	}
	return (0);
}

/* Delete what this run declared, on a fresh connection (the control one
 * may be gone), tolerating what is already gone. */
static void
perf_cleanup(struct perf_run *run)
{
	amqp_connection_state_t	 conn;
	amqp_queue_declare_ok_t	*ok;
	amqp_rpc_reply_t	 r;
	int			 q;

	if (!run->declared)
		return;
	if ((conn = perf_connect(run->o, PERF_FRAME_MAX)) == NULL)
		return;
	/* What the consumers never got is still there, or lost. */
	run->left = perf_calloc((size_t)run->nq, sizeof *run->left);
	for (q = 0; q < run->nq; q++) {
		ok = amqp_queue_declare(conn, 1,
		    amqp_cstring_bytes(run->qnames[q]), 1, 0, 0, 0,
		    amqp_empty_table);
		run->left[q] = ok != NULL ? (int64_t)ok->message_count : -1;
		if (ok == NULL)
			amqp_channel_open(conn, 1);
	}
	for (q = 0; q <= run->nq; q++) {
		if (q < run->nq)
			amqp_queue_delete(conn, 1,
			    amqp_cstring_bytes(run->qnames[q]), 0, 0);
		else if (run->exchange[0] != '\0')
			amqp_exchange_delete(conn, 1,
			    amqp_cstring_bytes(run->exchange), 0);
		else
			break;
		r = amqp_get_rpc_reply(conn);
		if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
		    r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
			amqp_send_method(conn, 1, AMQP_CHANNEL_CLOSE_OK_METHOD,
			    &(amqp_channel_close_ok_t){ 0 });
			amqp_channel_open(conn, 1);
		} else if (r.reply_type != AMQP_RESPONSE_NORMAL)
			break;
	}
	perf_close_lib(conn);
}

/* Templates for every routing key, and the batch size they imply. */
static void
perf_make_tmpls(struct perf_run *run)
{
	const struct perf_opts	*o = run->o;
	int			 k;

	run->ntmpls = run->routing_key != NULL ? 1 : run->nkeys;
	run->tmpls = perf_calloc((size_t)run->ntmpls, sizeof *run->tmpls);
	for (k = 0; k < run->ntmpls; k++)
		perf_tmpl_make(&run->tmpls[k], run->exchange,
		    run->routing_key != NULL ? run->routing_key : run->keys[k],
		    run->persistent, o->size, (size_t)run->frame_max);
	run->batch = o->batch;
	if (run->batch <= 0) {
		run->batch = (int)(65536 / run->tmpls[0].len);
		if (run->batch < 1)
			run->batch = 1;
		if (run->batch > 1024)
			run->batch = 1024;
	}
}

/* Streams, consumers and publishers, zeroed, for np and nq. */
static void
perf_alloc(struct perf_run *run)
{
	int	 i;

	run->nstreams = (size_t)run->nq * (size_t)run->np;
	run->streams = perf_calloc(run->nstreams, sizeof *run->streams);
	run->cons = perf_calloc((size_t)run->nc, sizeof *run->cons);
	for (i = 0; i < run->nc; i++)
		perf_cons_init(run, &run->cons[i], i);
	run->pubs = perf_calloc((size_t)run->np, sizeof *run->pubs);
	for (i = 0; i < run->np; i++) {
		run->pubs[i].run = run;
		run->pubs[i].id = i;
		run->pubs[i].fd = -1;
		run->pubs[i].next_tag = run->pubs[i].low = 1;
		if (run->o->count > 0)
			run->pubs[i].quota = run->o->count /
			    (uint64_t)run->np + ((uint64_t)i <
			    run->o->count % (uint64_t)run->np);
	}
}

/* Sums over publishers and consumers, for progress. */
static void
perf_sums(struct perf_run *run, uint64_t *sent, uint64_t *conf,
    uint64_t *deliv)
{
	int	 i;

	*sent = *conf = *deliv = 0;
	for (i = 0; i < run->np; i++) {
		*sent += atomic_load_explicit(&run->pubs[i].sent,
		    memory_order_relaxed);
		*conf += atomic_load_explicit(&run->pubs[i].confirmed,
		    memory_order_relaxed);
	}
	for (i = 0; i < run->nc; i++)
		*deliv += atomic_load_explicit(&run->cons[i].distinct,
		    memory_order_relaxed);
}

/* One progress line on stderr, at most once a second. */
static void
perf_progress(struct perf_run *run, const char *phase, int force)
{
	static uint64_t	 last_t, last_s, last_d, last_c;
	uint64_t	 now = perf_now(), s, c, d;
	double		 dt;

	if (run->o->quiet)
		return;
	if (last_t == 0 || now < last_t)
		last_t = run->t_start;
	if (!force && now - last_t < UINT64_C(1000000000))
		return;
	perf_sums(run, &s, &c, &d);
	dt = (double)(now - last_t) / 1e9;
	if (dt <= 0)
		dt = 1;
	fprintf(stderr, "warren-perf %s %s %5.1fs: sent %" PRIu64
	    " (%.0f/s) delivered %" PRIu64 " (%.0f/s)", run->o->sc->name,
	    phase, (double)(now - run->t_start) / 1e9, s,
	    (double)(s - last_s) / dt, d, (double)(d - last_d) / dt);
	if (run->confirm)
		fprintf(stderr, " confirmed %" PRIu64 " (%.0f/s)", c,
		    (double)(c - last_c) / dt);
	fputc('\n', stderr);
	last_t = now;
	last_s = s;
	last_d = d;
	last_c = c;
}

/* What each stream should receive, from what each publisher sent. */
static uint64_t
perf_expect(struct perf_run *run)
{
	uint64_t	 total = 0, sent, per, rest, e;
	int		 q, p, k;

	for (q = 0; q < run->nq; q++) {
		for (p = 0; p < run->np; p++) {
			sent = atomic_load(&run->pubs[p].sent);
			if (run->key_match == NULL)
				e = sent;
			else {
				per = sent / (uint64_t)run->nkeys;
				rest = sent % (uint64_t)run->nkeys;
				for (k = 0, e = 0; k < run->nkeys; k++)
					if (run->key_match[k * run->nq + q])
						e += per + ((uint64_t)k < rest);
			}
			run->streams[q * run->np + p].expected = e;
			total += e;
		}
	}
	return (total);
}

/* Wait until the consumers have every expected message, or nothing new
 * came for --timeout seconds, or an error. */
static void
perf_wait_deliveries(struct perf_run *run, uint64_t expected,
    const char *phase)
{
	uint64_t	 s, c, d, last = UINT64_MAX, since = perf_now();

	while (!atomic_load(&perf_abort)) {
		perf_sums(run, &s, &c, &d);
		if (d >= expected)
			break;
		if (d != last) {
			last = d;
			since = perf_now();
		} else if (perf_now() - since >
		    (uint64_t)(run->o->timeout * 1e9)) {
			run->timed_out = 1;
			perf_note(NULL, "%s: %" PRIu64 " of %" PRIu64
			    " messages after waiting %.0f s", run->o->sc->name,
			    d, expected, run->o->timeout);
			break;
		}
		perf_progress(run, phase, 0);
		perf_sleep_ms(10);
	}
}

/* Start the threads, publish, wait for deliveries and stop the
 * consumers: the part every message-flow scenario shares. */
static void
perf_drive(struct perf_run *run)
{
	uint64_t	 expected;
	int		 i, done;

	for (i = 0; i < run->nc && !atomic_load(&perf_abort); i++)
		perf_cons_start_thread(run, &run->cons[i]);
	run->t_start = perf_now();
	if (run->o->count == 0)
		run->deadline = run->t_start +
		    (uint64_t)(run->o->duration * 1e9);
	for (i = 0; i < run->np && !atomic_load(&perf_abort); i++) {
		if (pthread_create(&run->pubs[i].thread, NULL, perf_pub_main,
		    &run->pubs[i]) != 0)
			perf_fail("pthread_create: %s", strerror(errno));
		else
			run->pubs[i].started = 1;
	}
	for (;;) {
		for (i = 0, done = 0; i < run->np; i++)
			done += !run->pubs[i].started ||
			    atomic_load(&run->pubs[i].done);
		if (done == run->np)
			break;
		if (perf_signalled)
			atomic_store(&run->pub_stop, 1);
		perf_progress(run, "publishing", 0);
		perf_sleep_ms(10);
	}
	for (i = 0; i < run->np; i++) {
		if (run->pubs[i].started) {
			pthread_join(run->pubs[i].thread, NULL);
			run->pubs[i].started = 0;	/* joined: not again */
		}
	}
	expected = perf_expect(run);
	if (run->nc > 0)
		perf_wait_deliveries(run, expected, "draining");
	perf_progress(run, run->nc > 0 ? "done" : "published", 1);
	atomic_store(&run->cons_stop, 1);
}

/* Totals over a run. */
struct perf_totals {
	uint64_t	 sent, confirmed, nacked, returned, late;
	uint64_t	 delivered, distinct, dups, redelivered, reordered, bad;
	uint64_t	 expected, lost, misrouted, bytes;
	uint64_t	 t_first_pub, t_last_pub, t_last_conf;
	uint64_t	 t_first_del, t_last_del;
	struct perf_hist lat, clat;
	uint64_t	*p_lost, *p_dups, *p_reord; /* owned: by publisher */
};

/* Add everything up once the threads have ended. */
static void
perf_totals(struct perf_run *run, struct perf_totals *t)
{
	struct perf_pub		*pb;
	struct perf_cons	*c;
	struct perf_stream	*s;
	uint64_t		 recv;
	size_t			 si;
	int			 i;

	memset(t, 0, sizeof *t);
	t->p_lost = perf_calloc((size_t)run->np, sizeof *t->p_lost);
	t->p_dups = perf_calloc((size_t)run->np, sizeof *t->p_dups);
	t->p_reord = perf_calloc((size_t)run->np, sizeof *t->p_reord);
	for (i = 0; i < run->np; i++) {
		pb = &run->pubs[i];
		t->sent += atomic_load(&pb->sent);
		t->confirmed += atomic_load(&pb->confirmed);
		t->nacked += atomic_load(&pb->nacked);
		t->returned += pb->returned;
		t->late += pb->late;
		if (pb->t_first != 0 &&
		    (t->t_first_pub == 0 || pb->t_first < t->t_first_pub))
			t->t_first_pub = pb->t_first;
		if (pb->t_end > t->t_last_pub)
			t->t_last_pub = pb->t_end;
		perf_hist_merge(&t->clat, &pb->clat);
	}
	t->t_last_conf = t->t_last_pub;
	for (i = 0; i < run->nc; i++) {
		c = &run->cons[i];
		t->delivered += atomic_load(&c->delivered);
		t->distinct += atomic_load(&c->distinct);
		t->dups += c->dups;
		t->redelivered += c->redelivered;
		t->reordered += c->reordered;
		t->bad += c->bad;
		t->bytes += c->bytes;
		if (c->t_first != 0 &&
		    (t->t_first_del == 0 || c->t_first < t->t_first_del))
			t->t_first_del = c->t_first;
		if (c->t_last > t->t_last_del)
			t->t_last_del = c->t_last;
		perf_hist_merge(&t->lat, &c->lat);
	}
	for (si = 0; si < run->nstreams; si++) {
		s = &run->streams[si];
		recv = 0;
		for (i = 0; i < run->nc; i++) {
			recv += run->cons[i].st_recv[si];
			t->p_dups[si % (size_t)run->np] +=
			    run->cons[i].st_dups[si];
			t->p_reord[si % (size_t)run->np] +=
			    run->cons[i].st_reord[si];
		}
		t->expected += s->expected;
		if (recv < s->expected) {
			t->lost += s->expected - recv;
			t->p_lost[si % (size_t)run->np] += s->expected - recv;
		} else
			t->misrouted += recv - s->expected;
	}
}

/* Free the totals' arrays. */
static void
perf_totals_free(struct perf_totals *t)
{
	free(t->p_lost);
	free(t->p_dups);
	free(t->p_reord);
}

/* Seconds between two instants, or NAN when either is missing. */
static double
perf_secs(uint64_t from, uint64_t to)
{
	if (from == 0 || to == 0 || to < from)
		return (NAN);
	return ((double)(to - from) / 1e9);
}

/* The start of the JSON object: scenario and parameters. */
static void
perf_report_head(struct perf_run *run)
{
	const struct perf_opts	*o = run->o;
	unsigned		 bit = o->sc->bit;
	char			 broker[300];

	perf_json_open(NULL, '{');
	perf_json_str("scenario", o->sc->name);
	if (bit == S_LOOPBACK && o->rate > 0)
		perf_json_str("mode", "relay");
	if (bit != S_LOOPBACK) {
		snprintf(broker, sizeof broker, "%s:%d%s", o->ci.host,
		    o->ci.port, o->ci.vhost);
		perf_json_str("broker", broker);
	}
	perf_json_str("tool", "warren-perf " PACKAGE_VERSION);
	perf_json_open("params", '{');
	if (bit != S_CONNS) {
		perf_json_u64("size", o->size);
		if (o->size_raised)
			perf_json_str("size_note", "raised to the 16-byte "
			    "header");
		perf_json_u64("count", o->count);
		perf_json_num("duration", o->duration);
		perf_json_u64("batch", (uint64_t)run->batch);
		perf_json_u64("frame_max", (uint64_t)run->frame_max);
	}
	if (bit & (S_FLOW | S_BACKLOG)) {
		perf_json_str("client", o->rmq ? "rmq" : "raw");
		perf_json_u64("publishers", (uint64_t)o->publishers);
		perf_json_u64("consumers", (uint64_t)run->nc);
		perf_json_u64("queues", (uint64_t)run->nq);
		perf_json_u64("prefetch", (uint64_t)o->prefetch);
		perf_json_u64("ack_every", (uint64_t)o->ack_every);
		perf_json_bool("persistent", run->persistent);
	}
	if (bit == S_CONFIRM)
		perf_json_u64("window", (uint64_t)o->window);
	if (o->rate > 0) {
		perf_json_num("rate", o->rate);
		perf_json_u64("burst", (uint64_t)o->burst);
	}
	if (bit == S_TOPIC) {
		perf_json_u64("bindings", (uint64_t)o->bindings);
		perf_json_u64("keys", (uint64_t)run->nkeys);
	}
	if (bit == S_CONNS)
		perf_json_u64("connections", (uint64_t)o->connections);
	if (o->pid > 0)
		perf_json_u64("pid", (uint64_t)o->pid);
	perf_json_close('}');
}

/* Messages queue q should have delivered and did not. */
static uint64_t
perf_queue_lost(const struct perf_run *run, int q)
{
	uint64_t	 lost = 0, recv;
	size_t		 si;
	int		 p, c;

	for (p = 0; p < run->np; p++) {
		si = (size_t)q * (size_t)run->np + (size_t)p;
		for (c = 0, recv = 0; c < run->nc; c++)
			recv += run->cons[c].st_recv[si];
		if (recv < run->streams[si].expected)
			lost += run->streams[si].expected - recv;
	}
	return (lost);
}

/* Message counts, rates, latency and integrity for a message flow. */
static void
perf_report_flow(struct perf_run *run, const struct perf_totals *t,
    uint64_t msgs, double secs)
{
	int	 i;

	perf_json_u64("msgs", msgs);
	perf_json_num("seconds", secs);
	perf_json_num("msg_per_s", (double)msgs / secs);
	perf_json_num("mb_per_s", (double)msgs * (double)run->o->size /
	    secs / 1e6);
	perf_json_hist("latency_us", &t->lat);
	perf_json_u64("sent", t->sent);
	perf_json_u64("deliveries", t->distinct);
	perf_json_u64("expected", t->expected);
	perf_json_u64("lost", t->lost);
	perf_json_u64("duplicates", t->dups);
	perf_json_u64("redelivered", t->redelivered);
	perf_json_u64("reordered", t->reordered);
	perf_json_u64("misrouted", t->misrouted);
	perf_json_u64("malformed", t->bad);
	if (t->returned)
		perf_json_u64("returned", t->returned);
	if (t->lost > 0 && run->left != NULL) {
		/* Lost messages still queued were not dropped: stuck. */
		perf_json_open("left_in_queue", '[');
		for (i = 0; i < run->nq; i++) {
			perf_json_key(NULL);
			printf("%" PRId64, run->left[i]);
		}
		perf_json_close(']');
		perf_json_open("lost_per_queue", '[');
		for (i = 0; i < run->nq; i++)
			perf_json_u64(NULL, perf_queue_lost(run, i));
		perf_json_close(']');
	}
	perf_json_open("per_publisher", '[');
	for (i = 0; i < run->np; i++) {
		perf_json_open(NULL, '{');
		perf_json_u64("id", (uint64_t)i);
		perf_json_u64("sent", atomic_load(&run->pubs[i].sent));
		perf_json_u64("lost", t->p_lost[i]);
		perf_json_u64("duplicates", t->p_dups[i]);
		perf_json_u64("reordered", t->p_reord[i]);
		perf_json_close('}');
	}
	perf_json_close(']');
	if (run->o->rate > 0) {
		perf_json_num("achieved_rate", (double)t->sent /
		    perf_secs(t->t_first_pub, t->t_last_pub));
		perf_json_u64("late_bursts", t->late);
	}
}

/* The end of the JSON object: errors and the verdict; the exit status. */
static int
perf_report_tail(struct perf_run *run, const struct perf_totals *t)
{
	int	 ok;

	if (perf_signalled)
		perf_fail("interrupted");
	if (run->timed_out)
		perf_fail("timed out waiting for messages");
	ok = atomic_load(&perf_nerrors) == 0;
	if (t != NULL)
		ok = ok && t->lost == 0 && t->dups == 0 && t->bad == 0 &&
		    t->misrouted == 0 && t->nacked == 0;
	perf_json_u64("errors", (uint64_t)atomic_load(&perf_nerrors));
	if (perf_err[0] != '\0')
		perf_json_str("error", perf_err);
	perf_json_bool("ok", ok);
	perf_json_close('}');
	fputc('\n', stdout);
	fflush(stdout);
	if (!ok && run->o->quiet == 0)
		fprintf(stderr, "warren-perf %s: FAILED%s%s\n",
		    run->o->sc->name, perf_err[0] ? ": " : "", perf_err);
	return (ok ? 0 : 1);
}

/* Join whatever threads are still running after an error. */
static void
perf_stop_all(struct perf_run *run)
{
	int	 i;

	atomic_store(&run->pub_stop, 1);
	atomic_store(&run->cons_stop, 1);
	for (i = 0; run->pubs != NULL && i < run->np; i++) {
		if (run->pubs[i].started)
			pthread_join(run->pubs[i].thread, NULL);
		run->pubs[i].started = 0;
		perf_pub_free(&run->pubs[i]);
	}
	for (i = 0; run->cons != NULL && i < run->nc; i++)
		perf_cons_finish(run, &run->cons[i]);
}

/* e2e, confirm, fanout, topic and latency: declare, connect the
 * consumers, then the publishers, drive, clean up and report. */
static int
perf_flow(struct perf_run *run)
{
	struct perf_opts	*o = run->o;
	unsigned		 bit = o->sc->bit;
	amqp_connection_state_t	 ctl;
	struct perf_totals	 t;
	uint64_t		 msgs;
	double			 secs, csecs;
	int			 i, rc;

	run->np = o->publishers;
	run->confirm = bit == S_CONFIRM;
	run->persistent = run->confirm || o->persistent;
	run->nq = (bit & (S_FANOUT | S_TOPIC)) ? o->queues : 1;
	run->nc = o->consumers;
	if (run->nq > 1 && run->nc > run->nq)
		run->nc = run->nq;
	if ((ctl = perf_connect(o, o->frame_max)) != NULL)
		run->frame_max = amqp_get_frame_max(ctl);
	perf_names(run);
	run->routing_key = bit == S_FANOUT ? "" : run->qnames[0];
	if (bit == S_TOPIC) {
		run->routing_key = NULL;
		perf_topic_plan(run);
		perf_note(o, "topic: %d bindings over %d queues; each of %d "
		    "keys matches %.2f bindings, %.2f queues on average",
		    o->bindings, run->nq, run->nkeys, run->bindings_per_msg,
		    run->queues_per_msg);
	}
	perf_alloc(run);
	if (ctl == NULL || perf_declare(run, ctl) != 0)
		goto out;
	if (run->patterns != NULL) {
		if (perf_topic_bind(run, ctl) != 0)
			goto out;
		perf_note(o, "topic: bound in %.2f s (%.0f binds/s)",
		    run->bind_seconds, o->bindings / run->bind_seconds);
	}
	perf_make_tmpls(run);
	for (i = 0; i < run->nc; i++)
		if (perf_cons_setup(run, &run->cons[i]) != 0)
			goto out;
	for (i = 0; i < run->np; i++)
		if (perf_pub_setup(run, &run->pubs[i], i) != 0)
			goto out;
	perf_drive(run);
out:
	perf_stop_all(run);
	if (ctl != NULL)
		perf_close_lib(ctl);
	perf_cleanup(run);
	perf_totals(run, &t);

	perf_report_head(run);
	msgs = (bit & (S_FANOUT | S_TOPIC)) ? t.sent : t.distinct;
	secs = perf_secs(t.t_first_pub, t.t_last_del);
	perf_report_flow(run, &t, msgs, secs);
	if (bit & (S_FANOUT | S_TOPIC))
		perf_json_num("deliveries_per_s", (double)t.distinct / secs);
	if (bit == S_TOPIC) {
		perf_json_num("bindings_per_msg", run->bindings_per_msg);
		perf_json_num("queues_per_msg", run->queues_per_msg);
		perf_json_num("bind_seconds", run->bind_seconds);
		perf_json_num("binds_per_s", o->bindings / run->bind_seconds);
	}
	if (bit == S_CONFIRM) {
		csecs = perf_secs(t.t_first_pub, t.t_last_conf);
		perf_json_u64("confirmed", t.confirmed);
		perf_json_u64("nacked", t.nacked);
		perf_json_num("confirm_seconds", csecs);
		perf_json_num("confirmed_per_s", (double)t.confirmed / csecs);
		perf_json_hist("confirm_latency_us", &t.clat);
	}
	rc = perf_report_tail(run, &t);
	perf_totals_free(&t);
	return (rc);
}

/* The number of messages in the queue, by a passive queue.declare. */
static int64_t
perf_queue_depth(amqp_connection_state_t ctl, const char *name)
{
	amqp_queue_declare_ok_t	*ok;

	ok = amqp_queue_declare(ctl, 1, amqp_cstring_bytes(name), 1, 0, 0, 0,
	    amqp_empty_table);
	if (ok == NULL) {
		perf_rpc_ok(ctl, "queue.declare passive");
		return (-1);
	}
	amqp_maybe_release_buffers(ctl);
	return ((int64_t)ok->message_count);
}

/* backlog: fill a queue nobody consumes, measure the broker's RSS, then
 * drain it with the consumers. */
static int
perf_backlog(struct perf_run *run)
{
	struct perf_opts	*o = run->o;
	amqp_connection_state_t	 ctl;
	struct perf_totals	 t;
	long			 rss0 = -1, rss1 = -1, rss2 = -1;
	uint64_t		 t_full = 0, t_drain = 0, since, expected;
	int64_t			 depth = -1, last = -1;
	double			 fsecs, dsecs;
	int			 i, rc;

	run->np = o->publishers;
	run->nq = 1;
	run->nc = o->consumers;
	run->persistent = o->persistent;
	if ((ctl = perf_connect(o, o->frame_max)) != NULL)
		run->frame_max = amqp_get_frame_max(ctl);
	perf_names(run);
	run->routing_key = run->qnames[0];
	perf_alloc(run);
	if (ctl == NULL || perf_declare(run, ctl) != 0)
		goto out;
	perf_make_tmpls(run);
	rss0 = perf_rss_kb(o->pid);
	if (o->pid > 0 && rss0 < 0)
		perf_fail("cannot read VmRSS of pid %ld", o->pid);
	for (i = 0; i < run->np; i++)
		if (perf_pub_setup(run, &run->pubs[i], i) != 0)
			goto out;

	/* Fill: no consumer yet, so perf_drive only publishes. */
	run->nc = 0;
	perf_drive(run);
	run->nc = o->consumers;
	expected = perf_expect(run);
	since = perf_now();
	while (!atomic_load(&perf_abort)) {
		if ((depth = perf_queue_depth(ctl, run->qnames[0])) < 0)
			goto out;
		if ((uint64_t)depth >= expected)
			break;
		if (depth != last) {
			last = depth;
			since = perf_now();
		} else if (perf_now() - since > (uint64_t)(o->timeout * 1e9)) {
			perf_fail("the queue holds %" PRId64 " of %" PRIu64
			    " messages", depth, expected);
			goto out;
		}
		perf_sleep_ms(20);
	}
	t_full = perf_now();
	rss1 = perf_rss_kb(o->pid);
	perf_note(o, "backlog: %" PRIu64 " messages queued%s", expected,
	    rss1 >= 0 ? "" : " (no --pid: no RSS)");
	if (rss1 >= 0)
		perf_note(o, "backlog: broker VmRSS %ld kB -> %ld kB, %.0f "
		    "bytes per message", rss0, rss1,
		    (double)(rss1 - rss0) * 1024 / (double)expected);

	/* Drain. */
	atomic_store(&run->cons_stop, 0);
	t_drain = perf_now();
	for (i = 0; i < run->nc; i++)
		if (perf_cons_setup(run, &run->cons[i]) != 0 ||
		    perf_cons_start_thread(run, &run->cons[i]) != 0)
			goto out;
	perf_wait_deliveries(run, expected, "draining");
	perf_progress(run, "drained", 1);
	rss2 = perf_rss_kb(o->pid);
out:
	perf_stop_all(run);
	if (ctl != NULL)
		perf_close_lib(ctl);
	perf_cleanup(run);
	perf_totals(run, &t);

	perf_report_head(run);
	fsecs = perf_secs(t.t_first_pub, t_full);
	dsecs = perf_secs(t_drain, t.t_last_del);
	perf_report_flow(run, &t, t.distinct, dsecs);
	perf_json_num("fill_seconds", fsecs);
	perf_json_num("fill_per_s", (double)t.sent / fsecs);
	perf_json_num("drain_seconds", dsecs);
	perf_json_num("drain_per_s", (double)t.distinct / dsecs);
	if (o->pid > 0) {
		perf_json_num("rss_before_kb", (double)rss0);
		perf_json_num("rss_full_kb", (double)rss1);
		perf_json_num("rss_drained_kb", (double)rss2);
		perf_json_num("rss_per_msg_bytes", rss1 >= 0 && rss0 >= 0 &&
		    t.sent > 0 ? (double)(rss1 - rss0) * 1024 /
		    (double)t.sent : NAN);
	}
	rc = perf_report_tail(run, &t);
	perf_totals_free(&t);
	return (rc);
}

/* conns: K connections with a channel each, and the broker's RSS. */
static int
perf_conns(struct perf_run *run)
{
	struct perf_opts	*o = run->o;
	amqp_connection_state_t	*conns;
	struct rlimit		 rl;
	long			 rss0, rss1 = -1, rss2 = -1;
	uint64_t		 t0, t1 = 0, t2 = 0, last = 0;
	int			 k = o->connections, limited = 0, opened = 0;
	int			 i;

	/* One descriptor per connection: raise the soft limit to the hard. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
			getrlimit(RLIMIT_NOFILE, &rl);
		}
		if (rl.rlim_cur != RLIM_INFINITY &&
		    (rlim_t)k + 32 > rl.rlim_cur) {
			k = rl.rlim_cur > 64 ? (int)rl.rlim_cur - 32 : 32;
			limited = 1;
			perf_note(NULL, "conns: RLIMIT_NOFILE is %llu: opening "
			    "%d connections, not %d", (unsigned long long)
			    rl.rlim_cur, k, o->connections);
		}
	}
	conns = perf_calloc((size_t)k, sizeof *conns);
	rss0 = perf_rss_kb(o->pid);
	if (o->pid > 0 && rss0 < 0)
		perf_fail("cannot read VmRSS of pid %ld", o->pid);
	run->t_start = t0 = perf_now();
	for (i = 0; i < k && !atomic_load(&perf_abort); i++) {
		if ((conns[i] = perf_connect(o, o->frame_max)) == NULL) {
			if (opened > 0)
				perf_note(NULL, "conns: connection %d failed "
				    "after %d opened; is the broker at its own "
				    "descriptor limit?", opened + 1, opened);
			break;
		}
		opened++;
		if (!o->quiet && perf_now() - last > UINT64_C(1000000000)) {
			last = perf_now();
			fprintf(stderr, "warren-perf conns %5.1fs: %d open\n",
			    (double)(last - t0) / 1e9, opened);
		}
	}
	t1 = perf_now();
	rss1 = perf_rss_kb(o->pid);
	perf_note(o, "conns: %d open in %.2f s%s", opened,
	    (double)(t1 - t0) / 1e9, rss1 >= 0 ? "" : " (no --pid: no RSS)");
	for (i = 0; i < opened; i++)
		perf_close_lib(conns[i]);
	t2 = perf_now();
	rss2 = perf_rss_kb(o->pid);
	free(conns);

	perf_report_head(run);
	perf_json_u64("connections", (uint64_t)opened);
	perf_json_bool("limited_by_nofile", limited);
	perf_json_u64("nofile_limit", (uint64_t)rl.rlim_cur);
	perf_json_num("connect_seconds", perf_secs(t0, t1));
	perf_json_num("connect_per_s", opened / perf_secs(t0, t1));
	perf_json_num("close_seconds", perf_secs(t1, t2));
	if (o->pid > 0) {
		perf_json_num("rss_before_kb", (double)rss0);
		perf_json_num("rss_open_kb", (double)rss1);
		perf_json_num("rss_closed_kb", (double)rss2);
		perf_json_num("rss_per_conn_bytes", rss0 >= 0 && rss1 >= 0 &&
		    opened > 0 ? (double)(rss1 - rss0) * 1024 / opened : NAN);
	}
	return (perf_report_tail(run, NULL));
}

/* A connected pair of TCP sockets over 127.0.0.1; -1 on failure. */
static int
perf_tcp_pair(int fds[2])
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;
	int			 l, one = 1;

	fds[0] = fds[1] = -1;
	if ((l = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return (-1);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(l, (struct sockaddr *)&sin, sizeof sin) != 0 ||
	    listen(l, 1) != 0 ||
	    getsockname(l, (struct sockaddr *)&sin, &len) != 0 ||
	    (fds[0] = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(fds[0], (struct sockaddr *)&sin, sizeof sin) != 0 ||
	    (fds[1] = accept(l, NULL, NULL)) < 0) {
		close(l);
		return (-1);
	}
	close(l);
	/* As rabbitmq-c and warrend do on their sockets. */
	setsockopt(fds[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(fds[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
	fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK);
	return (0);
}

/* Relay thread: wait until the input is readable, read what is there
 * and write all of it on, as a broker with nothing else to do would. */
static void *
perf_relay_main(void *arg)
{
	struct perf_relay	*rl = arg;
	struct perf_reader	*rd = &rl->rd;
	struct pollfd		 pfd;
	int			 r;

	pfd.fd = rd->fd;
	pfd.events = POLLIN;
	while (!atomic_load_explicit(&rl->run->cons_stop,
	    memory_order_relaxed) &&
	    !atomic_load_explicit(&perf_abort, memory_order_relaxed)) {
		if (poll(&pfd, 1, 20) <= 0)
			continue;
		if ((r = perf_reader_fill(rd)) < 0) {
			perf_fail("relay: connection lost");
			break;
		}
		if (r == 0)
			continue;
		rl->reads++;
		if (perf_write_all(rl->out, rd->buf + rd->off,
		    rd->len - rd->off, NULL, NULL, NULL) != 0) {
			if (!atomic_load(&perf_abort))
				perf_fail("relay: write: %s", strerror(errno));
			break;
		}
		rd->off = rd->len;
	}
	return (NULL);
}

/* loopback: the publisher's batches through a loopback TCP connection to
 * a thread parsing them as a consumer does.  No broker.  With --rate, the
 * relay mode: paced bursts, and a relay thread between two connections
 * in place of a broker. */
static int
perf_loopback(struct perf_run *run)
{
	struct perf_opts	*o = run->o;
	struct perf_totals	 t;
	struct perf_relay	 rl;
	struct perf_pub		*pb;
	struct perf_cons	*c;
	int			 fds[4] = { -1, -1, -1, -1 }, rc, i;
	int			 relay = o->rate > 0;

	memset(&rl, 0, sizeof rl);
	run->np = run->nq = run->nc = 1;
	run->frame_max = o->frame_max;
	perf_names(run);
	run->routing_key = run->qnames[0];
	perf_alloc(run);
	perf_make_tmpls(run);
	if (perf_tcp_pair(fds) != 0 ||
	    (relay && perf_tcp_pair(fds + 2) != 0)) {
		perf_fail("loopback socket pair: %s", strerror(errno));
		goto out;
	}
	pb = &run->pubs[0];
	pb->fd = fds[0];
	perf_reader_init(&pb->rd, pb->fd, (size_t)run->frame_max);
	perf_pub_buf(run, pb);
	c = &run->cons[0];
	c->fd = relay ? fds[3] : fds[1];
	c->no_ack = 1;
	perf_reader_init(&c->rd, c->fd, (size_t)run->frame_max);
	if (relay) {
		rl.run = run;
		rl.out = fds[2];
		perf_reader_init(&rl.rd, fds[1], (size_t)run->frame_max);
		if (pthread_create(&rl.thread, NULL, perf_relay_main,
		    &rl) != 0) {
			perf_fail("pthread_create: %s", strerror(errno));
			goto out;
		}
		rl.started = 1;
	}
	perf_drive(run);
out:
	perf_stop_all(run);
	if (rl.started)
		pthread_join(rl.thread, NULL);
	perf_reader_free(&rl.rd);
	for (i = 0; i < 4; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	perf_totals(run, &t);
	perf_report_head(run);
	perf_report_flow(run, &t, t.distinct,
	    perf_secs(t.t_first_pub, t.t_last_del));
	if (relay)
		perf_json_u64("relay_reads", rl.reads);
	rc = perf_report_tail(run, &t);
	perf_totals_free(&t);
	return (rc);
}

/* Print the flags that apply to the scenarios in mask. */
static void
perf_usage_flags(FILE *f, unsigned mask)
{
	const struct perf_flag	*fl;
	char			 left[64];

	for (fl = perf_flags; fl->name != NULL; fl++) {
		if (!(fl->scenarios & mask))
			continue;
		if (fl->key < 256)
			snprintf(left, sizeof left, "-%c, --%s%s%s", fl->key,
			    fl->name, fl->arg ? " " : "",
			    fl->arg ? fl->arg : "");
		else
			snprintf(left, sizeof left, "    --%s%s%s", fl->name,
			    fl->arg ? " " : "", fl->arg ? fl->arg : "");
		fprintf(f, "  %-24s %s\n", left, fl->help);
	}
}

/* Help for the whole tool (sc NULL) or for one scenario. */
static void
perf_usage(FILE *f, const struct perf_scenario *sc)
{
	const struct perf_scenario	*s;

	if (sc != NULL) {
		fprintf(f, "usage: warren-perf %s [options]\n%s\n\n%s\n\n"
		    "Options:\n", sc->name, sc->summary, sc->text);
		perf_usage_flags(f, sc->bit);
		fprintf(f, "\nOne JSON object on stdout; progress on stderr. "
		    "Exit 0 when clean, 1 on a\nloss, a duplicate that was "
		    "not redelivered, or an error; 2 on bad usage.\n");
		return;
	}
	fprintf(f, "usage: warren-perf SCENARIO [options]\n"
	    "       warren-perf SCENARIO --help\n"
	    "A load generator for AMQP 0-9-1 brokers (Warren, RabbitMQ).\n\n"
	    "Scenarios:\n");
	for (s = perf_scenarios; s->name != NULL; s++)
		fprintf(f, "  %-10s %s\n", s->name, s->summary);
	fprintf(f, "\nOptions (each scenario takes some; see SCENARIO "
	    "--help):\n");
	perf_usage_flags(f, S_ALL);
	fprintf(f, "\nEvery body starts with a 16-byte header: publisher id "
	    "(16 bits) and\nsequence (48 bits), then the send time in ns. "
	    "One JSON object per run on\nstdout, progress on stderr.  Exit "
	    "0 when clean, 1 on a loss, a duplicate\nthat was not "
	    "redelivered, or an error; 2 on bad usage.  See "
	    "warren-perf(1).\n");
}

/* Complain about the command line and exit 2. */
static void
perf_bad(const struct perf_scenario *sc, const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "warren-perf: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'warren-perf %s%s--help'.\n",
	    sc != NULL ? sc->name : "", sc != NULL ? " " : "");
	exit(2);
}

/* A number option, within [lo, hi]. */
static double
perf_arg_num(const struct perf_scenario *sc, const char *name,
    const char *arg, double unit, double lo, double hi)
{
	double	 v;

	if (perf_parse_num(arg, unit, &v) != 0 || v < lo || v > hi)
		perf_bad(sc, "--%s: '%s' is not a number from %.0f to %.0f",
		    name, arg, lo, hi);
	return (v);
}

/* Fill in what the command line left unset, per scenario. */
static void
perf_defaults(struct perf_opts *o)
{
	unsigned	 b = o->sc->bit;

	if (o->url == NULL)
		o->url = PERF_URL;
	if (o->size == 0)
		o->size = PERF_HDR;
	if (o->size < PERF_HDR) {
		o->size = PERF_HDR;
		o->size_raised = 1;
		perf_note(NULL, "--size: messages are at least %d bytes (the "
		    "header); using %d", PERF_HDR, PERF_HDR);
	}
	if (o->count == UINT64_MAX)
		o->count = b == S_BACKLOG ? 1000000 : 0;
	if (o->duration < 0)
		o->duration = o->count == 0 ? 10 : 0;
	if (o->count == 0 && o->duration == 0)
		o->duration = 10;
	if (o->publishers < 0)
		o->publishers = 1;
	if (o->queues < 0)
		o->queues = b == S_FANOUT ? 4 : b == S_TOPIC ? 10 : 1;
	if (o->consumers < 0)
		o->consumers = b == S_FANOUT ? o->queues : b == S_TOPIC ? 2 : 1;
	if (o->prefetch < 0)
		o->prefetch = 2000;
	if (o->ack_every < 0)
		o->ack_every = o->prefetch > 0 ? (o->prefetch + 3) / 4 : 500;
	if (o->prefetch > 0 && o->ack_every > o->prefetch) {
		perf_note(NULL, "--ack-every %d is above --prefetch %d: "
		    "using %d", o->ack_every, o->prefetch, o->prefetch);
		o->ack_every = o->prefetch;
	}
	if (o->window < 0)
		o->window = 1000;
	if (o->rate < 0)
		o->rate = b == S_LATENCY ? 10000 : 0;
	if (o->burst < 0)
		o->burst = 10;
	if (o->bindings < 0)
		o->bindings = 10000;
	if (o->keys < 0)
		o->keys = 100;
	if (o->connections < 0)
		o->connections = 1000;
	if (o->timeout < 0)
		o->timeout = 10;
	if (o->frame_max < 0)
		o->frame_max = PERF_FRAME_MAX;
}

/* Free what a run allocated. */
static void
perf_run_free(struct perf_run *run)
{
	size_t	 i;
	int	 k;

	for (i = 0; i < run->nstreams; i++)
		perf_stream_free(&run->streams[i]);
	for (k = 0; k < run->nc; k++) {
		free(run->cons[k].st_recv);
		free(run->cons[k].st_dups);
		free(run->cons[k].st_reord);
		free(run->cons[k].st_last);
	}
	for (k = 0; k < run->ntmpls; k++)
		free(run->tmpls[k].bytes);
	free(run->streams);
	free(run->cons);
	free(run->pubs);
	free(run->tmpls);
	free(run->qnames);
	free(run->keys);
	free(run->key_match);
	free(run->patterns);
	free(run->left);
}

/* Stop everything on SIGINT or SIGTERM; the run still reports. */
static void
perf_signal(int sig)
{
	(void)sig;
	perf_signalled = 1;
	atomic_store(&perf_abort, 1);
}

/* Parse the scenario and its flags, then run it. */
int
main(int argc, char **argv)
{
	struct option			 longopts[64];
	char				 shortopts[64], *sp = shortopts;
	const struct perf_scenario	*sc = NULL;
	const struct perf_flag		*fl;
	struct perf_opts		 o;
	struct perf_run			 run;
	struct sigaction		 sa;
	int				 ch, n = 0, idx;

	memset(&o, 0, sizeof o);
	o.count = UINT64_MAX;
	o.duration = o.rate = o.timeout = -1;
	o.publishers = o.consumers = o.queues = o.prefetch = -1;
	o.ack_every = o.window = o.burst = o.bindings = o.keys = -1;
	o.connections = o.frame_max = -1;
	o.batch = 0;

	for (fl = perf_flags; fl->name != NULL; fl++, n++) {
		longopts[n].name = fl->name;
		longopts[n].has_arg = fl->has_arg ? required_argument :
		    no_argument;
		longopts[n].flag = NULL;
		longopts[n].val = fl->key;
		if (fl->key < 256) {
			*sp++ = (char)fl->key;
			if (fl->has_arg)
				*sp++ = ':';
		}
	}
	memset(&longopts[n], 0, sizeof longopts[n]);
	*sp = '\0';

	if (argc > 1 && argv[1][0] != '-') {
		for (sc = perf_scenarios; sc->name != NULL; sc++)
			if (strcmp(sc->name, argv[1]) == 0)
				break;
		if (sc->name == NULL)
			perf_bad(NULL, "no scenario '%s'", argv[1]);
		argc--;
		argv++;
	}
	while ((ch = getopt_long(argc, argv, shortopts, longopts, &idx)) !=
	    -1) {
		if (ch == 'h') {
			perf_usage(stdout, sc);
			return (0);
		}
		if (ch == '?')
			perf_bad(sc, "bad option");
		for (fl = perf_flags; fl->name != NULL; fl++)
			if (fl->key == ch)
				break;
		if (sc != NULL && !(fl->scenarios & sc->bit))
			perf_bad(sc, "--%s does not apply to %s", fl->name,
			    sc->name);
		switch (ch) {
		case 'u':
			o.url = optarg;
			break;
		case 's':
			o.size = (size_t)perf_arg_num(sc, fl->name, optarg,
			    1024, 1, 1 << 27);
			break;
		case 'n':
			o.count = (uint64_t)perf_arg_num(sc, fl->name, optarg,
			    1000, 0, 1e15);
			break;
		case 'd':
			o.duration = perf_arg_num(sc, fl->name, optarg, 1000,
			    0, 1e6);
			break;
		case 'p':
			o.publishers = (int)perf_arg_num(sc, fl->name, optarg,
			    1000, 1, 65535);
			break;
		case 'c':
			o.consumers = (int)perf_arg_num(sc, fl->name, optarg,
			    1000, 1, 10000);
			break;
		case 'q':
			o.queues = (int)perf_arg_num(sc, fl->name, optarg,
			    1000, 1, 10000);
			break;
		case OPT_PREFETCH:
			o.prefetch = (int)perf_arg_num(sc, fl->name, optarg,
			    1000, 0, 65535);
			break;
		case OPT_ACK_EVERY:
			o.ack_every = (int)perf_arg_num(sc, fl->name, optarg,
			    1000, 1, 1e9);
			break;
		case OPT_BATCH:
			o.batch = (int)perf_arg_num(sc, fl->name, optarg,
			    1000, 1, 1e6);
			break;
		case OPT_WINDOW:
			o.window = (int)perf_arg_num(sc, fl->name, optarg,
			    1000, 1, 1e7);
			break;
		case OPT_RATE:
			o.rate = perf_arg_num(sc, fl->name, optarg, 1000, 0,
			    1e9);
			break;
		case OPT_BURST:
			o.burst = (int)perf_arg_num(sc, fl->name, optarg,
			    1000, 1, 1e6);
			break;
		case OPT_BINDINGS:
			o.bindings = (int)perf_arg_num(sc, fl->name, optarg,
			    1000, 1, 1e6);
			break;
		case OPT_KEYS:
			o.keys = (int)perf_arg_num(sc, fl->name, optarg,
			    1000, 1, 1e5);
			break;
		case OPT_CONNECTIONS:
			o.connections = (int)perf_arg_num(sc, fl->name,
			    optarg, 1000, 1, 1e7);
			break;
		case OPT_PID:
			o.pid = (long)perf_arg_num(sc, fl->name, optarg, 1,
			    1, 1e9);
			break;
		case OPT_TIMEOUT:
			o.timeout = perf_arg_num(sc, fl->name, optarg, 1000,
			    0.1, 1e6);
			break;
		case OPT_CLIENT:
			if (strcmp(optarg, "raw") == 0)
				o.rmq = 0;
			else if (strcmp(optarg, "rmq") == 0)
				o.rmq = 1;
			else
				perf_bad(sc, "--client is raw or rmq");
			break;
		case OPT_PERSISTENT:
			o.persistent = 1;
			break;
		case OPT_FRAME_MAX:
			o.frame_max = (int)perf_arg_num(sc, fl->name, optarg,
			    1024, 4096, 1 << 24);
			break;
		case 'Q':
			o.quiet = 1;
			break;
		}
	}
	if (sc == NULL) {
		perf_usage(stderr, NULL);
		return (2);
	}
	if (optind < argc)
		perf_bad(sc, "unexpected argument '%s'", argv[optind]);
	if (sc->bit == S_LOOPBACK && o.rate > 0 && o.batch > 0)
		perf_bad(sc, "--batch does not apply with --rate: messages go "
		    "in bursts of --burst");
	o.sc = sc;
	perf_defaults(&o);
	if (sc->bit & S_BROKER) {
		o.urlbuf = strdup(o.url);
		amqp_default_connection_info(&o.ci);
		if (o.urlbuf == NULL || amqp_parse_url(o.urlbuf, &o.ci) != 0)
			perf_bad(sc, "cannot parse --url '%s'", o.url);
		if (o.ci.ssl)
			perf_bad(sc, "amqps is not supported");
		/* As pika does: amqp://host/ means the vhost /, not "". */
		if (o.ci.vhost == NULL || o.ci.vhost[0] == '\0')
			o.ci.vhost = "/";
	}

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = perf_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	memset(&run, 0, sizeof run);
	run.o = &o;
	snprintf(run.prefix, sizeof run.prefix, "warren-perf-%s-%ld-%llx",
	    sc->name, (long)getpid(),
	    (unsigned long long)(perf_now() & 0xffffffffffULL));
	ch = sc->run(&run);
	perf_run_free(&run);
	free(o.urlbuf);
	return (ch);
}
