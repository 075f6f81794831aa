/*
 * message.c: reference-counted messages.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "broker.h"
#include "message.h"
#include "method.h"

static struct msgkey *message_key(const char *, size_t, const char *,
	    size_t);
static void	message_key_unref(struct msgkey *);

/*
 * Make a message: the exchange, routing key and property bytes are copied
 * in; the body is filled in by the channel as body frames arrive.
 */
struct message *
message_new(const char *x, size_t xlen, const char *rk, size_t rklen,
    const uint8_t *props, size_t props_len, uint64_t body_size)
{
	struct message	*m;

	m = xmalloc(sizeof *m + props_len + (size_t)body_size);
	memset(m, 0, sizeof *m);
	m->refcnt = 1;
	m->exchange_len = (uint8_t)xlen;
	m->routing_key_len = (uint8_t)rklen;
	m->props_len = (uint32_t)props_len;
	m->body_size = (uint32_t)body_size;
	m->key = message_key(x, xlen, rk, rklen);
	memcpy(MSG_PROPS(m), props, props_len);
	if (broker != NULL)
		broker->msg_bytes += message_size(m);
	return (m);
}

/* The key last made, kept for the next message published alike. */
static struct msgkey	*message_last_key;
static uint8_t		 message_last_xlen, message_last_rklen;

/* Drop a key reference. */
static void
message_key_unref(struct msgkey *k)
{
	if (k != NULL && --k->refcnt == 0)
		free(k);
}

/* A key for exchange x and routing key rk (a new reference). */
static struct msgkey *
message_key(const char *x, size_t xlen, const char *rk, size_t rklen)
{
	struct msgkey	*k = message_last_key;

	if (k != NULL && message_last_xlen == xlen &&
	    message_last_rklen == rklen && memcmp(k->s, x, xlen) == 0 &&
	    memcmp(k->s + xlen + 1, rk, rklen) == 0) {
		k->refcnt++;
		return (k);
	}
	k = xmalloc(sizeof *k + xlen + 1 + rklen + 1);
	k->refcnt = 2;		/* the message's and the cache's */
	memcpy(k->s, x, xlen);
	k->s[xlen] = '\0';
	memcpy(k->s + xlen + 1, rk, rklen);
	k->s[xlen + 1 + rklen] = '\0';
	message_key_unref(message_last_key);
	message_last_key = k;
	message_last_xlen = (uint8_t)xlen;
	message_last_rklen = (uint8_t)rklen;
	return (k);
}

/* Drop the cached key. */
void
message_cache_free(void)
{
	message_key_unref(message_last_key);
	message_last_key = NULL;
}

/* Read delivery mode, priority, expiration and headers from the props. */
void
message_parse_props(struct message *m)
{
	struct basic_props	props;

	if (props_decode(MSG_PROPS(m), m->props_len, &props) != 0)
		return;
	if (props.flags & AMQP_BASIC_DELIVERY_MODE_FLAG)
		m->delivery_mode = props.delivery_mode;
	if (props.flags & AMQP_BASIC_PRIORITY_FLAG)
		m->priority = props.priority;
	if (props.flags & AMQP_BASIC_HEADERS_FLAG) {
		m->hdr_off = (uint32_t)(props.headers.p - MSG_PROPS(m));
		m->hdr_len = props.headers.len;
	}
	m->has_expiration = (props.flags & AMQP_BASIC_EXPIRATION_FLAG) != 0;
}

/*
 * The expiration property (validated at publish) in ms.  Kept in the
 * property bytes rather than in every message: only TTL queues and
 * dead-lettering ask.
 */
int64_t
message_expiration(const struct message *m)
{
	struct basic_props	props;
	long long		n;

	if (!m->has_expiration || props_decode(MSG_PROPS(m), m->props_len,
	    &props) != 0 || !(props.flags & AMQP_BASIC_EXPIRATION_FLAG))
		return (-1);
	n = strtoll(props.expiration.s, NULL, 10);
	return (n < 0 ? -n : n);
}

/* A copy of m with its headers rewritten (dead-lettering and the like). */
struct message *
message_rewrite(const struct message *m, const char *x, size_t xlen,
    const char *rk, size_t rklen, message_headers_cb edit, void *arg,
    int drop_expiration, const char *reply_to)
{
	struct basic_props	 props;
	struct evbuffer		*hb, *pb;
	struct message		*n;

	memset(&props, 0, sizeof props);
	(void)props_decode(MSG_PROPS(m), m->props_len, &props);
	hb = evbuffer_new();
	pb = evbuffer_new();
	if (edit != NULL)
		edit(MSG_HDRS(m), hb, arg);
	else
		evbuffer_add(hb, MSG_PROPS(m) + m->hdr_off, m->hdr_len);
	props.headers.len = (uint32_t)evbuffer_get_length(hb);
	props.headers.p = evbuffer_pullup(hb, -1);
	/* An emptied table stays (RabbitMQ keeps "headers: []"). */
	if (props.headers.len > 0)
		props.flags |= AMQP_BASIC_HEADERS_FLAG;
	if (drop_expiration)
		props.flags &= ~AMQP_BASIC_EXPIRATION_FLAG;
	if (reply_to != NULL) {
		wire_shortstr_set(&props.reply_to, reply_to);
		props.flags |= AMQP_BASIC_REPLY_TO_FLAG;
	}
	props_encode(pb, &props);
	if (x == NULL) {
		x = MSG_EXCHANGE(m);
		xlen = m->exchange_len;
		rk = MSG_RK(m);
		rklen = m->routing_key_len;
	}
	n = message_new(x, xlen, rk, rklen, evbuffer_pullup(pb, -1),
	    evbuffer_get_length(pb), m->body_size);
	memcpy(MSG_BODY(n), MSG_BODY(m), m->body_size);
	message_parse_props(n);
	evbuffer_free(hb);
	evbuffer_free(pb);
	return (n);
}

/* Take a reference. */
struct message *
message_ref(struct message *m)
{
	m->refcnt++;
	return (m);
}

/* Drop a reference and NULL the caller's pointer. */
void
message_unref(struct message **mp)
{
	struct message	*m = *mp;

	*mp = NULL;
	if (m != NULL && --m->refcnt == 0) {
		if (broker != NULL)
			broker->msg_bytes -= message_size(m);
		message_key_unref(m->key);
		free(m);
	}
}

/* Memory the message holds. */
size_t
message_size(const struct message *m)
{
	return (sizeof *m + m->props_len + (size_t)m->body_size);
}
