/*
 * delayed.h: delayed messages, with the interface of the former
 * rabbitmq-delayed-message-exchange plugin: an exchange of type
 * x-delayed-message routes with its x-delayed-type once a message's x-delay
 * (ms) is over.  All pending messages share one heap and one timer.
 */
#ifndef DELAYED_H
#define DELAYED_H

#include <stdint.h>

struct exchange;
struct message;

/* Largest x-delay that delays (the plugin's 32-bit limit). */
#define DELAYED_MAX	4294967295ULL

/* The x-delay of m in ms, or 0 when it is to be routed at once. */
uint64_t	delayed_delay(const struct message *);
/* Hold m (takes a reference) until delay ms from now, then route it. */
void		delayed_add(struct exchange *, struct message *, uint64_t);
/* A message read back from the store, due at an absolute time (ms). */
void		delayed_restore(struct exchange *, struct message *, uint64_t,
		    uint64_t);
/* Drop everything (shutdown). */
void		delayed_free_all(void);

#endif /* DELAYED_H */
