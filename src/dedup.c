/*
 * dedup.c: deduplication caches: a hash of keys with an expiry each, and
 * the keys in insertion order so that a full cache forgets its oldest.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <uthash.h>

#include "broker.h"
#include "connection.h"
#include "dedup.h"
#include "message.h"
#include "store.h"
#include "wire.h"

struct dedup_entry {
	char			*key;		/* owned */
	size_t			 len;
	uint64_t		 expires;	/* ms; 0: never */
	TAILQ_ENTRY(dedup_entry) entry;		/* oldest first */
	UT_hash_handle		 hh;
};

struct dedup_cache {
	struct exchange		*owner;		/* borrowed: persist keys */
	struct dedup_entry	*keys;		/* owned: uthash */
	TAILQ_HEAD(, dedup_entry) order;
	uint64_t		 count, size;
	int64_t			 ttl;
};

/* A new cache. */
struct dedup_cache *
dedup_new(uint64_t size, int64_t ttl)
{
	struct dedup_cache	*c;

	c = xcalloc(1, sizeof *c);
	TAILQ_INIT(&c->order);
	c->size = size;
	c->ttl = ttl;
	return (c);
}

/* Keep the cache's keys in the store, for this durable exchange. */
void
dedup_persist(struct dedup_cache *c, struct exchange *x)
{
	c->owner = x;
}

/* Remove and free one entry. */
static void
dedup_entry_free(struct dedup_cache *c, struct dedup_entry *e)
{
	if (c->owner != NULL)
		store_dedup_key(c->owner, e->key, e->len, 0, 0);
	HASH_DEL(c->keys, e);
	TAILQ_REMOVE(&c->order, e, entry);
	c->count--;
	free(e->key);
	free(e);
}

/* Free a cache. */
void
dedup_free(struct dedup_cache **cp)
{
	struct dedup_cache	*c = *cp;
	struct dedup_entry	*e;

	*cp = NULL;
	if (c == NULL)
		return;
	c->owner = NULL;	/* freeing is not forgetting */
	while ((e = TAILQ_FIRST(&c->order)) != NULL)
		dedup_entry_free(c, e);
	free(c);
}

/* The encoded x-deduplication-header value of m. */
int
dedup_key(const struct message *m, char *buf, size_t size, size_t *len)
{
	struct field_value	 v;
	struct evbuffer		*b;

	if (m->hdr_len == 0 || !table_find(MSG_HDRS(m), DEDUP_HEADER, &v))
		return (0);
	if (v.type == 'S' && v.v.s.len + 1 <= size) {
		buf[0] = 'S';
		memcpy(buf + 1, v.v.s.p, v.v.s.len);
		*len = v.v.s.len + 1;
		return (1);
	}
	b = evbuffer_new();
	array_add_value(b, &v);
	*len = evbuffer_get_length(b);
	if (*len > size)
		*len = size;	/* a long key: its prefix will do */
	evbuffer_remove(b, buf, *len);
	evbuffer_free(b);
	return (1);
}

/* Seen and fresh: 1; otherwise remember it and return 0. */
int
dedup_seen(struct dedup_cache *c, const char *key, size_t len, int64_t ttl)
{
	struct dedup_entry	*e;
	uint64_t		 now = connection_now();

	HASH_FIND(hh, c->keys, key, len, e);
	if (e != NULL) {
		if (e->expires == 0 || e->expires > now)
			return (1);
		dedup_entry_free(c, e);
	}
	/* Forget what has expired, then the oldest if still full. */
	while ((e = TAILQ_FIRST(&c->order)) != NULL && e->expires != 0 &&
	    e->expires <= now)
		dedup_entry_free(c, e);
	if (c->size != 0 && c->count >= c->size)
		dedup_entry_free(c, TAILQ_FIRST(&c->order));
	e = xcalloc(1, sizeof *e);
	e->key = xmalloc(len + 1);
	memcpy(e->key, key, len);
	e->len = len;
	if (ttl < 0)
		ttl = c->ttl;
	e->expires = ttl > 0 ? now + (uint64_t)ttl : 0;
	HASH_ADD_KEYPTR(hh, c->keys, e->key, e->len, e);
	TAILQ_INSERT_TAIL(&c->order, e, entry);
	c->count++;
	if (c->owner != NULL)
		store_dedup_key(c->owner, key, len, e->expires, 1);
	return (0);
}

/* A key read back from the store (expires: ms, 0 for never). */
void
dedup_restore(struct dedup_cache *c, const char *key, size_t len,
    uint64_t expires)
{
	struct dedup_entry	*e;

	HASH_FIND(hh, c->keys, key, len, e);
	if (e != NULL || (expires != 0 && expires <= connection_now()))
		return;
	e = xcalloc(1, sizeof *e);
	e->key = xmalloc(len + 1);
	memcpy(e->key, key, len);
	e->len = len;
	e->expires = expires;
	HASH_ADD_KEYPTR(hh, c->keys, e->key, e->len, e);
	TAILQ_INSERT_TAIL(&c->order, e, entry);
	c->count++;
}

/* Forget a key (its message left the queue). */
void
dedup_forget(struct dedup_cache *c, const char *key, size_t len)
{
	struct dedup_entry	*e;

	HASH_FIND(hh, c->keys, key, len, e);
	if (e != NULL)
		dedup_entry_free(c, e);
}
