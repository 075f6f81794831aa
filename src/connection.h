/*
 * connection.h: one AMQP connection: handshake, frame loop, heartbeats,
 * close in both directions.
 */
#ifndef CONNECTION_H
#define CONNECTION_H

#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/util.h>

struct bufferevent;
struct channel;
struct event;
struct evbuffer;
struct message;
struct queue;
struct vhost;

enum conn_state {
	CONN_HEADER,		/* waiting for the protocol header */
	CONN_START_OK,		/* sent start */
	CONN_TUNE_OK,		/* sent tune */
	CONN_OPEN_WAIT,		/* got tune-ok, waiting for open */
	CONN_OPEN,
	CONN_CLOSING,		/* sent connection.close, awaiting close-ok */
	CONN_DEAD		/* socket gone; freed when unreferenced */
};

struct connection {
	uint64_t		 id;
	char			 peer[64];
	int			 loopback;
	struct bufferevent	*bev;		/* owned */
	struct evbuffer		*out;		/* borrowed from bev */
	enum conn_state		 state;
	uint16_t		 channel_max;
	uint32_t		 frame_max;
	uint16_t		 heartbeat;
	char			*user;		/* owned */
	struct vhost		*vhost;		/* borrowed */
	struct channel		*channels;	/* owned: uthash by id */
	unsigned		 nchannels;
	uint8_t			 cap_cancel_notify, cap_blocked;
	uint8_t			 cap_auth_failure_close;
	struct event		*timer;		/* owned */
	uint64_t		 last_read;	/* monotonic ms */
	uint64_t		 last_write;
	uint8_t			 out_paused;	/* consumer_buffer reached */
	uint8_t			 flush_close;	/* drop once output is sent */
	uint8_t			 err_no_method;	/* close with class 0, method 0 */
	uint8_t			 publisher;	/* has sent basic.publish */
	uint8_t			 blocked;	/* reading stopped: store down */
	uint8_t			 flush_queued;	/* on broker->flushq */
	uint8_t			 bev_writes;	/* the bufferevent writes */
	size_t			 read_low;	/* bytes a partial frame needs */
	size_t			 read_size;	/* next read(2) size, adaptive */
	struct event		*rev;		/* owned: readable socket */
	struct evbuffer		*in;		/* owned: bytes read */
	/* A large body frame read straight into its message. */
	struct message		*body_msg;	/* owned reference */
	uint8_t			*body_ptr;	/* where its next octet goes */
	size_t			 body_left;	/* payload octets still to come */
	uint32_t		 body_size;	/* the frame's payload size */
	uint16_t		 body_chan;
	uint32_t		 refcnt;
	char			 err[512];	/* text of the last error */
	TAILQ_HEAD(, queue)	 exclusive;	/* borrowed */
	TAILQ_HEAD(, channel)	 confirm_pending; /* borrowed */
	TAILQ_ENTRY(connection)	 entry;		/* broker->conns */
	TAILQ_ENTRY(connection)	 flush_entry;	/* broker->flushq */
};

/* Take over an accepted socket. */
void	connection_accept(evutil_socket_t, struct sockaddr *, int);
/* Append a method frame to the output. */
void	connection_send(struct connection *, uint16_t, uint32_t,
	    const void *);
/* Raise a connection exception: send connection.close, await close-ok. */
void	connection_exception(struct connection *, uint16_t, const char *,
	    uint32_t);
/* Drop the connection now (socket closed, state released). */
void	connection_drop(struct connection *, const char *);
/* Write the output of every connection that has some (an event). */
void	connection_flush_cb(evutil_socket_t, short, void *);
/* Close every connection (shutdown). */
void	connection_close_all(void);
/* Format "CODE_NAME - text" into c->err and return code. */
int	connection_error(struct connection *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/* Reply-code name as RabbitMQ writes it ("NOT_FOUND"). */
const char *reply_code_name(int);
/* Page out or block publishers when messages pass memory_limit. */
void	connection_memory_check(void);
/* Monotonic milliseconds, cached per loop turn. */
uint64_t connection_now(void);

#define conn_log(c, lvl, fmt, ...)					\
	log_at((lvl), "conn=%llu peer=%s vhost=%s user=%s: " fmt,	\
	    (unsigned long long)(c)->id, (c)->peer,			\
	    (c)->vhost != NULL ? vhost_name((c)->vhost) : "-",		\
	    (c)->user != NULL ? (c)->user : "-", ##__VA_ARGS__)

const char *vhost_name(const struct vhost *);

#endif /* CONNECTION_H */
