/*
 * broker.h: the one root of global state, logging and allocators.
 */
#ifndef BROKER_H
#define BROKER_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

struct event_base;
struct vhost;
struct connection;
struct listener;

#define WARREN_PRODUCT	"Warren"
#define WARREN_COPYRIGHT \
	"Copyright the Warren authors; licensed under the Apache License 2.0"

/* Log levels, most severe first. */
enum log_level {
	LOG_ERROR,
	LOG_WARN,
	LOG_NOTICE,
	LOG_INFO,
	LOG_DEBUG
};

extern enum log_level log_level;

/* Arguments are evaluated only when the level is enabled. */
#define log_at(lvl, ...) do {						\
	if ((lvl) <= log_level)						\
		log_msg((lvl), __VA_ARGS__);				\
} while (0)
#define log_error(...)	log_at(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)	log_at(LOG_WARN, __VA_ARGS__)
#define log_notice(...)	log_at(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)	log_at(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_at(LOG_DEBUG, __VA_ARGS__)

void	log_init(void);
void	log_msg(enum log_level, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	log_level_parse(const char *, enum log_level *);
const char *log_level_name(enum log_level);
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2),
	    noreturn));

/* Allocators that never return NULL (xmalloc.c). */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 xvasprintf(char **, const char *, va_list);

/* The broker: everything the loop owns hangs off this. */
struct broker {
	struct event_base	*base;		/* owned */
	struct vhost		*vhosts;	/* owned: uthash by name */
	TAILQ_HEAD(, connection) conns;		/* borrowed: each owns itself */
	unsigned		 nconns;
	uint64_t		 next_conn_id;
	uint32_t		 route_gen;	/* stamps routing walks */
	uint32_t		 route_qgen;	/* the message being routed */
	char			*data_dir;	/* owned */
	struct listener		*listeners;	/* owned list */
	struct event		*sig_term, *sig_int;
	int			 stopping;
	int			 store_failed;	/* publishers are blocked */
	int			 mem_blocked;	/* publishers are blocked */
	uint64_t		 msg_bytes;	/* resident message objects */
	uint64_t		 mem_limit;	/* bytes; see memory_limit */
	/* Connections with output to write before the loop waits again. */
	TAILQ_HEAD(, connection) flushq;	/* borrowed */
	struct event		*flush_ev;	/* owned */
};

extern struct broker *broker;

int	broker_init(char **);
void	broker_free(void);
/* Fill buf with n random URL-safe base64 characters. */
void	broker_random_name(char *, size_t);

#endif /* BROKER_H */
