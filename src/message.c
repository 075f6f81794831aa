/*
 * message.c: reference-counted messages.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "message.h"

/*
 * Make a message: the exchange, routing key and property bytes are copied
 * in; the body is filled in by the channel as body frames arrive.
 */
struct message *
message_new(const char *x, size_t xlen, const char *rk, size_t rklen,
    const uint8_t *props, size_t props_len, uint64_t body_size)
{
	struct message	*m;
	uint8_t		*p;

	p = xmalloc(sizeof *m + xlen + 1 + rklen + 1 + props_len +
	    (size_t)body_size);
	m = (struct message *)p;
	memset(m, 0, sizeof *m);
	m->refcnt = 1;
	p += sizeof *m;
	m->exchange = (char *)p;
	memcpy(m->exchange, x, xlen);
	m->exchange[xlen] = '\0';
	m->exchange_len = (uint8_t)xlen;
	p += xlen + 1;
	m->routing_key = (char *)p;
	memcpy(m->routing_key, rk, rklen);
	m->routing_key[rklen] = '\0';
	m->routing_key_len = (uint8_t)rklen;
	p += rklen + 1;
	m->props = p;
	memcpy(m->props, props, props_len);
	m->props_len = props_len;
	p += props_len;
	m->body = p;
	m->body_size = body_size;
	if (broker != NULL)
		broker->msg_bytes += message_size(m);
	return (m);
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
		free(m);
	}
}

/* Memory the message holds. */
size_t
message_size(const struct message *m)
{
	return (sizeof *m + m->exchange_len + m->routing_key_len + 2 +
	    m->props_len + (size_t)m->body_size);
}
