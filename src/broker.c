/*
 * broker.c: the broker root: start-up and shutdown of global state.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/rand.h>

#include "broker.h"
#include "auth.h"
#include "conf.h"
#include "connection.h"
#include "message.h"
#include "vhost.h"

struct broker *broker;

/* Create the broker, its default vhost and user. */
int
broker_init(char **cause)
{
	broker = xcalloc(1, sizeof *broker);
	TAILQ_INIT(&broker->conns);
	if ((broker->base = event_base_new()) == NULL) {
		*cause = xstrdup("event_base_new failed");
		return (-1);
	}
	TAILQ_INIT(&broker->flushq);
	broker->flush_ev = event_new(broker->base, -1, 0, connection_flush_cb,
	    NULL);
	broker->data_dir = xstrdup(config.data_dir);
	if (config.memory_limit > 0)
		broker->mem_limit = (uint64_t)config.memory_limit << 20;
	else
		broker->mem_limit = (uint64_t)sysconf(_SC_PHYS_PAGES) *
		    (uint64_t)sysconf(_SC_PAGESIZE) / 10 * 4;
	auth_init();
	vhost_create(config.default_vhost);
	return (0);
}

/* Free everything (at exit, so that leak checkers see a clean heap). */
void
broker_free(void)
{
	struct vhost	*v, *tmp;

	if (broker == NULL)
		return;
	HASH_ITER(hh, broker->vhosts, v, tmp)
		vhost_free(v);
	auth_free();
	message_cache_free();
	if (broker->flush_ev != NULL)
		event_free(broker->flush_ev);
	if (broker->base != NULL)
		event_base_free(broker->base);
	free(broker->data_dir);
	free(broker);
	broker = NULL;
}

/* n random characters from the URL-safe base64 alphabet. */
void
broker_random_name(char *buf, size_t n)
{
	static const char	 abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char		 r[64];
	size_t			 i;

	if (n > sizeof r)
		n = sizeof r;
	if (RAND_bytes(r, (int)n) != 1)
		fatal("RAND_bytes failed");
	for (i = 0; i < n; i++)
		buf[i] = abc[r[i] & 63];
	buf[n] = '\0';
}
