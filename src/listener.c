/*
 * listener.c: listening sockets (libevent evconnlistener).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "broker.h"
#include "conf.h"
#include "connection.h"
#include "listener.h"

/* Milliseconds the listener pauses when out of descriptors. */
#define LISTENER_PAUSE_MS	100

struct listener {
	struct evconnlistener	*lev;	/* owned */
	struct event		*resume; /* owned: after EMFILE */
	time_t			 full_logged;
	char			*addr;	/* owned */
	struct listener		*next;
};

static void	listener_accept_cb(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	listener_error_cb(struct evconnlistener *, void *);

/* A new client: hand it to the connection layer. */
static void
listener_accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	if (config.max_connections != 0 &&
	    broker->nconns >= (unsigned)config.max_connections) {
		log_warn("max_connections (%lld) reached; refusing a client",
		    (long long)config.max_connections);
		evutil_closesocket(fd);
		return;
	}
	connection_accept(fd, sa, salen);
}

/* Listen again after running out of descriptors. */
static void
listener_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener	*l = arg;

	evconnlistener_enable(l->lev);
}

/*
 * accept() failed.  Out of descriptors, the waiting client stays queued
 * and the listener would fire again at once: pause it for a moment (the
 * clients already connected go on), and say so once per episode.
 */
static void
listener_error_cb(struct evconnlistener *lev, void *arg)
{
	struct listener	*l = arg;
	struct timeval	 tv = { 0, LISTENER_PAUSE_MS * 1000 };
	int		 err = EVUTIL_SOCKET_ERROR();
	time_t		 now = time(NULL);

	if (err != EMFILE && err != ENFILE) {
		log_error("accept on %s: %s", l->addr,
		    evutil_socket_error_to_string(err));
		return;
	}
	if (now - l->full_logged >= 60) {
		log_error("accept on %s: %s (file descriptor limit reached: "
		    "%u connections; raise it with ulimit -n); new clients "
		    "wait", l->addr, evutil_socket_error_to_string(err),
		    broker->nconns);
		l->full_logged = now;
	}
	evconnlistener_disable(l->lev);
	if (l->resume == NULL)
		l->resume = evtimer_new(broker->base, listener_resume_cb, l);
	evtimer_add(l->resume, &tv);
}

/* Listen on addr ("127.0.0.1:5672", "[::1]:5672"). */
int
listener_add(const char *addr, char **cause)
{
	struct sockaddr_storage	 ss;
	int			 sslen = sizeof ss;
	struct listener		*l;

	memset(&ss, 0, sizeof ss);
	if (evutil_parse_sockaddr_port(addr, (struct sockaddr *)&ss,
	    &sslen) != 0) {
		xasprintf(cause, "bad listen address '%s' (want HOST:PORT)",
		    addr);
		return (-1);
	}
	l = xcalloc(1, sizeof *l);
	l->addr = xstrdup(addr);
	l->lev = evconnlistener_new_bind(broker->base, listener_accept_cb, l,
	    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
	    1024, (struct sockaddr *)&ss, sslen);
	if (l->lev == NULL) {
		xasprintf(cause, "cannot listen on %s: %s", addr,
		    strerror(errno));
		free(l->addr);
		free(l);
		return (-1);
	}
	evconnlistener_set_error_cb(l->lev, listener_error_cb);
	l->next = broker->listeners;
	broker->listeners = l;
	log_notice("listening on %s", addr);
	return (0);
}

/* Close every listener. */
void
listener_free_all(void)
{
	struct listener	*l;

	while ((l = broker->listeners) != NULL) {
		broker->listeners = l->next;
		if (l->resume != NULL)
			event_free(l->resume);
		evconnlistener_free(l->lev);
		free(l->addr);
		free(l);
	}
}
