/*
 * store.h: the SQLite store.  One thread owns the write connection and
 * commits everything handed to it since its last commit in one transaction
 * (group commit).  The loop never waits on the disk: it queues operations
 * into the batch being filled, and learns through store_on_commit() when a
 * batch is durable; only then are the confirms that wait on it sent.
 */
#ifndef STORE_H
#define STORE_H

#include <stdint.h>

struct binding;
struct dedup_cache;
struct exchange;
struct message;
struct qentry;
struct queue;
struct vhost;

/*
 * Open (or create) the store in dir, check its schema and recover every
 * durable entity and message into the broker.  0, or -1 with *cause set:
 * the caller exits without touching the file.
 */
int		 store_open(const char *, char **);
/* Start the store thread (after recovery, before listening). */
void		 store_start(void);
/* Commit what is pending, stop the thread, close the database. */
void		 store_close(void);

/* Id of the batch being filled: what a confirm queued now waits for. */
uint64_t	 store_batch(void);
/* Has anything been queued in the batch being filled? */
int		 store_batch_used(void);

void		 store_exchange_put(struct exchange *);
void		 store_exchange_del(struct exchange *);
void		 store_queue_put(struct queue *);
void		 store_queue_del(struct queue *);
void		 store_binding_put(struct binding *);
void		 store_binding_del(struct binding *);
/* A persistent message entered durable queue q at position seq. */
void		 store_enqueue(struct queue *, struct message *, uint64_t,
		    uint64_t);
/* It left the queue for good (acked, dropped, purged). */
void		 store_dequeue(struct queue *, struct message *, uint64_t);
/* It was delivered: after a crash it comes back redelivered. */
void		 store_delivered(struct queue *, uint64_t);

/* A persistent message waits in a durable delayed exchange (id, due). */
void		 store_delayed_put(struct exchange *, struct message *,
		    uint64_t, uint64_t);
/* ... and went. */
void		 store_delayed_del(struct message *, uint64_t);
/* A dedup key of a disk-persistent exchange cache was added (1) or
   removed (0). */
void		 store_dedup_key(struct exchange *, const char *, size_t,
		    uint64_t, int);
/* Forget a paged-out entry (its message is held by this queue only). */
void		 store_dequeue_paged(struct queue *, uint64_t, uint64_t);
/* The id of the batch that writes m, or 0 once it is committed. */
uint64_t	 store_message_batch(const struct message *);
/* Has the batch that wrote this message been committed? */
int		 store_is_committed(const struct message *);
/* Read paged-out entries of q back; returns how many were loaded. */
size_t		 store_page_in(struct queue *, struct qentry **, size_t);
/* Over the memory limit: page out what can be; bytes freed. */
uint64_t	 store_page_out(uint64_t);

/* Called in the loop when batches up to this id are committed. */
void		 store_on_commit(uint64_t);
/* Called in the loop when the store fails (1) or recovers (0). */
void		 store_on_failure(int);

#endif /* STORE_H */
