/*
 * message.h: one reference-counted message per publish, shared by every
 * queue and delivery that holds it.  One allocation holds the struct, the
 * exchange name, the routing key, the raw property bytes as received and
 * the body.
 */
#ifndef MESSAGE_H
#define MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

struct store_batch;

/*
 * The exchange and routing key a message was published with, shared by
 * the messages published alike one after another (a publisher sends many
 * messages with the same key).
 */
struct msgkey {
	uint32_t		 refcnt;
	char			 s[];		/* exchange NUL routing key NUL */
};

struct message {
	uint32_t		 refcnt;
	uint8_t			 exchange_len;
	uint8_t			 routing_key_len;
	uint8_t			 delivery_mode:7;
	uint8_t			 has_expiration:1; /* message_expiration() */
	uint8_t			 priority;
	uint32_t		 props_len;
	uint32_t		 body_size;
	uint32_t		 hdr_off;	/* headers table in the props */
	uint32_t		 hdr_len;	/* 0: no headers */
	uint64_t		 store_id;	/* 0 until written to the store */
	struct store_batch	*store_pending;	/* the uncommitted batch that
						   writes it; NULL once committed */
	uint32_t		 store_op;	/* its OP_MPUT in that batch */
	uint32_t		 store_refs;	/* durable queue entries holding it
						   in the store */
	struct msgkey		*key;		/* holds a reference */
	/* Then: props body. */
};

/* The parts that follow the struct in the same allocation. */
#define MSG_EXCHANGE(m)	((m)->key->s)
#define MSG_RK(m)	((m)->key->s + (m)->exchange_len + 1)
#define MSG_PROPS(m)	((uint8_t *)((m) + 1))
#define MSG_BODY(m)	(MSG_PROPS(m) + (m)->props_len)
/* The headers table, for the statement it is used in. */
#define MSG_HDRS(m)	(&(const struct field_table){			\
			    MSG_PROPS(m) + (m)->hdr_off, (m)->hdr_len })

/* A new message with room for its body; refcnt 1. */
struct message	*message_new(const char *, size_t, const char *, size_t,
		    const uint8_t *, size_t, uint64_t);
struct message	*message_ref(struct message *);
void		 message_unref(struct message **);
/*
 * A copy of m with new headers: edit(old headers, new table body, arg)
 * appends the entries it wants (NULL: the same headers).  Exchange and
 * routing key are replaced when given (x non-NULL); the expiration
 * property is dropped when asked; reply_to replaced when non-NULL.
 */
typedef void (*message_headers_cb)(const struct field_table *,
    struct evbuffer *, void *);
struct message	*message_rewrite(const struct message *, const char *,
		    size_t, const char *, size_t, message_headers_cb, void *,
		    int, const char *);
/* The expiration property in ms, or -1 (read from the property bytes). */
int64_t		 message_expiration(const struct message *);
/* Set the fields the broker reads from the property bytes. */
void		 message_parse_props(struct message *);
/* Drop the cached key (shutdown). */
void		 message_cache_free(void);
/* Bytes the message costs in memory. */
size_t		 message_size(const struct message *);

#endif /* MESSAGE_H */
