/*
 * connection.c: the protocol header, connection.start/tune/open, the frame
 * loop, heartbeats, and connection.close in both directions.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/uio.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "broker.h"
#include "auth.h"
#include "channel.h"
#include "conf.h"
#include "connection.h"
#include "message.h"
#include "method.h"
#include "queue.h"
#include "store.h"
#include "vhost.h"

/* Most bytes read or written by one system call. */
#define CONNECTION_IO_MAX		(256 * 1024)
/* Reads start at this size and double while they fill up. */
#define CONNECTION_READ_MIN		(16 * 1024)
/* Body frames from this size are read straight into their message. */
#define CONNECTION_BODY_DIRECT		4096

/* Seconds a peer has to answer our connection.close with close-ok. */
#define CONNECTION_CLOSE_TIMEOUT	3

static const struct timeval connection_tv_zero = { 0, 0 };
static const uint8_t connection_header[8] = { 'A', 'M', 'Q', 'P', 0, 0, 9, 1 };

static void	connection_io_cb(evutil_socket_t, short, void *);
static void	connection_process(struct connection *);
static uint8_t	*connection_extent(struct evbuffer *, size_t *);
static size_t	connection_frames(struct connection *, const uint8_t *,
		    size_t, int *);
static int	connection_body_start(struct connection *, const uint8_t *,
		    size_t);
static int	connection_body_end(struct connection *);
static void	connection_reading(struct connection *, int);
static void	connection_write_cb(struct bufferevent *, void *);
static void	connection_out_cb(struct evbuffer *,
		    const struct evbuffer_cb_info *, void *);
static int	connection_write(struct connection *);
static void	connection_flush(struct connection *);
static void	connection_drained(struct connection *);
static void	connection_event_cb(struct bufferevent *, short, void *);
static void	connection_timer_cb(evutil_socket_t, short, void *);
static void	connection_timer_set(struct connection *, unsigned);
static int	connection_frame(struct connection *, const struct frame *);
static int	connection_assemble(struct connection *, struct channel *,
		    const struct frame *, const struct method_desc *,
		    struct content_header *, uint32_t *);
static int	connection_method0(struct connection *, uint32_t,
		    union method_args *);
static int	connection_handshake(struct connection *, uint32_t,
		    union method_args *);
static void	connection_send_start(struct connection *);
static void	connection_release(struct connection *);
static void	connection_unref(struct connection *);
static void	connection_flush_after(struct connection *);
static void	connection_block(struct connection *, int);

/* Monotonic milliseconds, from libevent's cached loop time. */
uint64_t
connection_now(void)
{
	struct timeval	tv;

	event_base_gettimeofday_cached(broker->base, &tv);
	return ((uint64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000);
}

/* RabbitMQ's name for a reply code. */
const char *
reply_code_name(int code)
{
	switch (code) {
	case AMQP_REPLY_SUCCESS:	return ("OK");
	case AMQP_CONTENT_TOO_LARGE:	return ("CONTENT_TOO_LARGE");
	case AMQP_NO_ROUTE:		return ("NO_ROUTE");
	case AMQP_NO_CONSUMERS:		return ("NO_CONSUMERS");
	case AMQP_CONNECTION_FORCED:	return ("CONNECTION_FORCED");
	case AMQP_INVALID_PATH:		return ("INVALID_PATH");
	case AMQP_ACCESS_REFUSED:	return ("ACCESS_REFUSED");
	case AMQP_NOT_FOUND:		return ("NOT_FOUND");
	case AMQP_RESOURCE_LOCKED:	return ("RESOURCE_LOCKED");
	case AMQP_PRECONDITION_FAILED:	return ("PRECONDITION_FAILED");
	case AMQP_FRAME_ERROR:		return ("FRAME_ERROR");
	case AMQP_SYNTAX_ERROR:		return ("SYNTAX_ERROR");
	case AMQP_COMMAND_INVALID:	return ("COMMAND_INVALID");
	case AMQP_CHANNEL_ERROR:	return ("CHANNEL_ERROR");
	case AMQP_UNEXPECTED_FRAME:	return ("UNEXPECTED_FRAME");
	case AMQP_RESOURCE_ERROR:	return ("RESOURCE_ERROR");
	case AMQP_NOT_ALLOWED:		return ("NOT_ALLOWED");
	case AMQP_NOT_IMPLEMENTED:	return ("NOT_IMPLEMENTED");
	case AMQP_INTERNAL_ERROR:	return ("INTERNAL_ERROR");
	}
	return ("UNKNOWN");
}

/* Keep "NAME - text" as the reply text of the error being raised. */
int
connection_error(struct connection *c, int code, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	n = snprintf(c->err, sizeof c->err, "%s - ", reply_code_name(code));
	va_start(ap, fmt);
	vsnprintf(c->err + n, sizeof c->err - n, fmt, ap);
	va_end(ap);
	return (code);
}

/* A new client socket. */
void
connection_accept(evutil_socket_t fd, struct sockaddr *sa, int salen)
{
	struct connection		*c;
	struct sockaddr_in		*sin;
	struct sockaddr_in6		*sin6;
	char				 host[INET6_ADDRSTRLEN];
	int				 one = 1;

	c = xcalloc(1, sizeof *c);
	c->id = ++broker->next_conn_id;
	c->refcnt = 1;
	TAILQ_INIT(&c->exclusive);
	TAILQ_INIT(&c->confirm_pending);
	if (sa->sa_family == AF_INET) {
		sin = (struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
		snprintf(c->peer, sizeof c->peer, "%s:%u", host,
		    ntohs(sin->sin_port));
		c->loopback = (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	} else if (sa->sa_family == AF_INET6) {
		sin6 = (struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
		snprintf(c->peer, sizeof c->peer, "[%s]:%u", host,
		    ntohs(sin6->sin6_port));
		c->loopback = IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) ||
		    (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) &&
		    sin6->sin6_addr.s6_addr[12] == 127);
	} else
		snprintf(c->peer, sizeof c->peer, "local");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	evutil_make_socket_nonblocking(fd);
	c->bev = bufferevent_socket_new(broker->base, fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		log_error("bufferevent_socket_new failed for %s", c->peer);
		evutil_closesocket(fd);
		free(c);
		return;
	}
	c->out = bufferevent_get_output(c->bev);
	/* Fewer, larger writes than libevent's 16 KiB default. */
	bufferevent_set_max_single_write(c->bev, CONNECTION_IO_MAX);
	/*
	 * The bufferevent writes; reading is ours, because libevent 2.1
	 * reads at most 4 KiB per call (EVBUFFER_MAX_READ).
	 */
	bufferevent_setcb(c->bev, NULL, connection_write_cb,
	    connection_event_cb, c);
	/*
	 * Nor does it write as a rule: connection_flush_cb writes every
	 * connection's output once per turn of the loop, and only what the
	 * socket will not take goes to the bufferevent.  This saves the two
	 * epoll_ctl calls of every write through the bufferevent.
	 */
	bufferevent_disable(c->bev, EV_WRITE);
	evbuffer_add_cb(c->out, connection_out_cb, c);
	c->in = evbuffer_new();	/* the bufferevent's own is frozen */
	c->read_size = CONNECTION_READ_MIN;
	c->rev = event_new(broker->base, fd, EV_READ | EV_PERSIST,
	    connection_io_cb, c);
	event_add(c->rev, NULL);
	c->state = CONN_HEADER;
	c->frame_max = AMQP_FRAME_MIN_SIZE;
	c->last_read = c->last_write = connection_now();
	c->timer = evtimer_new(broker->base, connection_timer_cb, c);
	connection_timer_set(c, (unsigned)config.handshake_timeout);
	TAILQ_INSERT_TAIL(&broker->conns, c, entry);
	broker->nconns++;
	conn_log(c, LOG_INFO, "accepted");
}

/* (Re)arm the connection's one timer. */
static void
connection_timer_set(struct connection *c, unsigned secs)
{
	struct timeval	tv = { secs, 0 };

	evtimer_add(c->timer, &tv);
}

/*
 * The timer: the handshake deadline before open, heartbeats after it, the
 * close-ok deadline while closing.
 */
static void
connection_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct connection	*c = arg;
	uint64_t		 now = connection_now();
	unsigned		 tick;

	switch (c->state) {
	case CONN_OPEN:
		if (c->heartbeat == 0)
			return;
		if (c->blocked)
			c->last_read = now;	/* we are not reading */
		if (now - c->last_read > (uint64_t)c->heartbeat * 2000) {
			conn_log(c, LOG_WARN, "missed heartbeats from client, "
			    "timeout: %us", c->heartbeat);
			connection_drop(c, "missed heartbeats");
			return;
		}
		tick = c->heartbeat / 2 > 0 ? c->heartbeat / 2 : 1;
		if (now - c->last_write >= (uint64_t)tick * 1000 - 100 &&
		    evbuffer_get_length(c->out) == 0) {
			frame_put_heartbeat(c->out);
			c->last_write = now;
		}
		connection_timer_set(c, tick);
		break;
	case CONN_CLOSING:
		connection_drop(c, "no connection.close-ok in time");
		break;
	case CONN_DEAD:
		break;
	default:
		conn_log(c, LOG_WARN, "handshake timeout");
		connection_drop(c, "handshake timeout");
		break;
	}
}

/* Append a method frame. */
void
connection_send(struct connection *c, uint16_t ch, uint32_t id,
    const void *args)
{
	static const union method_args	zero;	/* for NULL: all fields empty */

	if (c->state == CONN_DEAD)
		return;
	method_encode(c->out, ch, id, args != NULL ? args : &zero);
}

/* Write what is queued, then drop the connection. */
static void
connection_flush_after(struct connection *c)
{
	connection_reading(c, 0);
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	c->state = CONN_CLOSING;
	c->flush_close = 1;
	if (evbuffer_get_length(c->out) == 0)
		connection_drop(c, "closed");
	else
		connection_timer_set(c, CONNECTION_CLOSE_TIMEOUT);
}

/*
 * Release what the connection holds in the broker: channels (their
 * unacked messages are requeued) and exclusive queues.
 */
static void
connection_release(struct connection *c)
{
	struct channel	*ch, *tmp;
	struct queue	*q;

	HASH_ITER(hh, c->channels, ch, tmp) {
		HASH_DEL(c->channels, ch);
		c->nchannels--;
		channel_free(ch);
	}
	while ((q = TAILQ_FIRST(&c->exclusive)) != NULL)
		queue_delete(q);
}

/*
 * Raise a connection exception: send connection.close, release the
 * connection's channels, and read nothing but close-ok from now on.
 */
void
connection_exception(struct connection *c, uint16_t code, const char *text,
    uint32_t method)
{
	struct connection_close	cc;

	if (c->state == CONN_CLOSING || c->state == CONN_DEAD)
		return;
	conn_log(c, LOG_WARN, "connection error: %s", text);
	memset(&cc, 0, sizeof cc);
	cc.reply_code = code;
	cc.reply_text.len = (uint8_t)strnlen(text, 255);
	memcpy(cc.reply_text.s, text, cc.reply_text.len);
	cc.class_id = AMQP_METHOD_CLASS(method);
	cc.method_id = AMQP_METHOD_INDEX(method);
	connection_send(c, 0, AMQP_CONNECTION_CLOSE, &cc);
	connection_release(c);
	c->state = CONN_CLOSING;
	connection_timer_set(c, CONNECTION_CLOSE_TIMEOUT);
}

/* Drop a connection now. */
void
connection_drop(struct connection *c, const char *why)
{
	if (c->state == CONN_DEAD)
		return;
	conn_log(c, LOG_INFO, "closed: %s", why);
	connection_release(c);
	c->state = CONN_DEAD;
	if (c->timer != NULL) {
		event_free(c->timer);
		c->timer = NULL;
	}
	if (c->flush_queued) {
		TAILQ_REMOVE(&broker->flushq, c, flush_entry);
		c->flush_queued = 0;
	}
	event_free(c->rev);
	c->rev = NULL;
	message_unref(&c->body_msg);
	c->body_left = 0;
	evbuffer_free(c->in);
	c->in = NULL;
	bufferevent_free(c->bev);
	c->bev = NULL;
	c->out = NULL;
	TAILQ_REMOVE(&broker->conns, c, entry);
	broker->nconns--;
	connection_unref(c);
}

/* Drop a reference; the last frees. */
static void
connection_unref(struct connection *c)
{
	if (--c->refcnt > 0)
		return;
	free(c->user);
	free(c);
}

/* Shutdown: tell every client, then drop it. */
void
connection_close_all(void)
{
	struct connection	*c;
	struct connection_close	 cc;
	const char		*text = "CONNECTION_FORCED - broker shutdown";

	while ((c = TAILQ_FIRST(&broker->conns)) != NULL) {
		if (c->state == CONN_OPEN) {
			memset(&cc, 0, sizeof cc);
			cc.reply_code = AMQP_CONNECTION_FORCED;
			cc.reply_text.len = (uint8_t)strlen(text);
			memcpy(cc.reply_text.s, text, cc.reply_text.len);
			connection_send(c, 0, AMQP_CONNECTION_CLOSE, &cc);
			/* Best effort: the loop is ending. */
			(void)connection_write(c);
		}
		connection_drop(c, "broker shutdown");
	}
}

/* Socket closed or failed. */
static void
connection_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct connection	*c = arg;

	if (what & BEV_EVENT_EOF)
		connection_drop(c, c->state == CONN_OPEN ?
		    "client closed the socket without connection.close" :
		    "client closed the socket");
	else if (what & BEV_EVENT_ERROR)
		connection_drop(c, evutil_socket_error_to_string(
		    EVUTIL_SOCKET_ERROR()));
}

/*
 * Output was added: unless the bufferevent is writing (the socket was full),
 * have it written.  The flush is a zero timeout: it runs in the loop's next
 * turn, after the I/O callbacks of that turn (epoll_wait does not sleep
 * then), so that under load their output goes out in the same write.
 */
static void
connection_out_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct connection	*c = arg;

	if (info->n_added == 0 || c->flush_queued || c->bev_writes ||
	    c->state == CONN_DEAD)
		return;
	if (TAILQ_EMPTY(&broker->flushq))
		event_add(broker->flush_ev, &connection_tv_zero);
	c->flush_queued = 1;
	TAILQ_INSERT_TAIL(&broker->flushq, c, flush_entry);
}

/* Write the output of every connection that has some. */
void
connection_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct connection	*c;

	while ((c = TAILQ_FIRST(&broker->flushq)) != NULL) {
		TAILQ_REMOVE(&broker->flushq, c, flush_entry);
		c->flush_queued = 0;
		connection_flush(c);
	}
}

/*
 * write(2) what the socket takes of the output.  The bufferevent keeps the
 * front of its output frozen, and thaws it for its own writes: so do we.
 */
static int
connection_write(struct connection *c)
{
	int	n;

	evbuffer_unfreeze(c->out, 1);
	n = evbuffer_write(c->out, bufferevent_getfd(c->bev));
	evbuffer_freeze(c->out, 1);
	return (n);
}

/* Write what the socket takes; hand the rest to the bufferevent. */
static void
connection_flush(struct connection *c)
{
	int	n;

	/* Queued connections are live and not in bufferevent mode. */
	n = connection_write(c);
	if (n < 0 && errno != EAGAIN && errno != EINTR) {
		connection_drop(c, strerror(errno));
		return;
	}
	if (n > 0)
		c->last_write = connection_now();
	if (evbuffer_get_length(c->out) == 0 && !c->out_paused) {
		if (c->flush_close)
			connection_drop(c, "closed");
		return;
	}
	/*
	 * The socket is full, or deliveries wait for the output to drain:
	 * the bufferevent writes from here on, and connection_write_cb
	 * resumes them, once per round.
	 */
	c->bev_writes = 1;
	bufferevent_enable(c->bev, EV_WRITE);
	if (evbuffer_get_length(c->out) == 0)
		connection_drained(c);
}

/* The bufferevent has written all the output. */
static void
connection_write_cb(struct bufferevent *bev, void *arg)
{
	struct connection	*c = arg;

	c->last_write = connection_now();
	c->refcnt++;
	connection_drained(c);
	if (c->state == CONN_OPEN && !c->out_paused &&
	    evbuffer_get_length(c->out) == 0) {
		/* Back to writing at the end of each round. */
		bufferevent_disable(c->bev, EV_WRITE);
		c->bev_writes = 0;
	}
	connection_unref(c);
}

/* Output drained: finish a close, or resume paused deliveries. */
static void
connection_drained(struct connection *c)
{
	struct channel		*ch, *tmp;
	struct consumer		*cs, *ctmp;

	if (c->flush_close) {
		if (evbuffer_get_length(c->out) == 0)
			connection_drop(c, "closed");
		return;
	}
	if (!c->out_paused || c->state != CONN_OPEN)
		return;
	c->out_paused = 0;
	c->refcnt++;
	HASH_ITER(hh, c->channels, ch, tmp) {
		HASH_ITER(hh, ch->consumers, cs, ctmp)
			queue_dispatch(cs->q);
		if (c->state != CONN_OPEN)
			break;
	}
	connection_unref(c);
}

/* Send connection.start with our properties and capabilities. */
static void
connection_send_start(struct connection *c)
{
	struct connection_start	 s;
	struct evbuffer		*caps, *props;
	struct field_table	 t;
	static const char	 mechs[] = "PLAIN AMQPLAIN";
	static const char	 locales[] = "en_US";

	caps = evbuffer_new();
	props = evbuffer_new();
	table_add_bool(caps, "publisher_confirms", 1);
	table_add_bool(caps, "exchange_exchange_bindings", 1);
	table_add_bool(caps, "basic.nack", 1);
	table_add_bool(caps, "consumer_cancel_notify", 1);
	table_add_bool(caps, "connection.blocked", 1);
	table_add_bool(caps, "authentication_failure_close", 1);
	table_add_bool(caps, "per_consumer_qos", 1);
	t.len = (uint32_t)evbuffer_get_length(caps);
	t.p = evbuffer_pullup(caps, -1);
	table_add_table(props, "capabilities", &t);
	table_add_longstr(props, "product", WARREN_PRODUCT);
	table_add_longstr(props, "version", PACKAGE_VERSION);
	table_add_longstr(props, "platform", "C11/libevent");
	table_add_longstr(props, "copyright", WARREN_COPYRIGHT);
	table_add_longstr(props, "information",
	    "An AMQP 0-9-1 broker; see README and warrend(8)");
	memset(&s, 0, sizeof s);
	s.version_major = 0;
	s.version_minor = 9;
	s.server_properties.len = (uint32_t)evbuffer_get_length(props);
	s.server_properties.p = evbuffer_pullup(props, -1);
	s.mechanisms.p = (const uint8_t *)mechs;
	s.mechanisms.len = sizeof mechs - 1;
	s.locales.p = (const uint8_t *)locales;
	s.locales.len = sizeof locales - 1;
	connection_send(c, 0, AMQP_CONNECTION_START, &s);
	evbuffer_free(caps);
	evbuffer_free(props);
}

/* Start or stop reading the socket. */
static void
connection_reading(struct connection *c, int on)
{
	if (c->rev == NULL)
		return;
	if (on)
		event_add(c->rev, NULL);
	else
		event_del(c->rev);
}

/*
 * The socket is readable: one read(2) of up to read_size bytes straight
 * into the input buffer (the size doubles while reads fill it, up to
 * CONNECTION_IO_MAX, and falls back when they do not), then the frames.
 * While a large body frame is being read in place, the same read(2) puts
 * the rest of its payload straight into the message and what follows
 * into the input buffer.
 */
static void
connection_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct connection	*c = arg;
	struct evbuffer_iovec	 v[3];
	struct evbuffer_iovec	*ev;
	ssize_t			 n, left;
	size_t			 direct = c->body_left;
	int			 nv, i;

	ev = direct > 0 ? v + 1 : v;
	nv = evbuffer_reserve_space(c->in, (ssize_t)c->read_size, ev, 2);
	if (nv <= 0)
		fatal("evbuffer_reserve_space failed");
	if (direct > 0) {
		v[0].iov_base = c->body_ptr;
		v[0].iov_len = direct;
	}
	n = readv(fd, (struct iovec *)v, nv + (direct > 0));
	if (n <= 0) {
		evbuffer_commit_space(c->in, ev, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		connection_drop(c, n == 0 ? (c->state == CONN_OPEN ?
		    "client closed the socket without connection.close" :
		    "client closed the socket") : strerror(errno));
		return;
	}
	c->last_read = connection_now();
	if (direct > 0) {
		if ((size_t)n < direct) {
			evbuffer_commit_space(c->in, ev, 0);
			c->body_ptr += n;
			c->body_left -= (size_t)n;
			return;
		}
		c->body_ptr += direct;
		c->body_left = 0;
		n -= (ssize_t)direct;
	}
	for (i = 0, left = n; i < nv; i++) {
		if ((size_t)left < ev[i].iov_len)
			ev[i].iov_len = (size_t)left;
		left -= (ssize_t)ev[i].iov_len;
	}
	evbuffer_commit_space(c->in, ev, nv);
	if (direct == 0) {
		if ((size_t)n == c->read_size &&
		    c->read_size < CONNECTION_IO_MAX)
			c->read_size *= 2;
		else if ((size_t)n < c->read_size / 4 &&
		    c->read_size > CONNECTION_READ_MIN)
			c->read_size /= 2;
	}
	/* A frame still cut short: wait for the rest of it. */
	if (evbuffer_get_length(c->in) < c->read_low)
		return;
	connection_process(c);
}

/*
 * The input's first contiguous extent, with at least a frame header in it
 * (the caller has checked that the input holds one).
 */
static uint8_t *
connection_extent(struct evbuffer *in, size_t *ext)
{
	struct evbuffer_iovec	v;

	if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 ||
	    v.iov_len < AMQP_FRAME_HEADER_SIZE) {
		if (evbuffer_pullup(in, AMQP_FRAME_HEADER_SIZE) == NULL ||
		    evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			fatal("evbuffer_pullup failed");
	}
	*ext = v.iov_len;
	return (v.iov_base);
}

/*
 * Handle every whole frame in p[0..ext).  Returns the octets used; *err is
 * set after a connection exception (the rest of the input is then
 * discarded).  Stops at the first frame not all in the extent.
 */
static size_t
connection_frames(struct connection *c, const uint8_t *p, size_t ext,
    int *err)
{
	struct frame	 f;
	size_t		 off = 0, used;
	uint32_t	 size;

	*err = 0;
	while (ext - off >= AMQP_FRAME_HEADER_SIZE && !c->flush_close) {
		size = (uint32_t)p[off + 3] << 24 | (uint32_t)p[off + 4] << 16 |
		    (uint32_t)p[off + 5] << 8 | p[off + 6];
		if ((uint64_t)size + AMQP_FRAME_OVERHEAD > c->frame_max) {
			connection_error(c, AMQP_FRAME_ERROR,
			    "frame size %u exceeds the negotiated frame_max "
			    "(%u)", size + AMQP_FRAME_OVERHEAD, c->frame_max);
			connection_exception(c, AMQP_FRAME_ERROR, c->err, 0);
			*err = 1;
			break;
		}
		if (ext - off < (size_t)size + AMQP_FRAME_OVERHEAD)
			break;
		if (frame_decode(p + off, (size_t)size + AMQP_FRAME_OVERHEAD,
		    &f, &used) != 0) {
			connection_error(c, AMQP_FRAME_ERROR,
			    "frame end octet is %u, not %u",
			    p[off + size + AMQP_FRAME_HEADER_SIZE],
			    AMQP_FRAME_END);
			connection_exception(c, AMQP_FRAME_ERROR, c->err, 0);
			*err = 1;
			break;
		}
		off += used;
		if (connection_frame(c, &f) != 0) {
			*err = 1;
			break;
		}
		if (c->state == CONN_DEAD)
			break;
	}
	return (off);
}

/*
 * A body frame of a publish being assembled, not all in the first extent
 * (header at p): when large enough, take its header and the payload there
 * is, and read the rest straight into the message.  Returns 1 when taken.
 */
static int
connection_body_start(struct connection *c, const uint8_t *p, size_t len)
{
	struct channel	*ch;
	uint32_t	 size;
	uint16_t	 chid;
	size_t		 have;

	size = (uint32_t)p[3] << 24 | (uint32_t)p[4] << 16 |
	    (uint32_t)p[5] << 8 | p[6];
	chid = (uint16_t)(p[1] << 8 | p[2]);
	if (p[0] != AMQP_FRAME_BODY || size < CONNECTION_BODY_DIRECT ||
	    c->state != CONN_OPEN || chid == 0)
		return (0);
	HASH_FIND(hh, c->channels, &chid, sizeof chid, ch);
	/* Anything else takes the usual way, and its errors. */
	if (ch == NULL || ch->state != CH_OPEN || ch->cc != CC_BODY ||
	    ch->msg == NULL || size > ch->body_size - ch->body_received)
		return (0);
	c->body_msg = message_ref(ch->msg);
	c->body_ptr = MSG_BODY(ch->msg) + ch->body_received;
	c->body_size = size;
	c->body_chan = chid;
	evbuffer_drain(c->in, AMQP_FRAME_HEADER_SIZE);
	have = len - AMQP_FRAME_HEADER_SIZE;
	if (have > size)
		have = size;
	if (evbuffer_remove(c->in, c->body_ptr, have) != (int)have)
		fatal("evbuffer_remove failed");
	c->body_ptr += have;
	c->body_left = size - have;
	return (1);
}

/*
 * The payload of a body frame read in place is all there and its end
 * octet is in the input: check it, then handle the frame as any other.
 * Returns non-zero after a connection exception.
 */
static int
connection_body_end(struct connection *c)
{
	struct message	*m = c->body_msg;
	struct frame	 f;
	uint8_t		 end;
	int		 rc;

	c->body_msg = NULL;
	if (evbuffer_remove(c->in, &end, 1) != 1)
		fatal("evbuffer_remove failed");
	if (end != AMQP_FRAME_END) {
		connection_error(c, AMQP_FRAME_ERROR,
		    "frame end octet is %u, not %u", end, AMQP_FRAME_END);
		connection_exception(c, AMQP_FRAME_ERROR, c->err, 0);
		message_unref(&m);
		return (1);
	}
	f.type = AMQP_FRAME_BODY;
	f.channel = c->body_chan;
	f.size = c->body_size;
	f.payload = NULL;	/* already in the message */
	rc = connection_frame(c, &f);
	message_unref(&m);
	return (rc);
}

/* Act on what has been read: the protocol header, then whole frames. */
static void
connection_process(struct connection *c)
{
	struct evbuffer		*in = c->in;
	struct channel		*ch;
	uint8_t			*p = NULL;
	size_t			 len, off, ext, need;
	int			 err = 0;

	c->refcnt++;
	c->last_read = connection_now();
	if (c->state == CONN_HEADER) {
		if (evbuffer_get_length(in) < sizeof connection_header)
			goto out;
		p = evbuffer_pullup(in, sizeof connection_header);
		if (memcmp(p, connection_header, sizeof connection_header)
		    != 0) {
			/* 0-9-1 4.2.2: reply with the header we speak. */
			conn_log(c, LOG_INFO, "bad protocol header");
			evbuffer_add(c->out, connection_header,
			    sizeof connection_header);
			connection_flush_after(c);
			goto out;
		}
		evbuffer_drain(in, sizeof connection_header);
		connection_send_start(c);
		c->state = CONN_START_OK;
	}
	/*
	 * Handle the whole frames in each contiguous extent of the input,
	 * draining once per extent.  A frame that straddles extents is
	 * pulled together, except a large body frame, which goes straight
	 * into its message.  When a frame is cut short, the read watermark
	 * keeps this callback from running again until all of it is here.
	 */
	need = AMQP_FRAME_HEADER_SIZE;
	while (c->state != CONN_DEAD && !c->flush_close) {
		len = evbuffer_get_length(in);
		if (c->body_msg != NULL) {
			need = 0;
			if (c->body_left > 0 || len == 0)
				break;
			err = connection_body_end(c);
			p = NULL;
			off = 0;
		} else if (len < AMQP_FRAME_HEADER_SIZE) {
			need = AMQP_FRAME_HEADER_SIZE;
			break;
		} else {
			p = connection_extent(in, &ext);
			off = connection_frames(c, p, ext, &err);
		}
		if (c->state == CONN_DEAD)
			break;
		if (err) {
			evbuffer_drain(in, evbuffer_get_length(in));
			need = AMQP_FRAME_HEADER_SIZE;
			break;
		}
		if (off > 0)
			evbuffer_drain(in, off);
		if (p == NULL || off > 0 || c->flush_close)
			continue;
		/*
		 * The first frame is not all in the first extent (its size
		 * is within frame_max: connection_frames checked it).
		 */
		if (connection_body_start(c, p, len))
			continue;
		need = ((size_t)p[3] << 24 | (size_t)p[4] << 16 |
		    (size_t)p[5] << 8 | p[6]) + AMQP_FRAME_OVERHEAD;
		if (len < need)
			break;
		if (evbuffer_pullup(in, (ssize_t)need) == NULL)
			fatal("evbuffer_pullup failed");
		need = AMQP_FRAME_HEADER_SIZE;
	}
	if (c->state == CONN_DEAD)
		goto out;
	c->read_low = need > AMQP_FRAME_HEADER_SIZE ? need : 0;
	if (c->publisher)
		connection_memory_check();
	if ((broker->store_failed || broker->mem_blocked) && c->publisher &&
	    !c->blocked)
		connection_block(c, 1);
	/* One basic.ack (multiple) per channel for this whole batch. */
	while ((ch = TAILQ_FIRST(&c->confirm_pending)) != NULL) {
		TAILQ_REMOVE(&c->confirm_pending, ch, confirm_entry);
		ch->confirm_queued = 0;
		channel_flush_confirms(ch);
	}
out:
	connection_unref(c);
}

/*
 * Content framing (0-9-1 4.2.6): after a method that carries content come
 * one header frame and body frames adding up to the declared size, with
 * nothing else on that channel in between.  Checked on every channel, even
 * one that is closing, as RabbitMQ's command assembler does.  Returns 0 or
 * a connection error code with *id set to the method to report.
 */
static int
connection_assemble(struct connection *c, struct channel *ch,
    const struct frame *f, const struct method_desc *md,
    struct content_header *h, uint32_t *id)
{
	switch (ch->cc) {
	case CC_IDLE:
		if (f->type != AMQP_FRAME_METHOD) {
			*id = 0;
			return (connection_error(c, AMQP_UNEXPECTED_FRAME,
			    "expected method frame, got non method frame "
			    "instead"));
		}
		if (md->flags & METHOD_CONTENT)
			ch->cc = CC_HEADER;
		return (0);
	case CC_HEADER:
		*id = AMQP_BASIC_PUBLISH;
		if (f->type != AMQP_FRAME_HEADER)
			return (connection_error(c, AMQP_UNEXPECTED_FRAME,
			    "expected content header for class 60, got non "
			    "content header frame instead"));
		if (content_header_decode(f->payload, f->size, h) != 0) {
			*id = 0;
			return (connection_error(c, AMQP_FRAME_ERROR,
			    "content header frame of %u octets is truncated",
			    f->size));
		}
		if (h->class_id != AMQP_CLASS_BASIC)
			return (connection_error(c, AMQP_UNEXPECTED_FRAME,
			    "expected content header for class 60, got one "
			    "for class %u instead", h->class_id));
		if (h->weight != 0)
			return (connection_error(c, AMQP_UNEXPECTED_FRAME,
			    "expected content header for class 60, got non "
			    "content header frame instead"));
		ch->body_size = h->body_size;
		ch->body_received = 0;
		ch->cc = h->body_size == 0 ? CC_IDLE : CC_BODY;
		return (0);
	case CC_BODY:
		*id = AMQP_BASIC_PUBLISH;
		if (f->type != AMQP_FRAME_BODY)
			return (connection_error(c, AMQP_UNEXPECTED_FRAME,
			    "expected content body, got non content body frame "
			    "instead"));
		/*
		 * Warren differs: RabbitMQ 3.10 swallows a body longer than
		 * declared and wedges the channel; we say so at once.
		 */
		if (f->size > ch->body_size - ch->body_received)
			return (connection_error(c, AMQP_UNEXPECTED_FRAME,
			    "content body frame of %u octets overruns the %llu "
			    "declared in the content header", f->size,
			    (unsigned long long)ch->body_size));
		ch->body_received += f->size;
		if (ch->body_received == ch->body_size)
			ch->cc = CC_IDLE;
		return (0);
	}
	return (0);
}

/*
 * Handle one frame.  Returns non-zero after a connection exception (the
 * rest of the input is then discarded).
 */
static int
connection_frame(struct connection *c, const struct frame *f)
{
	union method_args		 args;
	const struct method_desc	*md = NULL;
	struct content_header		 h;
	struct channel			*ch = NULL;
	uint32_t			 id = 0;
	uint16_t			 chid = f->channel;
	int				 rc;

	if (c->state == CONN_CLOSING) {
		/* Only close-ok (or a crossing close) matters now. */
		if (f->type != AMQP_FRAME_METHOD || chid != 0 ||
		    method_decode(f->payload, f->size, &id, &md, &args) != 0)
			return (0);
		if (id == AMQP_CONNECTION_CLOSE_OK)
			connection_drop(c, "closed after connection error");
		else if (id == AMQP_CONNECTION_CLOSE) {
			connection_send(c, 0, AMQP_CONNECTION_CLOSE_OK, NULL);
			connection_flush_after(c);
		}
		return (0);
	}
	switch (f->type) {
	case AMQP_FRAME_HEARTBEAT:
		if (chid != 0) {
			rc = connection_error(c, AMQP_UNEXPECTED_FRAME,
			    "heartbeat frame on channel %u", chid);
			goto fail;
		}
		if (f->size != 0) {
			rc = connection_error(c, AMQP_FRAME_ERROR,
			    "heartbeat frame with a %u-octet payload", f->size);
			goto fail;
		}
		return (0);
	case AMQP_FRAME_METHOD:
		rc = method_decode(f->payload, f->size, &id, &md, &args);
		if (rc == AMQP_COMMAND_INVALID) {
			rc = connection_error(c, rc, "unknown method: class "
			    "%u, method %u", AMQP_METHOD_CLASS(id),
			    AMQP_METHOD_INDEX(id));
			goto fail;
		}
		if (rc != 0) {
			rc = connection_error(c, rc, "cannot decode %s "
			    "arguments", method_name(id));
			goto fail;
		}
		if (method_check_utf8(md, &args) != 0) {
			c->err_no_method = 1;
			rc = connection_error(c, AMQP_FRAME_ERROR,
			    "Malformed UTF-8 in shortstr");
			goto fail;
		}
		break;
	case AMQP_FRAME_HEADER:
	case AMQP_FRAME_BODY:
		break;
	default:
		rc = connection_error(c, AMQP_FRAME_ERROR,
		    "unknown frame type %u", f->type);
		goto fail;
	}
	if (c->state != CONN_OPEN) {
		if (f->type != AMQP_FRAME_METHOD || chid != 0) {
			rc = connection_error(c, AMQP_UNEXPECTED_FRAME,
			    "frame on channel %u before connection.open", chid);
			id = 0;
			goto fail;
		}
		rc = connection_handshake(c, id, &args);
		goto done;
	}
	if (chid == 0) {
		if (f->type != AMQP_FRAME_METHOD) {
			rc = connection_error(c, AMQP_UNEXPECTED_FRAME,
			    "content frame on channel 0");
			goto fail;
		}
		rc = connection_method0(c, id, &args);
		goto done;
	}
	HASH_FIND(hh, c->channels, &chid, sizeof chid, ch);
	if (f->type == AMQP_FRAME_METHOD && id == AMQP_CHANNEL_OPEN) {
		if (ch != NULL) {
			rc = connection_error(c, AMQP_CHANNEL_ERROR,
			    "second 'channel.open' seen");
			goto fail;
		}
		/*
		 * As RabbitMQ: channel-max limits how many channels are open,
		 * not their numbers.
		 */
		if (c->nchannels >= c->channel_max) {
			c->err_no_method = 1;
			rc = connection_error(c, AMQP_NOT_ALLOWED,
			    "number of channels opened (%u) has reached the "
			    "negotiated channel_max (%u)", c->nchannels,
			    c->channel_max);
			goto fail;
		}
		ch = channel_new(c, chid);
		HASH_ADD(hh, c->channels, id, sizeof ch->id, ch);
		c->nchannels++;
		connection_send(c, chid, AMQP_CHANNEL_OPEN_OK, NULL);
		return (0);
	}
	if (ch == NULL) {
		if (f->type != AMQP_FRAME_METHOD) {
			rc = connection_error(c, AMQP_UNEXPECTED_FRAME,
			    "expected method frame, got non method frame "
			    "instead");
			goto fail;
		}
		rc = connection_error(c, AMQP_CHANNEL_ERROR,
		    "expected 'channel.open' on channel %u", chid);
		goto fail;
	}
	if ((rc = connection_assemble(c, ch, f, md, &h, &id)) != 0) {
		connection_exception(c, (uint16_t)rc, c->err, id);
		return (1);
	}
	if (ch->state == CH_CLOSING) {
		/*
		 * 0-9-1 channel.close: discard all but close-ok; a crossing
		 * close is answered with close-ok and we go on waiting.
		 */
		if (f->type == AMQP_FRAME_METHOD && id == AMQP_CHANNEL_CLOSE)
			connection_send(c, chid, AMQP_CHANNEL_CLOSE_OK, NULL);
		else if (f->type == AMQP_FRAME_METHOD &&
		    id == AMQP_CHANNEL_CLOSE_OK) {
			HASH_DEL(c->channels, ch);
			c->nchannels--;
			channel_free(ch);
		}
		return (0);
	}
	if (f->type == AMQP_FRAME_METHOD) {
		if (id == AMQP_CHANNEL_CLOSE) {
			connection_send(c, chid, AMQP_CHANNEL_CLOSE_OK, NULL);
			HASH_DEL(c->channels, ch);
			c->nchannels--;
			channel_free(ch);
			return (0);
		}
		if (id == AMQP_BASIC_PUBLISH)
			c->publisher = 1;
		rc = channel_method(ch, id, &args);
	} else
		rc = channel_content(ch, f,
		    f->type == AMQP_FRAME_HEADER ? &h : NULL);
	if (rc != 0 && c->state == CONN_OPEN) {
		if (f->type != AMQP_FRAME_METHOD)
			id = AMQP_BASIC_PUBLISH;
		if (c->err_no_method)
			id = 0;
		if (AMQP_IS_HARD_ERROR(rc)) {
			connection_exception(c, (uint16_t)rc, c->err, id);
			return (1);
		}
		channel_exception(ch, (uint16_t)rc, c->err, id);
	}
	return (0);
done:
	if (rc == 0)
		return (0);
fail:
	if (c->state == CONN_DEAD || c->state == CONN_CLOSING)
		return (1);
	if (f->type != AMQP_FRAME_METHOD || c->err_no_method)
		id = 0;
	connection_exception(c, (uint16_t)rc, c->err, id);
	return (1);
}

/*
 * Stop (or resume) reading from a publishing connection while the store
 * fails, telling clients that asked for connection.blocked.
 */
static void
connection_block(struct connection *c, int block)
{
	struct connection_blocked	cb;

	if (c->state != CONN_OPEN || c->blocked == block)
		return;
	c->blocked = block;
	if (block) {
		connection_reading(c, 0);
		if (c->cap_blocked) {
			wire_shortstr_set(&cb.reason, broker->store_failed ?
			    "store failure: nothing can be made durable" :
			    "memory limit reached");
			connection_send(c, 0, AMQP_CONNECTION_BLOCKED, &cb);
		}
		conn_log(c, LOG_WARN, "blocked: %s", broker->store_failed ?
		    "the store is failing" : "memory limit reached");
	} else {
		connection_reading(c, 1);
		c->last_read = connection_now();
		if (c->cap_blocked)
			connection_send(c, 0, AMQP_CONNECTION_UNBLOCKED, NULL);
		conn_log(c, LOG_NOTICE, "unblocked");
	}
}

/* Block or release every publishing connection as the state says. */
static void
connection_block_all(void)
{
	struct connection	*c, *tmp;
	int			 block;

	block = broker->store_failed || broker->mem_blocked;
	TAILQ_FOREACH_SAFE(c, &broker->conns, entry, tmp) {
		if (c->publisher)
			connection_block(c, block);
	}
}

/* The store started failing or recovered: block or release publishers. */
void
store_on_failure(int failing)
{
	broker->store_failed = failing;
	connection_block_all();
}

/* While blocked for memory: see whether consumers have made room. */
static void
connection_memory_cb(evutil_socket_t fd, short what, void *arg)
{
	connection_memory_check();
}

/*
 * Keep message memory under memory_limit: page committed persistent
 * messages out to the store, and if that is not enough, stop reading from
 * publishers (connection.blocked) until consumers bring it below 90%.
 */
void
connection_memory_check(void)
{
	static struct event	*ev;
	struct timeval		 tv = { 0, 100000 };
	uint64_t		 limit = broker->mem_limit, low;

	if (limit == 0)
		return;
	low = limit / 10 * 9;
	if (broker->msg_bytes > limit)
		store_page_out(broker->msg_bytes - low);
	if (!broker->mem_blocked && broker->msg_bytes > limit) {
		log_warn("memory limit reached (%llu bytes of messages): "
		    "publishers are blocked", (unsigned long long)
		    broker->msg_bytes);
		broker->mem_blocked = 1;
		connection_block_all();
	} else if (broker->mem_blocked && broker->msg_bytes < low) {
		log_notice("memory below the limit again: publishers resume");
		broker->mem_blocked = 0;
		connection_block_all();
	}
	if (broker->mem_blocked) {
		if (ev == NULL)
			ev = evtimer_new(broker->base, connection_memory_cb,
			    NULL);
		evtimer_add(ev, &tv);
	} else if (ev != NULL) {
		event_free(ev);
		ev = NULL;
	}
}

/* Methods on channel 0 once the connection is open. */
static int
connection_method0(struct connection *c, uint32_t id,
    union method_args *args)
{
	switch (id) {
	case AMQP_CONNECTION_CLOSE:
		conn_log(c, LOG_INFO, "client closed: %u %s",
		    args->connection_close.reply_code,
		    args->connection_close.reply_text.s);
		connection_release(c);
		connection_send(c, 0, AMQP_CONNECTION_CLOSE_OK, NULL);
		connection_flush_after(c);
		return (0);
	case AMQP_CONNECTION_UPDATE_SECRET:
		connection_send(c, 0, AMQP_CONNECTION_UPDATE_SECRET_OK, NULL);
		return (0);
	case AMQP_CONNECTION_BLOCKED:
	case AMQP_CONNECTION_UNBLOCKED:
		return (0);
	}
	return (connection_error(c, AMQP_CHANNEL_ERROR,
	    "unexpected method in connection state running"));
}

/* Read one boolean from a capabilities table. */
static int
connection_cap(const struct field_table *caps, const char *name)
{
	struct field_value	fv;

	return (table_find(caps, name, &fv) && fv.type == 't' && fv.v.b);
}

/* start-ok, tune-ok and open. */
static int
connection_handshake(struct connection *c, uint32_t id,
    union method_args *args)
{
	struct connection_start_ok	*so;
	struct connection_tune		*t;
	struct connection_tune		 tune;
	struct connection_open		*o;
	struct connection_open_ok	 ook;
	struct field_value		 fv;
	struct vhost			*v;
	const char			*why;
	char				*user;

	switch (c->state) {
	case CONN_START_OK:
		if (id != AMQP_CONNECTION_START_OK)
			break;
		so = &args->connection_start_ok;
		if (table_find(&so->client_properties, "capabilities", &fv) &&
		    fv.type == 'F') {
			c->cap_cancel_notify = connection_cap(&fv.v.t,
			    "consumer_cancel_notify");
			c->cap_blocked = connection_cap(&fv.v.t,
			    "connection.blocked");
			c->cap_auth_failure_close = connection_cap(&fv.v.t,
			    "authentication_failure_close");
		}
		if (strcmp(so->mechanism.s, "PLAIN") != 0 &&
		    strcmp(so->mechanism.s, "AMQPLAIN") != 0)
			return (connection_error(c, AMQP_ACCESS_REFUSED,
			    "unsupported authentication mechanism '%s'",
			    so->mechanism.s));
		if (auth_login(so->mechanism.s, so->response.p,
		    so->response.len, c->loopback, &user, &why) != 0) {
			conn_log(c, LOG_WARN, "login refused: %s", why);
			c->err_no_method = 1;	/* RabbitMQ sends 0, 0 */
			return (connection_error(c, AMQP_ACCESS_REFUSED,
			    "Login was refused using authentication mechanism "
			    "%s. For details see the broker logfile.",
			    so->mechanism.s));
		}
		c->user = user;
		memset(&tune, 0, sizeof tune);
		tune.channel_max = (uint16_t)config.channel_max;
		tune.frame_max = (uint32_t)config.frame_max;
		tune.heartbeat = (uint16_t)config.heartbeat;
		connection_send(c, 0, AMQP_CONNECTION_TUNE, &tune);
		c->state = CONN_TUNE_OK;
		return (0);
	case CONN_TUNE_OK:
		if (id != AMQP_CONNECTION_TUNE_OK)
			break;
		t = &args->connection_tune;
		if (t->frame_max != 0 && t->frame_max < AMQP_FRAME_MIN_SIZE)
			return (connection_error(c, AMQP_NOT_ALLOWED,
			    "negotiated frame_max = %u is lower than the "
			    "minimum allowed value (%u)", t->frame_max,
			    AMQP_FRAME_MIN_SIZE));
		if (t->frame_max == 0 || t->frame_max > config.frame_max)
			return (connection_error(c, AMQP_NOT_ALLOWED,
			    "negotiated frame_max = %u is higher than the "
			    "maximum allowed value (%u)", t->frame_max,
			    (unsigned)config.frame_max));
		if (t->channel_max == 0 || t->channel_max > config.channel_max)
			return (connection_error(c, AMQP_NOT_ALLOWED,
			    "negotiated channel_max = %u is higher than the "
			    "maximum allowed value (%u)", t->channel_max,
			    (unsigned)config.channel_max));
		c->frame_max = t->frame_max;
		c->channel_max = t->channel_max;
		c->heartbeat = t->heartbeat;
		c->state = CONN_OPEN_WAIT;
		return (0);
	case CONN_OPEN_WAIT:
		if (id != AMQP_CONNECTION_OPEN)
			break;
		o = &args->connection_open;
		if ((v = vhost_find(o->virtual_host.s)) == NULL)
			return (connection_error(c, AMQP_NOT_ALLOWED,
			    "vhost %s not found", o->virtual_host.s));
		if (!auth_vhost_allowed(c->user, v->name))
			return (connection_error(c, AMQP_NOT_ALLOWED,
			    "access to vhost '%s' refused for user '%s'",
			    v->name, c->user));
		c->vhost = v;
		memset(&ook, 0, sizeof ook);
		connection_send(c, 0, AMQP_CONNECTION_OPEN_OK, &ook);
		c->state = CONN_OPEN;
		event_del(c->timer);
		if (c->heartbeat > 0)
			connection_timer_set(c, c->heartbeat / 2 > 0 ?
			    c->heartbeat / 2 : 1);
		conn_log(c, LOG_INFO, "open (frame_max %u, channel_max %u, "
		    "heartbeat %u)", c->frame_max, c->channel_max,
		    c->heartbeat);
		return (0);
	default:
		break;
	}
	if (id == AMQP_CONNECTION_CLOSE) {
		connection_send(c, 0, AMQP_CONNECTION_CLOSE_OK, NULL);
		connection_flush_after(c);
		return (0);
	}
	return (connection_error(c, AMQP_CHANNEL_ERROR,
	    "unexpected method in connection state %s",
	    c->state == CONN_START_OK ? "starting" :
	    c->state == CONN_TUNE_OK ? "tuning" : "opening"));
}
