/*
 * main.c: warrend: options, configuration, signals, the loop.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#ifdef HAVE_MALLOPT
#include <malloc.h>
#endif

#include <event2/event.h>

#include "broker.h"
#include "conf.h"
#include "connection.h"
#include "delayed.h"
#include "listener.h"
#include "store.h"

static void	main_usage(FILE *);
static void	main_signal_cb(evutil_socket_t, short, void *);

/* Print usage. */
static void
main_usage(FILE *f)
{
	fprintf(f,
"usage: warrend [options]\n"
"Warren, an AMQP 0-9-1 message broker.\n"
"\n"
"  -l, --listen HOST:PORT   listen here (repeatable; default 127.0.0.1:5672)\n"
"  -d, --data-dir DIR       data directory (default ./data)\n"
"  -c, --config FILE        read configuration keys from FILE\n"
"  -o KEY=VALUE             set a configuration key (repeatable)\n"
"      --log-level LEVEL    error, warn, notice, info or debug\n"
"      --dump-config        print the configuration and exit\n"
"  -V, --version            print the version and exit\n"
"  -h, --help               print this help and exit\n"
"\n"
"Runs in the foreground and logs to stderr; SIGTERM or SIGINT stops it.\n"
"See warrend(8) and warrend.conf(5).\n");
}

/* SIGTERM/SIGINT: stop accepting, close connections, leave the loop. */
static void
main_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	if (broker->stopping++) {
		log_warn("second signal: exiting now");
		event_base_loopbreak(broker->base);
		return;
	}
	log_notice("signal %d: shutting down", (int)sig);
	listener_free_all();
	connection_close_all();
	event_base_loopexit(broker->base, NULL);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "data-dir", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "dump-config", no_argument, NULL, 'D' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char		**listen = NULL, *cause, *eq, *cfgfile = NULL;
	const char	 *data_dir = NULL, *level = NULL;
	size_t		  nlisten = 0, i;
	int		  ch, dump = 0, nopts = 0, rc = 1;
	char		**opts = NULL;
	struct rlimit	  rl;

	config_defaults();
	while ((ch = getopt_long(argc, argv, "l:d:c:o:Vh", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'l':
			listen = xreallocarray(listen, nlisten + 1,
			    sizeof *listen);
			listen[nlisten++] = optarg;
			break;
		case 'd':
			data_dir = optarg;
			break;
		case 'c':
			cfgfile = optarg;
			break;
		case 'o':
			opts = xreallocarray(opts, nopts + 1, sizeof *opts);
			opts[nopts++] = optarg;
			break;
		case 'L':
			level = optarg;
			break;
		case 'D':
			dump = 1;
			break;
		case 'V':
			printf("warrend %s\n", PACKAGE_VERSION);
			return (0);
		case 'h':
			main_usage(stdout);
			return (0);
		default:
			main_usage(stderr);
			return (2);
		}
	}
	if (optind != argc) {
		main_usage(stderr);
		return (2);
	}
	if (cfgfile != NULL && config_load(cfgfile, &cause) != 0) {
		fprintf(stderr, "warrend: %s\n", cause);
		return (2);
	}
	for (i = 0; i < (size_t)nopts; i++) {
		if ((eq = strchr(opts[i], '=')) == NULL) {
			fprintf(stderr, "warrend: -o wants KEY=VALUE, not %s\n",
			    opts[i]);
			return (2);
		}
		*eq = '\0';
		if (config_set(opts[i], eq + 1, &cause) != 0) {
			fprintf(stderr, "warrend: %s\n", cause);
			return (2);
		}
	}
	if (data_dir != NULL && config_set("data_dir", data_dir, &cause) != 0)
		return (2);
	if (level != NULL && config_set("log_level", level, &cause) != 0)
		return (2);
	if (log_level_parse(config.log_level, &log_level) != 0) {
		fprintf(stderr, "warrend: unknown log level '%s'\n",
		    config.log_level);
		return (2);
	}
	if (dump) {
		config_dump(stdout);
		return (0);
	}
	log_init();
	/* As many descriptors (connections) as the hard limit allows. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
#ifdef HAVE_MALLOPT
	/*
	 * Bodies of up to 32 MiB come from the heap, and up to 32 MiB freed
	 * at its top stays mapped.  glibc's default thresholds trim and
	 * regrow the heap as large messages come and go, so every page of
	 * every large body was faulted in afresh (1 MiB messages ran 35%
	 * slower); RSS still falls back once the heap is idle.
	 */
	(void)mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
	(void)mallopt(M_TRIM_THRESHOLD, 32 * 1024 * 1024);
#endif
	if (mkdir(config.data_dir, 0750) != 0 && errno != EEXIST) {
		log_error("cannot create data directory %s: %s",
		    config.data_dir, strerror(errno));
		return (1);
	}
	if (strcasecmp(config.store_sync, "full") != 0 &&
	    strcasecmp(config.store_sync, "normal") != 0 &&
	    strcasecmp(config.store_sync, "off") != 0) {
		fprintf(stderr, "warrend: store_sync must be full, normal or "
		    "off\n");
		return (2);
	}
	if (broker_init(&cause) != 0) {
		log_error("%s", cause);
		return (1);
	}
	if (store_open(config.data_dir, &cause) != 0) {
		log_error("cannot open the store: %s", cause);
		broker_free();
		return (1);
	}
	store_start();
	if (nlisten == 0) {
		static char *dflt = "127.0.0.1:5672";

		listen = xreallocarray(listen, 1, sizeof *listen);
		listen[nlisten++] = dflt;
	}
	for (i = 0; i < nlisten; i++) {
		if (listener_add(listen[i], &cause) != 0) {
			log_error("%s", cause);
			free(cause);
			goto out;
		}
	}
	broker->sig_term = evsignal_new(broker->base, SIGTERM,
	    main_signal_cb, NULL);
	broker->sig_int = evsignal_new(broker->base, SIGINT,
	    main_signal_cb, NULL);
	evsignal_add(broker->sig_term, NULL);
	evsignal_add(broker->sig_int, NULL);
	signal(SIGPIPE, SIG_IGN);
	log_notice("warrend %s ready (data directory %s)", PACKAGE_VERSION,
	    config.data_dir);
	event_base_dispatch(broker->base);
	log_notice("stopped");
	rc = 0;
out:
	listener_free_all();
	connection_close_all();
	delayed_free_all();
	store_close();
	if (broker->sig_term != NULL)
		event_free(broker->sig_term);
	if (broker->sig_int != NULL)
		event_free(broker->sig_int);
	broker_free();
	free(listen);
	free(opts);
	return (rc);
}
