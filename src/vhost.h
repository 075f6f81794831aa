/*
 * vhost.h: virtual hosts, each with its exchanges and queues.
 */
#ifndef VHOST_H
#define VHOST_H

#include <uthash.h>

struct exchange;
struct queue;

struct vhost {
	char			*name;		/* owned */
	struct exchange		*exchanges;	/* owned: uthash by name */
	struct queue		*queues;	/* owned: uthash by name */
	uint64_t		 gen;		/* bumped when either loses one */
	struct exchange		*last_x;	/* lookup caches, valid for */
	struct queue		*last_q;	/* last_gen */
	uint64_t		 last_xgen, last_qgen;
	UT_hash_handle		 hh;		/* broker->vhosts */
};

struct vhost	*vhost_find(const char *);
/* Create a vhost with its built-in exchanges. */
struct vhost	*vhost_create(const char *);
void		 vhost_free(struct vhost *);
struct exchange	*vhost_exchange_find(struct vhost *, const char *);
struct queue	*vhost_queue_find(struct vhost *, const char *);

#endif /* VHOST_H */
