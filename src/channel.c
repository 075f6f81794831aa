/*
 * channel.c: everything that happens on a channel: exchange, queue, basic,
 * confirm and tx methods; content assembly; deliveries and their acks.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "broker.h"
#include "args.h"
#include "channel.h"
#include "conf.h"
#include "connection.h"
#include "dedup.h"
#include "delayed.h"
#include "exchange.h"
#include "message.h"
#include "queue.h"
#include "store.h"
#include "vhost.h"

/* Bodies at least this big go out by reference, smaller ones are copied. */
#define CHANNEL_BODY_REF_MIN	2048

static struct route_result channel_rr;	/* scratch: one routing at a time */

#define SETTLE_ACK	0
#define SETTLE_REQUEUE	1
#define SETTLE_REJECT	2

/* Channels with a direct reply-to consumer, by the token in its name. */
static struct channel *channel_replies;

/* Channels with replies waiting for a store commit. */
static TAILQ_HEAD(, channel) channel_store_waiters =
    TAILQ_HEAD_INITIALIZER(channel_store_waiters);

static void	channel_confirm_add(struct channel *, uint8_t, uint64_t,
		    uint64_t);
static void	channel_confirm_release(struct channel *, uint64_t);

static void	channel_shutdown(struct channel *);
static void	channel_consumer_free(struct channel *, struct consumer *);
static void	channel_send_message(struct channel *, uint32_t, const void *,
		    const struct message *);
static void	channel_send_entry(struct channel *, struct queue *,
		    struct qentry *, uint32_t, const void *);
static uint64_t	channel_ua_add(struct channel *, struct qentry *,
		    struct queue *, struct consumer *);
static struct delivery *channel_ua_find(struct channel *, uint64_t);
static void	channel_ua_trim(struct channel *);
static void	channel_settle(struct channel *, struct delivery *, int);
static int	channel_ack(struct channel *, uint64_t, int, int, int);
static void	channel_requeue_all(struct channel *);
static void	channel_kick(struct channel *);
static void	channel_body_free_cb(const void *, size_t, void *);
static int	channel_publish_done(struct channel *);
static int	channel_route(struct channel *, struct exchange *,
		    struct message *, int, int *);
static int	channel_route_cc(struct exchange *, const struct message *,
		    const char *);
static int64_t	channel_cache_ttl(const struct message *);
static void	channel_drop_bcc_cb(const struct field_table *,
		    struct evbuffer *, void *);
static int	channel_queue_owned(struct channel *, struct queue *);
static int	channel_reply_consume(struct channel *,
		    struct basic_consume *);
static void	channel_reply_cancel(struct channel *);
static int	channel_reply_deliver(struct message *);
static int	channel_queue_name(struct channel *, struct shortstr *);

/* Copy n bytes into a short string. */
static void
shortstr_setn(struct shortstr *ss, const char *p, size_t n)
{
	if (n > 255)
		n = 255;
	memcpy(ss->s, p, n);
	ss->s[n] = '\0';
	ss->len = (uint8_t)n;
}

/* A soft or hard error raised by a handler: keep the text, return code. */
int
channel_error(struct channel *ch, int code, const char *fmt, ...)
{
	struct connection	*c = ch->conn;
	va_list			 ap;
	int			 n;

	n = snprintf(c->err, sizeof c->err, "%s - ", reply_code_name(code));
	va_start(ap, fmt);
	vsnprintf(c->err + n, sizeof c->err - n, fmt, ap);
	va_end(ap);
	return (code);
}

/* A new open channel. */
struct channel *
channel_new(struct connection *c, uint16_t id)
{
	struct channel	*ch;

	ch = xcalloc(1, sizeof *ch);
	ch->conn = c;
	ch->id = id;
	ch->state = CH_OPEN;
	return (ch);
}

/*
 * Release what a channel holds: the message being assembled, tx work,
 * consumers, and unacked messages (requeued, as 0-9-1 requires when a
 * channel closes).
 */
static void
channel_shutdown(struct channel *ch)
{
	struct consumer	*c, *tmp;
	size_t		 i;

	/*
	 * Unacked messages go back before the consumers go, so that the next
	 * consumer (single active consumer) gets them first; this channel's
	 * consumers have no credit from now on.
	 */
	ch->state = CH_CLOSING;
	message_unref(&ch->msg);
	for (i = 0; i < ch->ntxops; i++)
		message_unref(&ch->txops[i].msg);
	ch->ntxops = 0;
	channel_requeue_all(ch);
	HASH_ITER(hh, ch->consumers, c, tmp)
		channel_consumer_free(ch, c);
	channel_reply_cancel(ch);
	if (ch->confirm_queued) {
		TAILQ_REMOVE(&ch->conn->confirm_pending, ch, confirm_entry);
		ch->confirm_queued = 0;
	}
	if (ch->store_waiting) {
		TAILQ_REMOVE(&channel_store_waiters, ch, store_entry);
		ch->store_waiting = 0;
	}
	ch->cw_len = 0;
}

/* Free a channel the connection has already unlinked. */
void
channel_free(struct channel *ch)
{
	channel_shutdown(ch);
	free(ch->txops);
	free(ch->ua);
	free(ch->cw);
	free(ch);
}

/* Close the channel with a soft error; frames are discarded until close-ok. */
void
channel_exception(struct channel *ch, uint16_t code, const char *text,
    uint32_t method)
{
	struct connection_close	cc;

	conn_log(ch->conn, LOG_INFO, "channel %u error: %s", ch->id, text);
	memset(&cc, 0, sizeof cc);
	cc.reply_code = code;
	shortstr_setn(&cc.reply_text, text, strlen(text));
	cc.class_id = AMQP_METHOD_CLASS(method);
	cc.method_id = AMQP_METHOD_INDEX(method);
	connection_send(ch->conn, ch->id, AMQP_CHANNEL_CLOSE, &cc);
	channel_shutdown(ch);
	ch->state = CH_CLOSING;
}

/* Remove a consumer from its channel and queue. */
static void
channel_consumer_free(struct channel *ch, struct consumer *c)
{
	struct queue	*q = c->q;
	size_t		 i;
	int		 hold;

	/*
	 * As RabbitMQ: a single active consumer that goes with messages
	 * unacked keeps the queue until they are settled, so that a requeue
	 * reaches the next consumer before anything newer.
	 */
	hold = q->sac && c == TAILQ_FIRST(&q->consumers) && !q->deleted;
	for (i = 0; i < ch->ua_len; i++) {
		struct delivery	*d = &ch->ua[(ch->ua_head + i) % ch->ua_cap];

		if (d->c == c) {
			d->c = NULL;
			if (hold && d->e.msg != NULL) {
				d->sac_hold = 1;
				q->sac_hold++;
			}
		}
	}
	HASH_DEL(ch->consumers, c);
	ch->nconsumers--;
	queue_consumer_remove(c->q, c);
	free(c);
}

/* The consumer's queue was deleted: basic.cancel if the client wants it. */
void
consumer_queue_deleted(struct consumer *c)
{
	struct channel		*ch = c->ch;
	struct basic_cancel	 bc;

	if (ch->conn->cap_cancel_notify) {
		memset(&bc, 0, sizeof bc);
		shortstr_setn(&bc.consumer_tag, c->tag, c->taglen);
		bc.nowait = 1;
		connection_send(ch->conn, ch->id, AMQP_BASIC_CANCEL, &bc);
	}
	channel_consumer_free(ch, c);
}

/*
 * May this consumer take one more message?  Prefetch limits (per consumer
 * and per channel) and the connection's output buffer decide.
 */
int
consumer_has_credit(const struct consumer *c)
{
	struct channel		*ch = c->ch;
	struct connection	*conn = ch->conn;

	if (ch->state != CH_OPEN || conn->out_paused)
		return (0);
	if (evbuffer_get_length(conn->out) >= (size_t)config.consumer_buffer) {
		/* Resumed by connection_drained when the buffer drains. */
		conn->out_paused = 1;
		return (0);
	}
	if (c->no_ack)
		return (1);
	if (c->prefetch != 0 && c->unacked >= c->prefetch)
		return (0);
	if (ch->prefetch_global != 0 && ch->nunacked >= ch->prefetch_global)
		return (0);
	return (1);
}

/* Release a body reference once the bytes have been written. */
static void
channel_body_free_cb(const void *data, size_t len, void *arg)
{
	struct message	*m = arg;

	message_unref(&m);
}

/* Size of a basic.deliver frame: the hot path skips the method table. */
static size_t
channel_deliver_size(const struct basic_deliver *d)
{
	return (AMQP_FRAME_OVERHEAD + 4 + 1 + d->consumer_tag.len + 8 + 1 +
	    1 + d->exchange.len + 1 + d->routing_key.len);
}

/* Write a basic.deliver frame at p; returns the end. */
static uint8_t *
channel_encode_deliver(uint8_t *p, uint16_t chid,
    const struct basic_deliver *d)
{
	p = wire_enc_u8(p, AMQP_FRAME_METHOD);
	p = wire_enc_u16(p, chid);
	p = wire_enc_u32(p, (uint32_t)(channel_deliver_size(d) -
	    AMQP_FRAME_OVERHEAD));
	p = wire_enc_u16(p, AMQP_CLASS_BASIC);
	p = wire_enc_u16(p, AMQP_METHOD_INDEX(AMQP_BASIC_DELIVER));
	p = wire_enc_u8(p, d->consumer_tag.len);
	p = wire_enc_bytes(p, d->consumer_tag.s, d->consumer_tag.len);
	p = wire_enc_u64(p, d->delivery_tag);
	p = wire_enc_u8(p, d->redelivered ? 1 : 0);
	p = wire_enc_u8(p, d->exchange.len);
	p = wire_enc_bytes(p, d->exchange.s, d->exchange.len);
	p = wire_enc_u8(p, d->routing_key.len);
	p = wire_enc_bytes(p, d->routing_key.s, d->routing_key.len);
	*p++ = AMQP_FRAME_END;
	return (p);
}

/*
 * Append a method that carries content (deliver, get-ok, return), the
 * content header (the property bytes exactly as the publisher sent them)
 * and the body frames, split to the connection's frame-max.  A small body
 * goes out with the method and header in one reserved extent of the output
 * buffer; a large one by reference.
 */
static void
channel_send_message(struct channel *ch, uint32_t id, const void *args,
    const struct message *m)
{
	struct evbuffer		*out = ch->conn->out;
	struct evbuffer_iovec	 vec;
	uint8_t			 hdr[AMQP_FRAME_HEADER_SIZE], *p;
	uint8_t			 end = AMQP_FRAME_END;
	uint64_t		 off, chunk, max;
	size_t			 total, inline_body;

	if (ch->conn->state == CONN_DEAD)
		return;
	max = ch->conn->frame_max - AMQP_FRAME_OVERHEAD;
	inline_body = m->body_size > 0 && m->body_size < CHANNEL_BODY_REF_MIN &&
	    m->body_size <= max ? (size_t)m->body_size : 0;
	total = (id == AMQP_BASIC_DELIVER ? channel_deliver_size(args) :
	    method_frame_size(id, args)) + AMQP_FRAME_OVERHEAD + 12 +
	    m->props_len + (inline_body > 0 ? AMQP_FRAME_OVERHEAD +
	    inline_body : 0);
	if (evbuffer_reserve_space(out, total, &vec, 1) != 1 ||
	    vec.iov_len < total)
		fatal("evbuffer_reserve_space failed");
	if (id == AMQP_BASIC_DELIVER)
		p = channel_encode_deliver(vec.iov_base, ch->id, args);
	else
		p = method_encode_mem(vec.iov_base, ch->id, id, args);
	p = wire_enc_u8(p, AMQP_FRAME_HEADER);
	p = wire_enc_u16(p, ch->id);
	p = wire_enc_u32(p, (uint32_t)(12 + m->props_len));
	p = wire_enc_u16(p, AMQP_CLASS_BASIC);
	p = wire_enc_u16(p, 0);
	p = wire_enc_u64(p, m->body_size);
	p = wire_enc_bytes(p, MSG_PROPS(m), m->props_len);
	*p++ = AMQP_FRAME_END;
	if (inline_body > 0) {
		p = wire_enc_u8(p, AMQP_FRAME_BODY);
		p = wire_enc_u16(p, ch->id);
		p = wire_enc_u32(p, (uint32_t)inline_body);
		p = wire_enc_bytes(p, MSG_BODY(m), inline_body);
		*p++ = AMQP_FRAME_END;
	}
	vec.iov_len = total;
	evbuffer_commit_space(out, &vec, 1);
	if (inline_body > 0)
		return;
	for (off = 0; off < m->body_size; off += chunk) {
		chunk = m->body_size - off < max ? m->body_size - off : max;
		p = wire_enc_u8(hdr, AMQP_FRAME_BODY);
		p = wire_enc_u16(p, ch->id);
		p = wire_enc_u32(p, (uint32_t)chunk);
		evbuffer_add(out, hdr, AMQP_FRAME_HEADER_SIZE);
		if (chunk >= CHANNEL_BODY_REF_MIN) {
			message_ref((struct message *)m);
			evbuffer_add_reference(out, MSG_BODY(m) + off,
			    (size_t)chunk, channel_body_free_cb, (void *)m);
		} else
			evbuffer_add(out, MSG_BODY(m) + off, (size_t)chunk);
		evbuffer_add(out, &end, 1);
	}
}

/* Make room for and record an unacked delivery; returns its tag. */
static uint64_t
channel_ua_add(struct channel *ch, struct qentry *e, struct queue *q,
    struct consumer *c)
{
	struct delivery	*ring, *d;
	uint64_t	 tag = ++ch->next_tag;
	size_t		 need, cap, i;

	if (ch->ua_len == 0) {
		ch->ua_base = tag;
		ch->ua_head = 0;
	}
	need = (size_t)(tag - ch->ua_base) + 1;
	if (need > ch->ua_cap) {
		cap = ch->ua_cap == 0 ? 16 : ch->ua_cap;
		while (cap < need)
			cap *= 2;
		ring = xreallocarray(NULL, cap, sizeof *ring);
		for (i = 0; i < ch->ua_len; i++)
			ring[i] = ch->ua[(ch->ua_head + i) % ch->ua_cap];
		free(ch->ua);
		ch->ua = ring;
		ch->ua_cap = cap;
		ch->ua_head = 0;
	}
	/* Tags of no-ack deliveries in between become holes. */
	while (ch->ua_len < need) {
		d = &ch->ua[(ch->ua_head + ch->ua_len) % ch->ua_cap];
		memset(d, 0, sizeof *d);
		ch->ua_len++;
	}
	d = &ch->ua[(ch->ua_head + need - 1) % ch->ua_cap];
	d->e = *e;
	d->q = queue_ref(q);
	d->c = c;
	ch->nunacked++;
	if (c != NULL)
		c->unacked++;
	return (tag);
}

/* The unacked delivery with this tag, or NULL. */
static struct delivery *
channel_ua_find(struct channel *ch, uint64_t tag)
{
	struct delivery	*d;

	if (tag < ch->ua_base || tag - ch->ua_base >= ch->ua_len)
		return (NULL);
	d = &ch->ua[(ch->ua_head + (size_t)(tag - ch->ua_base)) % ch->ua_cap];
	return (d->e.msg != NULL ? d : NULL);
}

/* Drop settled slots from the front of the ring. */
static void
channel_ua_trim(struct channel *ch)
{
	while (ch->ua_len > 0 && ch->ua[ch->ua_head].e.msg == NULL) {
		ch->ua_head = (ch->ua_head + 1) % ch->ua_cap;
		ch->ua_base++;
		ch->ua_len--;
	}
}

/*
 * Settle one delivery: an ack drops it, a requeue puts it back at its
 * queue's head, a reject without requeue dead-letters or drops it.
 */
static void
channel_settle(struct channel *ch, struct delivery *d, int how)
{
	struct queue	*q = d->q;

	if (d->c != NULL)
		d->c->unacked--;
	ch->nunacked--;
	queue_settled(q);
	if (d->sac_hold) {
		d->sac_hold = 0;
		q->sac_hold--;
	}
	switch (how) {
	case SETTLE_REQUEUE:
		queue_requeue(q, &d->e);
		break;
	case SETTLE_REJECT:
		queue_reject(q, &d->e);
		break;
	default:
		queue_forget(q, d->e.msg, d->e.seq);
		message_unref(&d->e.msg);
		break;
	}
	d->e.msg = NULL;
	d->c = NULL;
	queue_unref(&d->q);
}

/* Remember a queue to dispatch once settling is over (each once). */
static void
channel_qs_add(struct queue ***qs, size_t *nq, size_t *cap, struct queue *q)
{
	size_t	i;

	for (i = *nq; i-- > 0 && i + 8 >= *nq;)
		if ((*qs)[i] == q)
			return;
	if (*nq == *cap) {
		*cap = *cap == 0 ? 4 : *cap * 2;
		*qs = xreallocarray(*qs, *cap, sizeof **qs);
	}
	(*qs)[(*nq)++] = queue_ref(q);
}

/* Dispatch the queues settling gave messages back to. */
static void
channel_qs_dispatch(struct queue **qs, size_t nq)
{
	size_t	i;

	for (i = 0; i < nq; i++) {
		queue_dispatch(qs[i]);
		queue_unref(&qs[i]);
	}
	free(qs);
}

/*
 * basic.ack, basic.nack and basic.reject.  Tag 0 with multiple means every
 * outstanding delivery.  Requeued messages go back newest first so that
 * their queue keeps the original order; rejected ones are dead-lettered
 * oldest first.
 */
static int
channel_ack(struct channel *ch, uint64_t tag, int multiple, int requeue,
    int ack)
{
	struct delivery	*d;
	struct queue	**qs = NULL;
	size_t		 nq = 0, qcap = 0, i, n, first, last;
	int		 how;

	if (multiple && tag == 0) {
		if (ch->ua_len == 0)
			return (0);
		tag = ch->ua_base + ch->ua_len - 1;
	} else if (channel_ua_find(ch, tag) == NULL)
		return (channel_error(ch, AMQP_PRECONDITION_FAILED,
		    "unknown delivery tag %llu", (unsigned long long)tag));
	how = ack ? SETTLE_ACK : requeue ? SETTLE_REQUEUE : SETTLE_REJECT;
	first = multiple ? 0 : (size_t)(tag - ch->ua_base);
	last = (size_t)(tag - ch->ua_base);
	for (n = 0; n <= last - first; n++) {
		i = how == SETTLE_REQUEUE ? last - n : first + n;
		d = &ch->ua[(ch->ua_head + i) % ch->ua_cap];
		if (d->e.msg == NULL)
			continue;
		/* A requeue, or the last settle a single-active queue waits for. */
		if (how == SETTLE_REQUEUE || (d->sac_hold &&
		    d->q->sac_hold == 1))
			channel_qs_add(&qs, &nq, &qcap, d->q);
		channel_settle(ch, d, how);
	}
	channel_ua_trim(ch);
	channel_qs_dispatch(qs, nq);
	channel_kick(ch);
	return (0);
}

/* Requeue every unacked delivery (channel close, basic.recover). */
static void
channel_requeue_all(struct channel *ch)
{
	struct delivery	*d;
	struct queue	**qs = NULL;
	size_t		 nq = 0, qcap = 0, i;

	for (i = ch->ua_len; i-- > 0;) {
		d = &ch->ua[(ch->ua_head + i) % ch->ua_cap];
		if (d->e.msg == NULL)
			continue;
		channel_qs_add(&qs, &nq, &qcap, d->q);
		channel_settle(ch, d, SETTLE_REQUEUE);
	}
	ch->ua_len = 0;
	ch->ua_head = 0;
	channel_qs_dispatch(qs, nq);
}

/* Credit came back: let the queues of this channel's consumers deliver. */
static void
channel_kick(struct channel *ch)
{
	struct consumer	*c, *tmp;

	HASH_ITER(hh, ch->consumers, c, tmp)
		queue_dispatch(c->q);
}

/* basic.deliver plus content to a consumer; takes the queue's reference. */
void
consumer_deliver(struct consumer *c, struct qentry *e)
{
	struct channel		*ch = c->ch;
	struct message		*m = e->msg;
	struct basic_deliver	 bd;

	if (QUEUE_PERSISTED(c->q, m))
		store_delivered(c->q, e->seq);
	if (c->no_ack) {
		bd.delivery_tag = ++ch->next_tag;
		queue_forget(c->q, m, e->seq);
	} else
		bd.delivery_tag = channel_ua_add(ch, e, c->q, c);
	shortstr_setn(&bd.consumer_tag, c->tag, c->taglen);
	bd.redelivered = e->redelivered != 0;
	shortstr_setn(&bd.exchange, MSG_EXCHANGE(m), m->exchange_len);
	shortstr_setn(&bd.routing_key, MSG_RK(m), m->routing_key_len);
	channel_send_entry(ch, c->q, e, AMQP_BASIC_DELIVER, &bd);
	if (c->no_ack)
		message_unref(&m);
}

/* Keep the headers, adding x-delivery-count (*arg). */
static void
channel_dcount_cb(const struct field_table *old, struct evbuffer *out,
    void *arg)
{
	table_copy_except(out, old, "x-delivery-count");
	table_add_int(out, "x-delivery-count", *(int64_t *)arg);
}

/*
 * The content of a delivered entry.  Queues with x-delivery-limit show
 * consumers how often a message was delivered before, as quorum queues do:
 * such redeliveries carry an x-delivery-count header.
 */
static void
channel_send_entry(struct channel *ch, struct queue *q, struct qentry *e,
    uint32_t id, const void *args)
{
	struct message	*n;
	int64_t		 count = e->dcount;

	if (q->delivery_limit < 0 || e->dcount == 0) {
		channel_send_message(ch, id, args, e->msg);
		return;
	}
	n = message_rewrite(e->msg, NULL, 0, NULL, 0, channel_dcount_cb,
	    &count, 0, NULL);
	channel_send_message(ch, id, args, n);
	message_unref(&n);
}

/* Queue the channel for one basic.ack covering this read batch. */
static void
channel_confirm_queue(struct channel *ch)
{
	if (!ch->confirm_queued) {
		TAILQ_INSERT_TAIL(&ch->conn->confirm_pending, ch,
		    confirm_entry);
		ch->confirm_queued = 1;
	}
}

/* Send basic.ack for every publish confirmed since the last flush. */
void
channel_flush_confirms(struct channel *ch)
{
	struct basic_ack	ba;

	if (ch->state != CH_OPEN || ch->ready <= ch->confirmed)
		return;
	ba.delivery_tag = ch->ready;
	ba.multiple = ch->ready - ch->confirmed > 1;
	ch->confirmed = ch->ready;
	connection_send(ch->conn, ch->id, AMQP_BASIC_ACK, &ba);
}

/* Send basic.nack for one publish, after the acks owed before it. */
static void
channel_send_nack(struct channel *ch, uint64_t seq)
{
	struct basic_nack	nack;

	channel_flush_confirms(ch);
	nack.delivery_tag = seq;
	nack.multiple = 0;
	nack.requeue = 0;
	ch->confirmed = ch->ready = seq;
	connection_send(ch->conn, ch->id, AMQP_BASIC_NACK, &nack);
}

/*
 * A reply that may wait for a store batch: an ack or nack for publish seq,
 * or tx.commit-ok.  Replies go out in order; one waiting for batch B goes
 * when B is committed, and those queued behind it wait with it.
 */
static void
channel_confirm_add(struct channel *ch, uint8_t kind, uint64_t seq,
    uint64_t batch)
{
	struct confirm_wait	*w, *ring;
	size_t			 i, cap;

	if (batch == 0 && ch->cw_len == 0) {
		switch (kind) {
		case CW_ACK:
			ch->ready = seq;
			channel_confirm_queue(ch);
			break;
		case CW_NACK:
			channel_send_nack(ch, seq);
			break;
		case CW_TXOK:
			connection_send(ch->conn, ch->id, AMQP_TX_COMMIT_OK,
			    NULL);
			break;
		}
		return;
	}
	if (ch->cw_len > 0) {
		w = &ch->cw[(ch->cw_head + ch->cw_len - 1) % ch->cw_cap];
		if (batch < w->batch)
			batch = w->batch;
		if (kind == CW_ACK && w->kind == CW_ACK && w->batch == batch) {
			w->seq = seq;
			return;
		}
	}
	if (ch->cw_len == ch->cw_cap) {
		cap = ch->cw_cap == 0 ? 8 : ch->cw_cap * 2;
		ring = xreallocarray(NULL, cap, sizeof *ring);
		for (i = 0; i < ch->cw_len; i++)
			ring[i] = ch->cw[(ch->cw_head + i) % ch->cw_cap];
		free(ch->cw);
		ch->cw = ring;
		ch->cw_cap = cap;
		ch->cw_head = 0;
	}
	w = &ch->cw[(ch->cw_head + ch->cw_len++) % ch->cw_cap];
	w->batch = batch;
	w->seq = seq;
	w->kind = kind;
	if (!ch->store_waiting) {
		TAILQ_INSERT_TAIL(&channel_store_waiters, ch, store_entry);
		ch->store_waiting = 1;
	}
}

/* Send the replies whose batches are committed. */
static void
channel_confirm_release(struct channel *ch, uint64_t committed)
{
	struct confirm_wait	*w;

	while (ch->cw_len > 0) {
		w = &ch->cw[ch->cw_head];
		if (w->batch > committed)
			break;
		switch (w->kind) {
		case CW_ACK:
			ch->ready = w->seq;
			break;
		case CW_NACK:
			channel_send_nack(ch, w->seq);
			break;
		case CW_TXOK:
			channel_flush_confirms(ch);
			connection_send(ch->conn, ch->id, AMQP_TX_COMMIT_OK,
			    NULL);
			break;
		}
		ch->cw_head = (ch->cw_head + 1) % ch->cw_cap;
		ch->cw_len--;
	}
	channel_flush_confirms(ch);
}

/* The store committed batches up to this id: release waiting replies. */
void
store_on_commit(uint64_t committed)
{
	struct channel	*ch, *tmp;

	TAILQ_FOREACH_SAFE(ch, &channel_store_waiters, store_entry, tmp) {
		channel_confirm_release(ch, committed);
		if (ch->cw_len == 0) {
			TAILQ_REMOVE(&channel_store_waiters, ch, store_entry);
			ch->store_waiting = 0;
		}
	}
	/* What was just committed may now be paged out. */
	connection_memory_check();
}

/*
 * Route a complete message and hand it to its queues.  Returns how many
 * queues refused it (full reject-publish queues).
 */
static int
channel_route(struct channel *ch, struct exchange *x, struct message *m,
    int mandatory, int *persisted)
{
	int			refused = 0, bcc;
	struct basic_return	br;
	struct message		*pm = m;
	size_t			i, keylen;
	uint64_t		delay;
	char			key[512];

	if (x->name[0] == '\0' && m->routing_key_len >
	    sizeof REPLY_TO_PREFIX - 1 && memcmp(MSG_RK(m),
	    REPLY_TO_PREFIX, sizeof REPLY_TO_PREFIX - 1) == 0 &&
	    channel_reply_deliver(m)) {
		if (persisted != NULL)
			*persisted = 0;
		return (0);
	}
	if (persisted != NULL)
		*persisted = 0;
	if (x->kind == XKIND_DELAYED && (delay = delayed_delay(m)) != 0) {
		/* Routed when due; never returned (it is not unroutable). */
		delayed_add(x, m, delay);
		return (0);
	}
	if (x->kind == XKIND_DEDUP && dedup_key(m, key, sizeof key, &keylen)
	    && dedup_seen(x->dedup, key, keylen, channel_cache_ttl(m)))
		channel_rr.n = 0;	/* a repeat: confirmed, not routed */
	else
		exchange_route(x, MSG_RK(m), m->routing_key_len,
		    MSG_HDRS(m), &channel_rr);
	/* Sender-selected distribution: CC and BCC name more keys. */
	if (m->hdr_len > 0 && x->kind != XKIND_DEDUP) {
		channel_route_cc(x, m, "CC");
		if ((bcc = channel_route_cc(x, m, "BCC")))
			pm = message_rewrite(m, NULL, 0, NULL, 0,
			    channel_drop_bcc_cb, NULL, 0, NULL);
	}
	if (channel_rr.n == 0 && mandatory) {
		br.reply_code = AMQP_NO_ROUTE;
		wire_shortstr_set(&br.reply_text, "NO_ROUTE");
		shortstr_setn(&br.exchange, MSG_EXCHANGE(m), m->exchange_len);
		shortstr_setn(&br.routing_key, MSG_RK(m),
		    m->routing_key_len);
		channel_send_message(ch, AMQP_BASIC_RETURN, &br, pm);
	}
	for (i = 0; i < channel_rr.n; i++)
		if (queue_push(channel_rr.q[i], pm) != 0)
			refused++;
	if (persisted != NULL)
		*persisted = pm->store_id != 0;
	if (pm != m)
		message_unref(&pm);
	return (refused);
}

/* A message's own x-cache-ttl header (dedup exchanges), or -1. */
static int64_t
channel_cache_ttl(const struct message *m)
{
	struct field_value	v;
	int64_t			n;

	if (table_find(MSG_HDRS(m), "x-cache-ttl", &v) &&
	    field_value_int(&v, &n) == 0 && n > 0)
		return (n);
	return (-1);
}

/* Route m again for each key of its CC or BCC header; 1 if present. */
static int
channel_route_cc(struct exchange *x, const struct message *m,
    const char *name)
{
	struct field_value	v, k;
	struct table_iter	it;

	if (!table_find(MSG_HDRS(m), name, &v))
		return (0);
	if (v.type == 'S')
		exchange_route_more(x, (const char *)v.v.s.p, v.v.s.len,
		    MSG_HDRS(m), &channel_rr);
	else if (v.type == 'A') {
		table_iter_init(&it, &v.v.t);
		while (array_next(&it, &k))
			if (k.type == 'S')
				exchange_route_more(x, (const char *)k.v.s.p,
				    k.v.s.len, MSG_HDRS(m), &channel_rr);
	}
	return (1);
}

/* Keep every header but BCC (0-9-1 extension: BCC is not delivered). */
static void
channel_drop_bcc_cb(const struct field_table *old, struct evbuffer *out,
    void *arg)
{
	table_copy_except(out, old, "BCC");
}

/* The whole message is in: check the exchange, then route or hold (tx). */
static int
channel_publish_done(struct channel *ch)
{
	struct connection	*c = ch->conn;
	struct message		*m = ch->msg;
	struct exchange		*x;
	struct message		*n;
	char			 name[64];
	uint64_t		 batch;
	int			 rc = 0, refused, persisted;

	ch->msg = NULL;
	if (ch->pub.immediate) {
		rc = channel_error(ch, AMQP_NOT_IMPLEMENTED, "immediate=true");
		goto out;
	}
	if ((x = vhost_exchange_find(c->vhost, ch->pub.exchange.s)) == NULL) {
		rc = channel_error(ch, AMQP_NOT_FOUND,
		    "no exchange '%s' in vhost '%s'", ch->pub.exchange.s,
		    c->vhost->name);
		goto out;
	}
	if (x->internal) {
		rc = channel_error(ch, AMQP_ACCESS_REFUSED,
		    "cannot publish to internal exchange '%s' in vhost '%s'",
		    x->name, c->vhost->name);
		goto out;
	}
	if (ch->tx) {
		if (ch->ntxops == ch->txcap) {
			ch->txcap = ch->txcap == 0 ? 16 : ch->txcap * 2;
			ch->txops = xreallocarray(ch->txops, ch->txcap,
			    sizeof *ch->txops);
		}
		memset(&ch->txops[ch->ntxops], 0, sizeof *ch->txops);
		ch->txops[ch->ntxops].method = AMQP_BASIC_PUBLISH;
		ch->txops[ch->ntxops].msg = message_ref(m);
		ch->txops[ch->ntxops].mandatory = ch->pub.mandatory;
		ch->ntxops++;
		goto out;
	}
	batch = store_batch();
	if (ch->pub_fast_reply) {
		/* Direct reply-to: replies name this channel's consumer. */
		snprintf(name, sizeof name, "%s%s", REPLY_TO_PREFIX,
		    ch->reply_key);
		n = message_rewrite(m, NULL, 0, NULL, 0, NULL, NULL, 0, name);
		message_unref(&m);
		m = n;
		ch->pub_fast_reply = 0;
	}
	refused = channel_route(ch, x, m, ch->pub.mandatory, &persisted);
	if (ch->confirm) {
		/*
		 * Confirm once the store has committed what this publish
		 * wrote (persistent messages in durable queues), or at once.
		 */
		if (!persisted)
			batch = 0;
		channel_confirm_add(ch, refused ? CW_NACK : CW_ACK,
		    ++ch->pub_seq, batch);
	}
out:
	message_unref(&m);
	return (rc);
}

/* CC and BCC headers must be arrays (of routing keys), as RabbitMQ says. */
static int
channel_cc_check(struct channel *ch, const struct field_table *h)
{
	static const char	*names[] = { "CC", "BCC" };
	struct field_value	 v;
	size_t			 i;

	for (i = 0; i < 2; i++) {
		if (table_find(h, names[i], &v) && v.type != 'A')
			return (channel_error(ch, AMQP_PRECONDITION_FAILED,
			    "invalid message: {unacceptable_type_in_header,"
			    "\"%s\",%s}", names[i], args_type_name(v.type)));
	}
	return (0);
}

/* The expiration property must be a non-negative integer (RabbitMQ). */
static int
channel_expiration_check(struct channel *ch, const struct shortstr *e)
{
	size_t		i = 0, digits;
	int		neg = 0;
	long long	n = 0;

	/* As Erlang's string:to_integer/1: a sign, digits, nothing else. */
	if (i < e->len && (e->s[i] == '+' || e->s[i] == '-'))
		neg = e->s[i++] == '-';
	for (digits = i; i < e->len && e->s[i] >= '0' && e->s[i] <= '9'; i++)
		if (n <= 1000000000000000LL)
			n = n * 10 + (e->s[i] - '0');
	if (i == digits)
		return (channel_error(ch, AMQP_PRECONDITION_FAILED,
		    "invalid expiration '%s': no_integer", e->s));
	if (i != e->len)
		return (channel_error(ch, AMQP_PRECONDITION_FAILED,
		    "invalid expiration '%s': {leftover_string,\"%s\"}", e->s,
		    e->s + i));
	if (neg && n != 0)
		return (channel_error(ch, AMQP_PRECONDITION_FAILED,
		    "invalid expiration '%s': {value_negative,-%lld}", e->s,
		    n));
	if (n > ARGS_MAX_TTL)
		return (channel_error(ch, AMQP_PRECONDITION_FAILED,
		    "invalid expiration '%s': {value_too_large,%lld}", e->s,
		    n));
	return (0);
}

/* A content header or body frame. */
int
channel_content(struct channel *ch, const struct frame *f,
    const struct content_header *h)
{
	struct basic_props	 props;
	struct message		*m;
	int			 rc;

	if (h != NULL) {
		/* No properties at all (the common case): nothing to decode. */
		if (h->props_len == 2 && h->props[0] == 0 && h->props[1] == 0)
			props.flags = 0;
		else if (props_decode(h->props, h->props_len, &props) != 0) {
			/*
			 * Warren differs: RabbitMQ 3.10 fails later, inside
			 * the channel, with 541 INTERNAL_ERROR.
			 */
			ch->conn->err_no_method = 1;
			return (channel_error(ch, AMQP_FRAME_ERROR,
			    "malformed basic properties in content header"));
		}
		if ((props.flags & AMQP_BASIC_DELIVERY_MODE_FLAG) &&
		    props.delivery_mode != 1 && props.delivery_mode != 2)
			return (channel_error(ch, AMQP_PRECONDITION_FAILED,
			    "invalid message: {delivery_mode_unknown,%u}",
			    props.delivery_mode));
		if ((props.flags & AMQP_BASIC_USER_ID_FLAG) &&
		    strcmp(props.user_id.s, ch->conn->user) != 0)
			return (channel_error(ch, AMQP_PRECONDITION_FAILED,
			    "user_id property set to '%s' but authenticated "
			    "user was '%s'", props.user_id.s, ch->conn->user));
		if ((props.flags & AMQP_BASIC_HEADERS_FLAG) &&
		    (rc = channel_cc_check(ch, &props.headers)) != 0)
			return (rc);
		if ((props.flags & AMQP_BASIC_REPLY_TO_FLAG) &&
		    strcmp(props.reply_to.s, REPLY_TO_QUEUE) == 0) {
			if (ch->reply_tag == NULL)
				return (channel_error(ch,
				    AMQP_PRECONDITION_FAILED,
				    "fast reply consumer does not exist"));
			ch->pub_fast_reply = 1;
		}
		if ((props.flags & AMQP_BASIC_EXPIRATION_FLAG) &&
		    (rc = channel_expiration_check(ch, &props.expiration)) !=
		    0)
			return (rc);
		if (h->body_size > (uint64_t)config.max_message_size)
			return (channel_error(ch, AMQP_PRECONDITION_FAILED,
			    "message size %llu is larger than configured max "
			    "size %lld", (unsigned long long)h->body_size,
			    (long long)config.max_message_size));
		m = message_new(ch->pub.exchange.s, ch->pub.exchange.len,
		    ch->pub.routing_key.s, ch->pub.routing_key.len, h->props,
		    h->props_len, h->body_size);
		if (props.flags & AMQP_BASIC_DELIVERY_MODE_FLAG)
			m->delivery_mode = props.delivery_mode;
		if (props.flags & AMQP_BASIC_PRIORITY_FLAG)
			m->priority = props.priority;
		if (props.flags & AMQP_BASIC_HEADERS_FLAG) {
			m->hdr_off = (uint32_t)(props.headers.p - h->props);
			m->hdr_len = props.headers.len;
		}
		if (props.flags & AMQP_BASIC_EXPIRATION_FLAG)
			m->has_expiration = 1;
		ch->msg = m;
		if (h->body_size == 0)
			return (channel_publish_done(ch));
		return (0);
	}
	if ((m = ch->msg) == NULL)
		return (0);
	/*
	 * The connection has counted this frame in ch->body_received; a
	 * large one it has read straight into the message (payload NULL).
	 */
	if (f->payload != NULL)
		memcpy(MSG_BODY(m) + (ch->body_received - f->size),
		    f->payload, f->size);
	if (ch->body_received == m->body_size)
		return (channel_publish_done(ch));
	return (0);
}

/*
 * basic.consume from amq.rabbitmq.reply-to: no queue, a name for this
 * channel that requests carry in reply_to.
 */
static int
channel_reply_consume(struct channel *ch, struct basic_consume *a)
{
	struct basic_consume_ok	ok;

	if (!a->no_ack)
		return (channel_error(ch, AMQP_PRECONDITION_FAILED,
		    "reply consumer cannot acknowledge"));
	if (ch->reply_tag != NULL)
		return (channel_error(ch, AMQP_PRECONDITION_FAILED,
		    "reply consumer already set"));
	if (a->consumer_tag.len == 0) {
		memcpy(a->consumer_tag.s, "amq.ctag-", 9);
		broker_random_name(a->consumer_tag.s + 9, 22);
		a->consumer_tag.len = 31;
	}
	ch->reply_tag = xstrdup(a->consumer_tag.s);
	broker_random_name(ch->reply_key, 24);
	HASH_ADD(hh_reply, channel_replies, reply_key, strlen(ch->reply_key),
	    ch);
	if (!a->nowait) {
		ok.consumer_tag = a->consumer_tag;
		connection_send(ch->conn, ch->id, AMQP_BASIC_CONSUME_OK, &ok);
	}
	return (0);
}

/* The direct reply-to consumer goes (cancel, channel close). */
static void
channel_reply_cancel(struct channel *ch)
{
	if (ch->reply_tag == NULL)
		return;
	HASH_DELETE(hh_reply, channel_replies, ch);
	free(ch->reply_tag);
	ch->reply_tag = NULL;
}

/* The channel whose reply name this is, or NULL. */
static struct channel *
channel_reply_find(const char *name, size_t len)
{
	struct channel	*ch;
	size_t		 pl = sizeof REPLY_TO_PREFIX - 1;

	if (len <= pl || memcmp(name, REPLY_TO_PREFIX, pl) != 0)
		return (NULL);
	HASH_FIND(hh_reply, channel_replies, name + pl, len - pl, ch);
	return (ch);
}

/* Is this the name of a live direct reply-to consumer? */
int
channel_reply_name_live(const char *name)
{
	return (channel_reply_find(name, strlen(name)) != NULL);
}

/*
 * A reply published to amq.rabbitmq.reply-to.<token> through the default
 * exchange goes straight to that channel's consumer.  0 when nobody has
 * that name (unroutable).
 */
static int
channel_reply_deliver(struct message *m)
{
	struct channel		*ch;
	struct basic_deliver	 bd;

	ch = channel_reply_find(MSG_RK(m), m->routing_key_len);
	if (ch == NULL || ch->state != CH_OPEN)
		return (0);
	wire_shortstr_set(&bd.consumer_tag, ch->reply_tag);
	/* RabbitMQ 3.10: the channel's next tag, not used up. */
	bd.delivery_tag = ch->next_tag + 1;
	bd.redelivered = 0;
	shortstr_setn(&bd.exchange, MSG_EXCHANGE(m), m->exchange_len);
	shortstr_setn(&bd.routing_key, MSG_RK(m), m->routing_key_len);
	channel_send_message(ch, AMQP_BASIC_DELIVER, &bd, m);
	return (1);
}

/* Is q usable by this channel's connection (exclusive queues)? */
static int
channel_queue_owned(struct channel *ch, struct queue *q)
{
	if (q->exclusive && q->owner != ch->conn)
		return (channel_error(ch, AMQP_RESOURCE_LOCKED,
		    "cannot obtain exclusive access to locked queue '%s' in "
		    "vhost '%s'. It could be originally declared on another "
		    "connection or the exclusive property value does not "
		    "match that of the original declaration.", q->name,
		    q->vhost->name));
	return (0);
}

/* An empty queue name means the last queue declared on this channel. */
static int
channel_queue_name(struct channel *ch, struct shortstr *name)
{
	if (name->len != 0)
		return (0);
	if (ch->last_queue.len == 0)
		return (channel_error(ch, AMQP_NOT_FOUND,
		    "no previously declared queue"));
	*name = ch->last_queue;
	return (0);
}

/* Find a queue for a method, with RabbitMQ's 404 and 405. */
static int
channel_queue_get(struct channel *ch, struct shortstr *name,
    struct queue **qp)
{
	struct vhost	*v = ch->conn->vhost;
	int		 rc;

	if ((rc = channel_queue_name(ch, name)) != 0)
		return (rc);
	if ((*qp = vhost_queue_find(v, name->s)) == NULL)
		return (channel_error(ch, AMQP_NOT_FOUND,
		    "no queue '%s' in vhost '%s'", name->s, v->name));
	return (channel_queue_owned(ch, *qp));
}

/* Find an exchange for a method, with RabbitMQ's 404. */
static int
channel_exchange_get(struct channel *ch, const char *name,
    struct exchange **xp)
{
	struct vhost	*v = ch->conn->vhost;

	if ((*xp = vhost_exchange_find(v, name)) == NULL)
		return (channel_error(ch, AMQP_NOT_FOUND,
		    "no exchange '%s' in vhost '%s'", name, v->name));
	return (0);
}

/* "true" or "false", as RabbitMQ prints booleans in 406 texts. */
static const char *
tf(int b)
{
	return (b ? "true" : "false");
}

/* exchange.declare */
static int
channel_exchange_declare(struct channel *ch, struct exchange_declare *a)
{
	struct vhost			*v = ch->conn->vhost;
	const struct exchange_type	*type = NULL;
	struct exchange			*x;
	const char			*name = a->exchange.s;
	const char			*what = NULL, *got = NULL, *cur = NULL;
	enum exchange_kind		 kind;
	char				 why[700];
	int				 rc;

	if (a->exchange.len == 0)
		return (channel_error(ch, AMQP_ACCESS_REFUSED,
		    "operation not permitted on the default exchange"));
	if (!a->passive && (rc = exchange_resolve(a->type.s, &a->arguments,
	    &type, &kind, why, sizeof why)) != 0)
		return (channel_error(ch, rc, "%s", why));
	x = vhost_exchange_find(v, name);
	if (a->passive) {
		if (x == NULL)
			return (channel_error(ch, AMQP_NOT_FOUND,
			    "no exchange '%s' in vhost '%s'", name, v->name));
	} else if (x != NULL) {
		if (strcmp(a->type.s, exchange_type_name(x)) != 0) {
			what = "type";
			got = a->type.s;
			cur = exchange_type_name(x);
		} else if (a->durable != x->durable) {
			what = "durable";
			got = tf(a->durable);
			cur = tf(x->durable);
		} else if (a->auto_delete != x->auto_delete) {
			what = "auto_delete";
			got = tf(a->auto_delete);
			cur = tf(x->auto_delete);
		} else if (a->internal != x->internal) {
			what = "internal";
			got = tf(a->internal);
			cur = tf(x->internal);
		}
		if (what != NULL)
			return (channel_error(ch, AMQP_PRECONDITION_FAILED,
			    "inequivalent arg '%s' for exchange '%s' in vhost "
			    "'%s': received '%s' but current is '%s'", what,
			    name, v->name, got, cur));
		if (args_equivalent(&x->args, &a->arguments,
		    args_exchange_keys, &what, why, sizeof why) != 0)
			return (channel_error(ch, AMQP_PRECONDITION_FAILED,
			    "inequivalent arg '%s' for exchange '%s' in vhost "
			    "'%s': %s", what, name, v->name, why));
	} else {
		if (strncmp(name, "amq.", 4) == 0)
			return (channel_error(ch, AMQP_ACCESS_REFUSED,
			    "exchange name '%s' contains reserved prefix "
			    "'amq.*'", name));
		x = exchange_new(v, name, type, a->durable, a->auto_delete,
		    a->internal, &a->arguments);
		exchange_set_kind(x, kind);
		store_exchange_put(x);
	}
	if (!a->nowait)
		connection_send(ch->conn, ch->id, AMQP_EXCHANGE_DECLARE_OK,
		    NULL);
	return (0);
}

/* exchange.delete */
static int
channel_exchange_delete(struct channel *ch, struct exchange_delete *a)
{
	struct vhost	*v = ch->conn->vhost;
	struct exchange	*x;

	if (a->exchange.len == 0)
		return (channel_error(ch, AMQP_ACCESS_REFUSED,
		    "operation not permitted on the default exchange"));
	if (strncmp(a->exchange.s, "amq.", 4) == 0)
		return (channel_error(ch, AMQP_ACCESS_REFUSED,
		    "deletion of system exchange '%s' in vhost '%s' not "
		    "allowed", a->exchange.s, v->name));
	if ((x = vhost_exchange_find(v, a->exchange.s)) != NULL) {
		if (a->if_unused && x->nbindings > 0)
			return (channel_error(ch, AMQP_PRECONDITION_FAILED,
			    "exchange '%s' in vhost '%s' in use", x->name,
			    v->name));
		exchange_free(x);
	}
	if (!a->nowait)
		connection_send(ch->conn, ch->id, AMQP_EXCHANGE_DELETE_OK,
		    NULL);
	return (0);
}

/* exchange.bind and exchange.unbind */
static int
channel_exchange_bind(struct channel *ch, struct exchange_bind *a, int bind)
{
	struct exchange	*src, *dst;
	char		 cause[256];
	int		 rc;

	if (a->destination.len == 0 || a->source.len == 0)
		return (channel_error(ch, AMQP_ACCESS_REFUSED,
		    "operation not permitted on the default exchange"));
	if (!bind && (vhost_exchange_find(ch->conn->vhost, a->source.s) ==
	    NULL || vhost_exchange_find(ch->conn->vhost, a->destination.s) ==
	    NULL))
		goto done;	/* RabbitMQ: unbinding what is not there is ok */
	if ((rc = channel_exchange_get(ch, a->source.s, &src)) != 0 ||
	    (rc = channel_exchange_get(ch, a->destination.s, &dst)) != 0)
		return (rc);
	if (bind) {
		if (src->type->validate != NULL && (rc =
		    src->type->validate(&a->arguments, cause, sizeof cause))
		    != 0)
			return (channel_error(ch, rc, "%s", cause));
		exchange_bind(src, NULL, dst, a->routing_key.s,
		    a->routing_key.len, &a->arguments);
	} else
		exchange_unbind(src, NULL, dst, a->routing_key.s,
		    a->routing_key.len, &a->arguments);
done:
	if (!a->nowait)
		connection_send(ch->conn, ch->id, bind ?
		    AMQP_EXCHANGE_BIND_OK : AMQP_EXCHANGE_UNBIND_OK, NULL);
	return (0);
}

/* queue.declare */
static int
channel_queue_declare(struct channel *ch, struct queue_declare *a)
{
	struct connection	*c = ch->conn;
	struct vhost		*v = c->vhost;
	struct queue		*q;
	struct queue_declare_ok	 ok;
	struct field_value	 fv;
	const char		*what = NULL;
	int			 got = 0, cur = 0, rc;
	char			 gen[64], why[700];

	if (strcmp(a->queue.s, REPLY_TO_QUEUE) == 0 || (a->passive &&
	    channel_reply_name_live(a->queue.s))) {
		/* The pseudo-queue of direct reply-to: nothing to create. */
		if (!a->nowait) {
			ok.queue = a->queue;
			ok.message_count = 0;
			ok.consumer_count = 1;
			connection_send(c, ch->id, AMQP_QUEUE_DECLARE_OK, &ok);
		}
		return (0);
	}
	/* RabbitMQ checks these properties of quorum and stream queues first. */
	if (!a->passive && table_find(&a->arguments, "x-queue-type", &fv) &&
	    fv.type == 'S' && ((fv.v.s.len == 6 &&
	    memcmp(fv.v.s.p, "quorum", 6) == 0) || (fv.v.s.len == 6 &&
	    memcmp(fv.v.s.p, "stream", 6) == 0)) && (!a->durable ||
	    a->exclusive || a->auto_delete))
		return (channel_error(ch, AMQP_PRECONDITION_FAILED,
		    "invalid property '%s' for queue '%s' in vhost '%s'",
		    !a->durable ? "non-durable" : a->exclusive ?
		    "exclusive-owner" : "auto-delete", a->queue.s, v->name));
	if (!a->passive && args_queue_validate(&a->arguments, a->queue.s,
	    v->name, why, sizeof why) != 0)
		return (channel_error(ch, AMQP_PRECONDITION_FAILED, "%s", why));
	what = NULL;
	/* As RabbitMQ: an exclusive queue is never durable. */
	if (a->exclusive)
		a->durable = 0;
	if (a->queue.len == 0 && !a->passive) {
		memcpy(gen, "amq.gen-", 8);
		broker_random_name(gen + 8, 22);
		shortstr_setn(&a->queue, gen, strlen(gen));
	} else if (!a->passive && strncmp(a->queue.s, "amq.", 4) == 0)
		return (channel_error(ch, AMQP_ACCESS_REFUSED,
		    "queue name '%s' contains reserved prefix 'amq.*'",
		    a->queue.s));
	q = vhost_queue_find(v, a->queue.s);
	if (a->passive) {
		if (q == NULL)
			return (channel_error(ch, AMQP_NOT_FOUND,
			    "no queue '%s' in vhost '%s'", a->queue.s,
			    v->name));
		if ((rc = channel_queue_owned(ch, q)) != 0)
			return (rc);
	} else if (q != NULL) {
		if ((rc = channel_queue_owned(ch, q)) != 0)
			return (rc);
		if (a->exclusive != q->exclusive)
			return (channel_error(ch, AMQP_RESOURCE_LOCKED,
			    "cannot obtain exclusive access to locked queue "
			    "'%s' in vhost '%s'. It could be originally "
			    "declared on another connection or the exclusive "
			    "property value does not match that of the "
			    "original declaration.", q->name, v->name));
		if (a->durable != q->durable) {
			what = "durable";
			got = a->durable;
			cur = q->durable;
		} else if (a->auto_delete != q->auto_delete) {
			what = "auto_delete";
			got = a->auto_delete;
			cur = q->auto_delete;
		}
		if (what != NULL)
			return (channel_error(ch, AMQP_PRECONDITION_FAILED,
			    "inequivalent arg '%s' for queue '%s' in vhost "
			    "'%s': received '%s' but current is '%s'", what,
			    q->name, v->name, tf(got), tf(cur)));
		if (args_equivalent(&q->args, &a->arguments, args_queue_keys,
		    &what, why, sizeof why) != 0)
			return (channel_error(ch, AMQP_PRECONDITION_FAILED,
			    "inequivalent arg '%s' for queue '%s' in vhost "
			    "'%s': %s", what, q->name, v->name, why));
	} else {
		q = queue_new(v, a->queue.s, a->durable, a->exclusive,
		    a->auto_delete, c, &a->arguments);
		store_queue_put(q);
		if (q->exclusive)
			TAILQ_INSERT_TAIL(&c->exclusive, q, owner_entry);
	}
	ch->last_queue = a->queue;
	queue_touch(q);
	if (!a->nowait) {
		ok.queue = a->queue;
		ok.message_count = (uint32_t)q->count;
		ok.consumer_count = q->nconsumers;
		connection_send(c, ch->id, AMQP_QUEUE_DECLARE_OK, &ok);
	}
	return (0);
}

/* queue.bind and queue.unbind */
static int
channel_queue_bind(struct channel *ch, struct shortstr *qname,
    struct shortstr *xname, struct shortstr *key,
    const struct field_table *args, int bind, int nowait)
{
	struct exchange	*x;
	struct queue	*q;
	char		 cause[256];
	int		 rc;

	if (xname->len == 0)
		return (channel_error(ch, AMQP_ACCESS_REFUSED,
		    "operation not permitted on the default exchange"));
	if (qname->len == 0 && key->len == 0 && ch->last_queue.len != 0)
		*key = ch->last_queue;
	if (!bind && (vhost_exchange_find(ch->conn->vhost, xname->s) == NULL ||
	    (qname->len != 0 &&
	    vhost_queue_find(ch->conn->vhost, qname->s) == NULL)))
		goto done;	/* RabbitMQ: unbinding what is not there is ok */
	if ((rc = channel_exchange_get(ch, xname->s, &x)) != 0 ||
	    (rc = channel_queue_get(ch, qname, &q)) != 0)
		return (rc);
	if (bind) {
		if (x->type->validate != NULL && (rc =
		    x->type->validate(args, cause, sizeof cause)) != 0)
			return (channel_error(ch, rc, "%s", cause));
		exchange_bind(x, q, NULL, key->s, key->len, args);
	} else
		exchange_unbind(x, q, NULL, key->s, key->len, args);
done:
	if (!nowait)
		connection_send(ch->conn, ch->id, bind ? AMQP_QUEUE_BIND_OK :
		    AMQP_QUEUE_UNBIND_OK, NULL);
	return (0);
}

/* queue.purge */
static int
channel_queue_purge(struct channel *ch, struct queue_purge *a)
{
	struct queue_purge_ok	 ok;
	struct queue		*q;
	int			 rc;

	if ((rc = channel_queue_get(ch, &a->queue, &q)) != 0)
		return (rc);
	ok.message_count = queue_purge(q);
	if (!a->nowait)
		connection_send(ch->conn, ch->id, AMQP_QUEUE_PURGE_OK, &ok);
	return (0);
}

/* queue.delete */
static int
channel_queue_delete(struct channel *ch, struct queue_delete *a)
{
	struct vhost		*v = ch->conn->vhost;
	struct queue_purge_ok	 ok;
	struct queue		*q;
	int			 rc;

	ok.message_count = 0;
	if ((rc = channel_queue_name(ch, &a->queue)) != 0)
		return (rc);
	if ((q = vhost_queue_find(v, a->queue.s)) != NULL) {
		if ((rc = channel_queue_owned(ch, q)) != 0)
			return (rc);
		if (a->if_unused && q->nconsumers > 0)
			return (channel_error(ch, AMQP_PRECONDITION_FAILED,
			    "queue '%s' in vhost '%s' in use", q->name,
			    v->name));
		if (a->if_empty && q->count > 0)
			return (channel_error(ch, AMQP_PRECONDITION_FAILED,
			    "queue '%s' in vhost '%s' not empty", q->name,
			    v->name));
		ok.message_count = queue_delete(q);
	}
	if (!a->nowait)
		connection_send(ch->conn, ch->id, AMQP_QUEUE_DELETE_OK, &ok);
	return (0);
}

/* basic.qos: prefetch per consumer (global false) or per channel. */
static int
channel_basic_qos(struct channel *ch, struct basic_qos *a)
{
	if (a->prefetch_size != 0)
		return (channel_error(ch, AMQP_NOT_IMPLEMENTED,
		    "prefetch_size!=0 (%u)", a->prefetch_size));
	if (a->global)
		ch->prefetch_global = a->prefetch_count;
	else {
		/* RabbitMQ 3.10: a per-consumer limit drops the global one. */
		ch->prefetch = a->prefetch_count;
		ch->prefetch_global = 0;
	}
	connection_send(ch->conn, ch->id, AMQP_BASIC_QOS_OK, NULL);
	channel_kick(ch);
	return (0);
}

/* basic.consume */
static int
channel_basic_consume(struct channel *ch, struct basic_consume *a)
{
	struct vhost		*v = ch->conn->vhost;
	struct consumer		*c, *o;
	struct queue		*q;
	struct basic_consume_ok	 ok;
	struct field_value	 fv;
	int64_t			 prio;
	int			 rc;

	if (strcmp(a->queue.s, REPLY_TO_QUEUE) == 0)
		return (channel_reply_consume(ch, a));
	if ((rc = channel_queue_get(ch, &a->queue, &q)) != 0)
		return (rc);
	o = TAILQ_FIRST(&q->consumers);
	if ((o != NULL && o->exclusive) || (a->exclusive && o != NULL))
		return (channel_error(ch, AMQP_ACCESS_REFUSED,
		    "queue '%s' in vhost '%s' in exclusive use", q->name,
		    v->name));
	if (table_find(&a->arguments, "x-priority", &fv) &&
	    (fv.type == 't' || field_value_int(&fv, &prio) != 0))
		return (channel_error(ch, AMQP_PRECONDITION_FAILED,
		    "invalid arg 'x-priority' for queue '%s' in vhost '%s': "
		    "\"expected integer, got %s\"", q->name, v->name,
		    args_type_name(fv.type)));
	if (a->consumer_tag.len == 0) {
		memcpy(a->consumer_tag.s, "amq.ctag-", 9);
		broker_random_name(a->consumer_tag.s + 9, 22);
		a->consumer_tag.len = 31;
	} else {
		HASH_FIND(hh, ch->consumers, a->consumer_tag.s,
		    a->consumer_tag.len, o);
		if (o != NULL)
			return (channel_error(ch, AMQP_NOT_ALLOWED,
			    "attempt to reuse consumer tag '%s'",
			    a->consumer_tag.s));
	}
	c = xcalloc(1, sizeof *c);
	c->ch = ch;
	memcpy(c->tag, a->consumer_tag.s, a->consumer_tag.len + 1);
	c->taglen = a->consumer_tag.len;
	c->no_ack = a->no_ack;
	c->exclusive = a->exclusive;
	c->prefetch = ch->prefetch;
	if (table_find(&a->arguments, "x-priority", &fv))
		c->priority = (int32_t)prio;
	HASH_ADD(hh, ch->consumers, tag, c->taglen, c);
	ch->nconsumers++;
	queue_consumer_add(q, c);
	if (!a->nowait) {
		ok.consumer_tag = a->consumer_tag;
		connection_send(ch->conn, ch->id, AMQP_BASIC_CONSUME_OK, &ok);
	}
	queue_dispatch(q);
	return (0);
}

/* basic.cancel: an unknown tag is not an error (RabbitMQ). */
static int
channel_basic_cancel(struct channel *ch, struct basic_cancel *a)
{
	struct consumer		*c;
	struct basic_consume_ok	 ok;

	HASH_FIND(hh, ch->consumers, a->consumer_tag.s, a->consumer_tag.len,
	    c);
	if (c != NULL)
		channel_consumer_free(ch, c);
	else if (ch->reply_tag != NULL &&
	    strcmp(ch->reply_tag, a->consumer_tag.s) == 0)
		channel_reply_cancel(ch);
	if (!a->nowait) {
		ok.consumer_tag = a->consumer_tag;
		connection_send(ch->conn, ch->id, AMQP_BASIC_CANCEL_OK, &ok);
	}
	return (0);
}

/* basic.get */
static int
channel_basic_get(struct channel *ch, struct basic_get *a)
{
	struct basic_get_ok	 ok;
	struct basic_get_empty	 empty;
	struct queue		*q;
	struct qentry		 e;
	int			 rc;

	if ((rc = channel_queue_get(ch, &a->queue, &q)) != 0)
		return (rc);
	queue_touch(q);
	if (!queue_take(q, &e)) {
		memset(&empty, 0, sizeof empty);
		connection_send(ch->conn, ch->id, AMQP_BASIC_GET_EMPTY,
		    &empty);
		return (0);
	}
	if (QUEUE_PERSISTED(q, e.msg))
		store_delivered(q, e.seq);
	if (a->no_ack) {
		ok.delivery_tag = ++ch->next_tag;
		queue_forget(q, e.msg, e.seq);
	} else {
		q->unacked++;
		ok.delivery_tag = channel_ua_add(ch, &e, q, NULL);
	}
	ok.redelivered = e.redelivered;
	shortstr_setn(&ok.exchange, MSG_EXCHANGE(e.msg), e.msg->exchange_len);
	shortstr_setn(&ok.routing_key, MSG_RK(e.msg),
	    e.msg->routing_key_len);
	ok.message_count = (uint32_t)q->count;
	channel_send_entry(ch, q, &e, AMQP_BASIC_GET_OK, &ok);
	if (a->no_ack)
		message_unref(&e.msg);
	return (0);
}

/* Hold an ack, nack or reject until tx.commit. */
static int
channel_tx_hold(struct channel *ch, uint32_t method, uint64_t tag,
    int multiple, int requeue)
{
	struct tx_op	*op;

	if (!(multiple && tag == 0) && channel_ua_find(ch, tag) == NULL)
		return (channel_error(ch, AMQP_PRECONDITION_FAILED,
		    "unknown delivery tag %llu", (unsigned long long)tag));
	if (ch->ntxops == ch->txcap) {
		ch->txcap = ch->txcap == 0 ? 16 : ch->txcap * 2;
		ch->txops = xreallocarray(ch->txops, ch->txcap,
		    sizeof *ch->txops);
	}
	op = &ch->txops[ch->ntxops++];
	memset(op, 0, sizeof *op);
	op->method = method;
	op->tag = tag;
	op->multiple = multiple;
	op->requeue = requeue;
	return (0);
}

/* tx.commit: publish and settle what was held, in order. */
static int
channel_tx_commit(struct channel *ch)
{
	struct exchange	*x;
	struct tx_op	*op;
	size_t		 i;

	for (i = 0; i < ch->ntxops; i++) {
		op = &ch->txops[i];
		if (op->method == AMQP_BASIC_PUBLISH) {
			x = vhost_exchange_find(ch->conn->vhost,
			    MSG_EXCHANGE(op->msg));
			if (x != NULL)
				channel_route(ch, x, op->msg, op->mandatory,
				    NULL);
			message_unref(&op->msg);
		} else if (op->multiple || channel_ua_find(ch, op->tag) != NULL)
			channel_ack(ch, op->tag, op->multiple, op->requeue,
			    op->method == AMQP_BASIC_ACK);
	}
	ch->ntxops = 0;
	/* commit-ok once the store has what the commit wrote. */
	channel_confirm_add(ch, CW_TXOK, 0, store_batch_used() ?
	    store_batch() : 0);
	return (0);
}

/* tx.rollback: forget what was held. */
static int
channel_tx_rollback(struct channel *ch)
{
	size_t	i;

	for (i = 0; i < ch->ntxops; i++)
		message_unref(&ch->txops[i].msg);
	ch->ntxops = 0;
	connection_send(ch->conn, ch->id, AMQP_TX_ROLLBACK_OK, NULL);
	return (0);
}

/* Dispatch one method on an open channel. */
int
channel_method(struct channel *ch, uint32_t id, union method_args *a)
{
	struct channel_flow	fl;

	switch (id) {
	case AMQP_CHANNEL_FLOW:
		/* RabbitMQ stopped supporting client flow control in 3.3. */
		if (!a->channel_flow.active)
			return (channel_error(ch, AMQP_NOT_IMPLEMENTED,
			    "active=false"));
		fl.active = 1;
		connection_send(ch->conn, ch->id, AMQP_CHANNEL_FLOW_OK, &fl);
		return (0);
	case AMQP_CHANNEL_FLOW_OK:
		return (0);
	case AMQP_EXCHANGE_DECLARE:
		return (channel_exchange_declare(ch, &a->exchange_declare));
	case AMQP_EXCHANGE_DELETE:
		return (channel_exchange_delete(ch, &a->exchange_delete));
	case AMQP_EXCHANGE_BIND:
		return (channel_exchange_bind(ch, &a->exchange_bind, 1));
	case AMQP_EXCHANGE_UNBIND:
		return (channel_exchange_bind(ch, &a->exchange_bind, 0));
	case AMQP_QUEUE_DECLARE:
		return (channel_queue_declare(ch, &a->queue_declare));
	case AMQP_QUEUE_BIND:
		return (channel_queue_bind(ch, &a->queue_bind.queue,
		    &a->queue_bind.exchange, &a->queue_bind.routing_key,
		    &a->queue_bind.arguments, 1, a->queue_bind.nowait));
	case AMQP_QUEUE_UNBIND:
		return (channel_queue_bind(ch, &a->queue_unbind.queue,
		    &a->queue_unbind.exchange, &a->queue_unbind.routing_key,
		    &a->queue_unbind.arguments, 0, 0));
	case AMQP_QUEUE_PURGE:
		return (channel_queue_purge(ch, &a->queue_purge));
	case AMQP_QUEUE_DELETE:
		return (channel_queue_delete(ch, &a->queue_delete));
	case AMQP_BASIC_QOS:
		return (channel_basic_qos(ch, &a->basic_qos));
	case AMQP_BASIC_CONSUME:
		return (channel_basic_consume(ch, &a->basic_consume));
	case AMQP_BASIC_CANCEL:
		return (channel_basic_cancel(ch, &a->basic_cancel));
	case AMQP_BASIC_PUBLISH:
		/* Content follows; copy only the strings' bytes. */
		ch->pub.mandatory = a->basic_publish.mandatory;
		ch->pub.immediate = a->basic_publish.immediate;
		shortstr_setn(&ch->pub.exchange, a->basic_publish.exchange.s,
		    a->basic_publish.exchange.len);
		shortstr_setn(&ch->pub.routing_key,
		    a->basic_publish.routing_key.s,
		    a->basic_publish.routing_key.len);
		return (0);
	case AMQP_BASIC_GET:
		return (channel_basic_get(ch, &a->basic_get));
	case AMQP_BASIC_ACK:
		if (ch->tx)
			return (channel_tx_hold(ch, id, a->basic_ack.delivery_tag,
			    a->basic_ack.multiple, 0));
		return (channel_ack(ch, a->basic_ack.delivery_tag,
		    a->basic_ack.multiple, 0, 1));
	case AMQP_BASIC_NACK:
		if (ch->tx)
			return (channel_tx_hold(ch, id,
			    a->basic_nack.delivery_tag, a->basic_nack.multiple,
			    a->basic_nack.requeue));
		return (channel_ack(ch, a->basic_nack.delivery_tag,
		    a->basic_nack.multiple, a->basic_nack.requeue, 0));
	case AMQP_BASIC_REJECT:
		if (ch->tx)
			return (channel_tx_hold(ch, id,
			    a->basic_reject.delivery_tag, 0,
			    a->basic_reject.requeue));
		return (channel_ack(ch, a->basic_reject.delivery_tag, 0,
		    a->basic_reject.requeue, 0));
	case AMQP_BASIC_RECOVER:
	case AMQP_BASIC_RECOVER_ASYNC:
		if (!a->basic_recover.requeue)
			return (channel_error(ch, AMQP_NOT_IMPLEMENTED,
			    "requeue=false"));
		channel_requeue_all(ch);
		if (id == AMQP_BASIC_RECOVER)
			connection_send(ch->conn, ch->id,
			    AMQP_BASIC_RECOVER_OK, NULL);
		return (0);
	case AMQP_CONFIRM_SELECT:
		if (ch->tx)
			return (channel_error(ch, AMQP_PRECONDITION_FAILED,
			    "cannot switch from tx to confirm mode"));
		ch->confirm = 1;
		if (!a->confirm_select.nowait)
			connection_send(ch->conn, ch->id,
			    AMQP_CONFIRM_SELECT_OK, NULL);
		return (0);
	case AMQP_TX_SELECT:
		if (ch->confirm)
			return (channel_error(ch, AMQP_PRECONDITION_FAILED,
			    "cannot switch from confirm to tx mode"));
		ch->tx = 1;
		connection_send(ch->conn, ch->id, AMQP_TX_SELECT_OK, NULL);
		return (0);
	case AMQP_TX_COMMIT:
	case AMQP_TX_ROLLBACK:
		if (!ch->tx)
			return (channel_error(ch, AMQP_PRECONDITION_FAILED,
			    "channel is not transactional"));
		return (id == AMQP_TX_COMMIT ? channel_tx_commit(ch) :
		    channel_tx_rollback(ch));
	}
	return (channel_error(ch, AMQP_COMMAND_INVALID,
	    "unimplemented method"));
}
