/*
 * channel.h: channels: method dispatch for channel, exchange, queue,
 * basic, confirm and tx; content assembly; deliveries and acks.
 */
#ifndef CHANNEL_H
#define CHANNEL_H

#include <stdint.h>
#include <sys/queue.h>

#include <uthash.h>

#include "method.h"

#include "queue.h"

struct connection;
struct consumer;
struct message;
struct queue;

/* A message delivered and not yet settled. */
struct delivery {
	struct qentry		 e;		/* e.msg holds a reference;
						   NULL: a hole in the ring */
	struct queue		*q;		/* holds a reference */
	struct consumer		*c;		/* borrowed; NULL once cancelled */
	uint8_t			 sac_hold;	/* holds a single-active queue */
};

/* A reply that waits for a store batch: confirms, tx.commit-ok. */
struct confirm_wait {
	uint64_t		 batch;
	uint64_t		 seq;		/* last publish seq covered */
	uint8_t			 kind;		/* CW_ACK, CW_NACK, CW_TXOK */
};
#define CW_ACK	0
#define CW_NACK	1
#define CW_TXOK	2

/* A publish or ack held back by tx.select until tx.commit. */
struct tx_op {
	uint32_t		 method;	/* publish, ack, nack, reject */
	struct message		*msg;		/* publish: holds a reference */
	uint8_t			 mandatory;
	uint64_t		 tag;
	uint8_t			 multiple, requeue;
};

enum channel_state {
	CH_OPEN,
	CH_CLOSING		/* sent channel.close, awaiting close-ok */
};

enum channel_content {
	CC_IDLE,
	CC_HEADER,		/* after basic.publish */
	CC_BODY			/* after the content header */
};

struct channel {
	struct connection	*conn;		/* borrowed: owns this */
	uint16_t		 id;
	enum channel_state	 state;
	enum channel_content	 cc;		/* kept by connection.c */
	uint64_t		 body_size, body_received;
	struct basic_publish	 pub;		/* the publish being assembled */
	struct message		*msg;		/* being assembled: owned */
	uint8_t			 confirm, tx;
	uint64_t		 pub_seq;	/* confirm: last publish seq */
	uint64_t		 confirmed;	/* confirm: last seq acked */
	uint64_t		 ready;		/* confirm: may ack up to here */
	struct confirm_wait	*cw;		/* owned ring: waiting replies */
	size_t			 cw_cap, cw_head, cw_len;
	uint8_t			 store_waiting;	/* on channel_store_waiters */
	TAILQ_ENTRY(channel)	 store_entry;
	uint8_t			 confirm_queued;
	struct tx_op		*txops;		/* owned array */
	size_t			 ntxops, txcap;
	struct consumer		*consumers;	/* owned: uthash by tag */
	unsigned		 nconsumers;
	struct delivery		*ua;		/* ring of unacked by tag */
	size_t			 ua_cap, ua_head, ua_len;
	uint64_t		 ua_base;	/* tag of ring slot ua_head */
	uint32_t		 nunacked;
	uint64_t		 next_tag;
	uint16_t		 prefetch;	/* for new consumers */
	uint16_t		 prefetch_global;
	struct shortstr		 last_queue;	/* last declared here */
	char			*reply_tag;	/* owned: direct reply-to consumer */
	char			 reply_key[32];	/* its name's token */
	uint8_t			 pub_fast_reply; /* this publish asks for it */
	UT_hash_handle		 hh_reply;	/* channel_replies by key */
	TAILQ_ENTRY(channel)	 confirm_entry;	/* conn->confirm_pending */
	UT_hash_handle		 hh;		/* conn->channels */
};

struct channel	*channel_new(struct connection *, uint16_t);
/* Requeue unacked, cancel consumers, free. */
void		 channel_free(struct channel *);
/* Close the channel with a soft error: channel.close, then discard. */
void		 channel_exception(struct channel *, uint16_t, const char *,
		    uint32_t);
/* Handle one method on this channel; 0 or a reply code (text in conn). */
int		 channel_method(struct channel *, uint32_t,
		    union method_args *);
/*
 * Handle a content header (h decoded) or body frame (h NULL), framing
 * already checked by the connection; 0 or a reply code.
 */
int		 channel_content(struct channel *, const struct frame *,
		    const struct content_header *);
/* Send pending publisher confirms (called once per read batch). */
void		 channel_flush_confirms(struct channel *);
/* Can this consumer take another delivery now? */
int		 consumer_has_credit(const struct consumer *);
/* Deliver one entry to a consumer (takes the queue's reference). */
void		 consumer_deliver(struct consumer *, struct qentry *);
/* The queue went away: tell the consumer's client and drop it. */
void		 consumer_queue_deleted(struct consumer *);
#define REPLY_TO_QUEUE		"amq.rabbitmq.reply-to"
#define REPLY_TO_PREFIX		"amq.rabbitmq.reply-to."
/* Is this the name of a live direct reply-to consumer? */
int		 channel_reply_name_live(const char *);

/* Raise a channel error: "CODE_NAME - text" into conn->err; returns code. */
int		 channel_error(struct channel *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

#endif /* CHANNEL_H */
