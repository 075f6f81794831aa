/*
 * args.h: x-arguments of queue.declare and exchange.declare, validated and
 * compared for equivalence as RabbitMQ does.
 */
#ifndef ARGS_H
#define ARGS_H

#include <stddef.h>

#include "wire.h"

/*
 * Validate queue arguments: 0, or -1 with the reply text (after
 * "PRECONDITION_FAILED - ") written for queue name in vhost.
 */
int	args_queue_validate(const struct field_table *, const char *,
	    const char *, char *, size_t);
/*
 * Compare the known arguments of a redeclare.  0 when equivalent, or -1
 * with *key set and buf holding "received X but current is Y".
 */
int	args_equivalent(const struct field_table *, const struct field_table *,
	    const char *const *, const char **, char *, size_t);

/* Largest TTL RabbitMQ accepts: ten years in milliseconds. */
#define ARGS_MAX_TTL	315360000000LL

/* RabbitMQ's name of a field type ("longstr", "signedint"). */
const char	*args_type_name(uint8_t);

extern const char *const args_queue_keys[];
extern const char *const args_exchange_keys[];

#endif /* ARGS_H */
