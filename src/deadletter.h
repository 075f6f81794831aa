/*
 * deadletter.h: dead-lettering (x-dead-letter-exchange), as RabbitMQ does
 * it: the message is republished to the queue's dead-letter exchange with
 * an x-death header describing why.
 */
#ifndef DEADLETTER_H
#define DEADLETTER_H

struct message;
struct queue;

#define DEADLETTER_REJECTED		"rejected"
#define DEADLETTER_EXPIRED		"expired"
#define DEADLETTER_MAXLEN		"maxlen"
#define DEADLETTER_DELIVERY_LIMIT	"delivery_limit"

/* Dead-letter m out of q for reason, if q has a dead-letter exchange. */
void	deadletter(struct queue *, struct message *, const char *);

#endif /* DEADLETTER_H */
