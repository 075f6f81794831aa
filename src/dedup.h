/*
 * dedup.h: message deduplication, with the interface of the third-party
 * rabbitmq-message-deduplication plugin: the x-deduplication-header value
 * of a message is its key; an exchange of type x-message-deduplication
 * drops repeats seen within its cache (x-cache-size, x-cache-ttl), a queue
 * with x-message-deduplication drops repeats of messages it still holds.
 */
#ifndef DEDUP_H
#define DEDUP_H

#include <stddef.h>
#include <stdint.h>

struct dedup_cache;
struct exchange;
struct message;

#define DEDUP_HEADER	"x-deduplication-header"

/* A cache of at most size keys (0: no limit), each kept ttl ms (-1). */
struct dedup_cache *dedup_new(uint64_t, int64_t);
void		 dedup_free(struct dedup_cache **);
/*
 * The key of m (its x-deduplication-header value, encoded), in buf of
 * len; 1 when m has one, 0 when it is never deduplicated.
 */
int		 dedup_key(const struct message *, char *, size_t, size_t *);
/*
 * 1 when key is in the cache and still fresh (a duplicate); otherwise add
 * it, kept ttl ms (-1: the cache's), and return 0.
 */
int		 dedup_seen(struct dedup_cache *, const char *, size_t,
		    int64_t);
void		 dedup_forget(struct dedup_cache *, const char *, size_t);
/* Keep the keys of this durable exchange's cache in the store. */
void		 dedup_persist(struct dedup_cache *, struct exchange *);
/* A key read back from the store. */
void		 dedup_restore(struct dedup_cache *, const char *, size_t,
		    uint64_t);

#endif /* DEDUP_H */
