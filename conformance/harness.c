/*
 * harness.c: start or find the broker under test, and the rabbitmq-c
 * helpers the C conformance programs share.  Mirrors conformance/lib/
 * harness.py: same environment (WARREND, AMQP_URL, AMQP_IS_WARREN,
 * BROKER_WRAPPER, WARREN_LOG_LEVEL), same warrend command line, same
 * polling for the port with a deadline.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define HARNESS_START_TRIES	5
#define HARNESS_START_TIMEOUT	20000	/* ms for warrend to accept */
#define HARNESS_STOP_TIMEOUT	10000	/* ms for warrend to exit on SIGTERM */
#define HARNESS_LOG_TAIL	4096	/* bytes of warrend.log shown */

static void	 harness_signal_cb(int);
static void	 harness_log_tail(void);
static int	 harness_stop_broker(char *, size_t);
static int	 harness_remove_cb(const char *, const struct stat *, int,
		    struct FTW *);
static void	 harness_remove_datadir(void);
static void	 harness_atexit(void);
static int	 harness_free_port(void);
static int	 harness_port_open(const char *, int);
static int	 harness_spawn(int);
static void	 harness_parse_url(const char *);
static void	 harness_msleep(int);
static struct timeval harness_tv(int);
static const char *harness_close_string(const amqp_method_t *);
static int	 harness_text_matches(amqp_bytes_t, const char *);
static void	 harness_check_close(const char *, uint16_t, uint32_t,
		    amqp_bytes_t, uint16_t, uint32_t, const char *);

static struct harness_broker	 broker = { .pid = -1 };
static const char		*test_name = "test";
static char			 log_path[4096 + 16];
/* Built before any signal can arrive: the handler may only fork and exec. */
static char			*rm_argv[] = { "rm", "-rf", "--",
				    broker.datadir, NULL };
static int			 started;

/*
 * Find or start the broker for this program; name is argv[0] or the test
 * name, used in messages.  Also arms the whole-program timeout.
 */
const struct harness_broker *
harness_start(const char *name)
{
	const char	*url, *s;
	char		*copy;
	unsigned	 timeout = HARNESS_TEST_TIMEOUT;
	int		 i, port;

	if (started)
		return (&broker);
	started = 1;
	copy = strdup(name);
	test_name = strdup(basename(copy));
	free(copy);
	setvbuf(stdout, NULL, _IOLBF, 0);

	/*
	 * A hang is a failure: SIGALRM ends the program, stopping the broker
	 * and removing its directory on the way out.  SIGINT and SIGTERM do
	 * the same so an interrupted `make check` leaves nothing behind.
	 */
	if ((s = getenv("WARREN_TEST_TIMEOUT")) != NULL && atoi(s) > 0)
		timeout = (unsigned)atoi(s);
	signal(SIGALRM, harness_signal_cb);
	signal(SIGINT, harness_signal_cb);
	signal(SIGTERM, harness_signal_cb);
	signal(SIGHUP, harness_signal_cb);
	signal(SIGPIPE, SIG_IGN);
	alarm(timeout);
	atexit(harness_atexit);

	if ((url = getenv("AMQP_URL")) != NULL && *url != '\0') {
		harness_parse_url(url);
		s = getenv("AMQP_IS_WARREN");
		broker.is_warren = (s != NULL && strcmp(s, "1") == 0);
		return (&broker);
	}

	for (i = 0; i < HARNESS_START_TRIES; i++) {
		port = harness_free_port();
		if (harness_spawn(port) == 0) {
			snprintf(broker.host, sizeof broker.host, "127.0.0.1");
			broker.port = port;
			snprintf(broker.user, sizeof broker.user, "guest");
			snprintf(broker.password, sizeof broker.password,
			    "guest");
			snprintf(broker.vhost, sizeof broker.vhost, "/");
			broker.is_warren = 1;
			return (&broker);
		}
	}
	fprintf(stderr, "ERROR: %s: could not start %s\n", test_name,
	    getenv("WARREND") != NULL ? getenv("WARREND") : "warrend");
	exit(HARNESS_ERROR);
}

/*
 * Stop the broker we started and say whether the test passed: a broker that
 * died, crashed or exited non-zero (BROKER_WRAPPER="valgrind
 * --error-exitcode=99") fails the test.  Returns the exit status for main.
 */
int
harness_done(void)
{
	char	 problem[256];
	int	 rc = 0;

	alarm(0);
	if (harness_stop_broker(problem, sizeof problem) != 0) {
		fprintf(stderr, "FAIL: %s: broker %s\n", test_name, problem);
		harness_log_tail();
		rc = 1;
	}
	harness_remove_datadir();
	if (rc == 0)
		printf("PASS: %s\n", test_name);
	return (rc);
}

/* Whether the broker is Warren, for the few places it differs on purpose. */
int
harness_is_warren(void)
{
	return (broker.is_warren);
}

/* Format into a static buffer (for HARNESS_ASSERT messages). */
const char *
harness_format(const char *fmt, ...)
{
	static char	 buf[1024];
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return (buf);
}

/* Report a failure, show the broker's log, stop it and exit 1. */
void
harness_fail(const char *fmt, ...)
{
	char	 problem[256];
	va_list	 ap;
	int	 status;

	alarm(0);
	fflush(stdout);
	fprintf(stderr, "FAIL: %s: ", test_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (broker.pid > 0 && waitpid(broker.pid, &status, WNOHANG) ==
	    broker.pid) {
		broker.pid = -1;
		if (WIFSIGNALED(status))
			fprintf(stderr, "FAIL: broker died: signal %d\n",
			    WTERMSIG(status));
		else
			fprintf(stderr, "FAIL: broker died: exit %d\n",
			    WEXITSTATUS(status));
	}
	harness_log_tail();
	harness_stop_broker(problem, sizeof problem);
	harness_remove_datadir();
	exit(1);
}

/* Report that the test cannot run here and exit 77 (automake SKIP). */
void
harness_skip(const char *fmt, ...)
{
	char	 problem[256];
	va_list	 ap;

	alarm(0);
	printf("SKIP: %s: ", test_name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	harness_stop_broker(problem, sizeof problem);
	harness_remove_datadir();
	exit(HARNESS_SKIP);
}

/* A progress line in the test's log. */
void
harness_log(const char *fmt, ...)
{
	va_list	 ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* Milliseconds on a clock that never goes back. */
int64_t
harness_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Connect and log in with frame_max 131072, no heartbeat; open channel 1. */
amqp_connection_state_t
harness_connect(void)
{
	amqp_connection_state_t	 conn;

	conn = harness_connect_tuned(0, 131072, 0);
	harness_channel_open(conn, 1);
	return (conn);
}

/*
 * Connect and log in proposing these tune values (rabbitmq-c takes the
 * smaller of its own and the server's); no channel is opened.  Every
 * handshake step and later RPC times out after HARNESS_OP_TIMEOUT.
 */
amqp_connection_state_t
harness_connect_tuned(int channel_max, int frame_max, int heartbeat)
{
	amqp_connection_state_t	 conn;
	amqp_socket_t		*sock;
	struct timeval		 tv = harness_tv(HARNESS_OP_TIMEOUT);
	int			 status;

	if (!started)
		harness_fail("harness_start() was not called");
	if ((conn = amqp_new_connection()) == NULL)
		harness_fail("amqp_new_connection failed");
	if ((sock = amqp_tcp_socket_new(conn)) == NULL)
		harness_fail("amqp_tcp_socket_new failed");
	status = amqp_socket_open_noblock(sock, broker.host, broker.port, &tv);
	if (status != AMQP_STATUS_OK)
		harness_fail("connect to %s:%d: %s", broker.host, broker.port,
		    amqp_error_string2(status));
	if (amqp_set_handshake_timeout(conn, &tv) != AMQP_STATUS_OK ||
	    amqp_set_rpc_timeout(conn, &tv) != AMQP_STATUS_OK)
		harness_fail("cannot set rabbitmq-c timeouts");
	harness_ok(amqp_login(conn, broker.vhost, channel_max, frame_max,
	    heartbeat, AMQP_SASL_METHOD_PLAIN, broker.user, broker.password),
	    "login");
	return (conn);
}

/* Close the connection cleanly (connection.close, close-ok) and free it. */
void
harness_close(amqp_connection_state_t conn)
{
	harness_ok(amqp_connection_close(conn, AMQP_REPLY_SUCCESS),
	    "connection.close");
	amqp_destroy_connection(conn);
}

/* Open a channel or fail. */
void
harness_channel_open(amqp_connection_state_t conn, amqp_channel_t ch)
{
	amqp_channel_open(conn, ch);
	harness_rpc_ok(conn, harness_format("channel.open %u", ch));
}

/* Close a channel or fail. */
void
harness_channel_close(amqp_connection_state_t conn, amqp_channel_t ch)
{
	harness_ok(amqp_channel_close(conn, ch, AMQP_REPLY_SUCCESS),
	    harness_format("channel.close %u", ch));
}

/* Describe a reply for a failure message (static buffer). */
const char *
harness_reply_string(amqp_rpc_reply_t r)
{
	static char	 buf[1024];

	switch (r.reply_type) {
	case AMQP_RESPONSE_NORMAL:
		return ("normal reply");
	case AMQP_RESPONSE_NONE:
		return ("no reply (missing RPC reply type)");
	case AMQP_RESPONSE_LIBRARY_EXCEPTION:
		snprintf(buf, sizeof buf, "library error: %s",
		    amqp_error_string2(r.library_error));
		return (buf);
	case AMQP_RESPONSE_SERVER_EXCEPTION:
		return (harness_close_string(&r.reply));
	}
	snprintf(buf, sizeof buf, "reply type %d", (int)r.reply_type);
	return (buf);
}

/* Fail unless r is a normal reply; what names the operation. */
void
harness_ok(amqp_rpc_reply_t r, const char *what)
{
	if (r.reply_type != AMQP_RESPONSE_NORMAL)
		harness_fail("%s: %s", what, harness_reply_string(r));
}

/* Fail unless the last synchronous method on conn got its normal reply. */
void
harness_rpc_ok(amqp_connection_state_t conn, const char *what)
{
	harness_ok(amqp_get_rpc_reply(conn), what);
}

/* Fail unless a rabbitmq-c status (amqp_basic_publish, ...) is OK. */
void
harness_status_ok(int status, const char *what)
{
	if (status != AMQP_STATUS_OK)
		harness_fail("%s: %s", what, amqp_error_string2(status));
}

/*
 * Expect r to be the server closing channel ch with this reply code, for the
 * method with this id (AMQP_METHOD_ID form; 0: any) and reply text (NULL:
 * any; ending in '*': a prefix); then answer channel.close-ok so ch may be
 * opened again.
 */
void
harness_expect_channel_close(amqp_connection_state_t conn, amqp_channel_t ch,
    amqp_rpc_reply_t r, uint16_t code, uint32_t method, const char *text)
{
	amqp_channel_close_t	*c;
	amqp_channel_close_ok_t	 ok;

	if (r.reply_type != AMQP_RESPONSE_SERVER_EXCEPTION ||
	    r.reply.id != AMQP_CHANNEL_CLOSE_METHOD)
		harness_fail("expected channel.close %u on channel %u, got %s",
		    code, ch, harness_reply_string(r));
	c = r.reply.decoded;
	harness_check_close("channel.close", code, method, c->reply_text,
	    c->reply_code, AMQP_METHOD_ID(c->class_id, c->method_id), text);
	memset(&ok, 0, sizeof ok);
	harness_status_ok(amqp_send_method(conn, ch,
	    AMQP_CHANNEL_CLOSE_OK_METHOD, &ok), "send channel.close-ok");
}

/*
 * Expect r to be the server closing the connection with this reply code,
 * method (0: any) and text (NULL: any); answer close-ok and free conn.
 */
void
harness_expect_connection_close(amqp_connection_state_t conn,
    amqp_rpc_reply_t r, uint16_t code, uint32_t method, const char *text)
{
	amqp_connection_close_t		*c;
	amqp_connection_close_ok_t	 ok;

	if (r.reply_type != AMQP_RESPONSE_SERVER_EXCEPTION ||
	    r.reply.id != AMQP_CONNECTION_CLOSE_METHOD)
		harness_fail("expected connection.close %u, got %s", code,
		    harness_reply_string(r));
	c = r.reply.decoded;
	harness_check_close("connection.close", code, method, c->reply_text,
	    c->reply_code, AMQP_METHOD_ID(c->class_id, c->method_id), text);
	memset(&ok, 0, sizeof ok);
	harness_status_ok(amqp_send_method(conn, 0,
	    AMQP_CONNECTION_CLOSE_OK_METHOD, &ok), "send connection.close-ok");
	amqp_destroy_connection(conn);
}

/*
 * Read frames until the server closes channel ch (an asynchronous error,
 * such as a publish to a missing exchange), then check it as
 * harness_expect_channel_close() does.  Other frames on the way are skipped;
 * a connection.close or no close within HARNESS_OP_TIMEOUT fails.
 */
void
harness_wait_channel_close(amqp_connection_state_t conn, amqp_channel_t ch,
    uint16_t code, uint32_t method, const char *text)
{
	amqp_frame_t	 f;
	amqp_rpc_reply_t r;
	int64_t		 deadline = harness_now_ms() + HARNESS_OP_TIMEOUT;
	int64_t		 left;

	for (;;) {
		if ((left = deadline - harness_now_ms()) <= 0 ||
		    !harness_wait_frame(conn, &f, (int)left))
			harness_fail("no channel.close %u on channel %u within "
			    "%d ms", code, ch, HARNESS_OP_TIMEOUT);
		if (f.frame_type != AMQP_FRAME_METHOD)
			continue;
		if (f.channel == 0 &&
		    f.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD)
			harness_fail("expected channel.close %u, got %s", code,
			    harness_close_string(&f.payload.method));
		if (f.channel != ch ||
		    f.payload.method.id != AMQP_CHANNEL_CLOSE_METHOD)
			continue;
		memset(&r, 0, sizeof r);
		r.reply_type = AMQP_RESPONSE_SERVER_EXCEPTION;
		r.reply = f.payload.method;
		harness_expect_channel_close(conn, ch, r, code, method, text);
		return;
	}
}

/*
 * Wait up to timeout_ms for the next frame.  Returns 1 with the frame, 0 on
 * timeout; any other error (the socket closed) fails.  The frame's decoded
 * memory lives until the next amqp_maybe_release_buffers().
 */
int
harness_wait_frame(amqp_connection_state_t conn, amqp_frame_t *f,
    int timeout_ms)
{
	struct timeval	 tv = harness_tv(timeout_ms);
	int		 status;

	status = amqp_simple_wait_frame_noblock(conn, f, &tv);
	if (status == AMQP_STATUS_TIMEOUT)
		return (0);
	if (status != AMQP_STATUS_OK)
		harness_fail("waiting for a frame: %s",
		    amqp_error_string2(status));
	return (1);
}

/*
 * Wait up to timeout_ms for a delivery.  Returns 1 with the envelope filled
 * (free it with amqp_destroy_envelope), 0 on timeout.  Any other frame
 * (a channel.close, a basic.cancel from the server) fails the test with a
 * description of it.
 */
int
harness_consume(amqp_connection_state_t conn, amqp_envelope_t *env,
    int timeout_ms)
{
	struct timeval		 tv = harness_tv(timeout_ms);
	amqp_rpc_reply_t	 r;
	amqp_frame_t		 f;

	amqp_maybe_release_buffers(conn);
	r = amqp_consume_message(conn, env, &tv, 0);
	if (r.reply_type == AMQP_RESPONSE_NORMAL)
		return (1);
	if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
	    r.library_error == AMQP_STATUS_TIMEOUT)
		return (0);
	if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
	    r.library_error == AMQP_STATUS_UNEXPECTED_STATE &&
	    harness_wait_frame(conn, &f, HARNESS_OP_TIMEOUT)) {
		if (f.frame_type != AMQP_FRAME_METHOD)
			harness_fail("waiting for a delivery: frame type %u "
			    "on channel %u", f.frame_type, f.channel);
		harness_fail("waiting for a delivery: %s on channel %u",
		    harness_close_string(&f.payload.method), f.channel);
	}
	harness_fail("waiting for a delivery: %s", harness_reply_string(r));
}

/*
 * Expect silence: fail if any frame arrives within ms.  Only a grace period
 * can show that something does not happen; callers keep it short.
 */
void
harness_drain_none(amqp_connection_state_t conn, int ms, const char *what)
{
	amqp_frame_t	 f;

	if (harness_wait_frame(conn, &f, ms)) {
		if (f.frame_type == AMQP_FRAME_METHOD)
			harness_fail("%s: unexpected %s on channel %u", what,
			    harness_close_string(&f.payload.method),
			    f.channel);
		harness_fail("%s: unexpected frame type %u on channel %u",
		    what, f.frame_type, f.channel);
	}
}

/*
 * Poll a passive queue.declare on ch until the queue holds count ready
 * messages; fail after HARNESS_OP_TIMEOUT.  Polling is needed because a
 * publish and a later declare on the same channel are not ordered in
 * RabbitMQ: the publish reaches the queue asynchronously.
 */
uint32_t
harness_wait_message_count(amqp_connection_state_t conn, amqp_channel_t ch,
    const char *queue, uint32_t count)
{
	amqp_queue_declare_ok_t	*ok;
	int64_t			 deadline;
	uint32_t		 got;

	deadline = harness_now_ms() + HARNESS_OP_TIMEOUT;
	for (;;) {
		ok = amqp_queue_declare(conn, ch, amqp_cstring_bytes(queue), 1,
		    0, 0, 0, amqp_empty_table);
		harness_rpc_ok(conn, harness_format("passive declare of '%s'",
		    queue));
		if ((got = ok->message_count) == count)
			return (got);
		if (harness_now_ms() >= deadline)
			harness_fail("queue '%s' holds %u messages, expected "
			    "%u within %d ms", queue, got, count,
			    HARNESS_OP_TIMEOUT);
		harness_msleep(10);
	}
}

/* A queue or exchange name no other run uses; the caller frees it. */
char *
harness_unique(const char *prefix)
{
	static unsigned	 n;
	struct timeval	 tv;
	char		*s;

	gettimeofday(&tv, NULL);
	if (asprintf(&s, "%s-%ld-%u-%ld%06ld", prefix, (long)getpid(), ++n,
	    (long)tv.tv_sec % 100000, (long)tv.tv_usec) == -1)
		harness_fail("out of memory");
	return (s);
}

/* Whether two byte strings are equal. */
int
harness_bytes_eq(amqp_bytes_t a, amqp_bytes_t b)
{
	if (a.len != b.len)
		return (0);
	return (a.len == 0 || memcmp(a.bytes, b.bytes, a.len) == 0);
}

/* Whether a byte string equals a C string. */
int
harness_bytes_eq_str(amqp_bytes_t a, const char *s)
{
	return (harness_bytes_eq(a, amqp_cstring_bytes(s)));
}

/*
 * The end of the road for SIGALRM (the test hung) and SIGINT/SIGTERM/SIGHUP
 * (interrupted): only async-signal-safe calls, so the log tail is read with
 * read(2) and the directory removed by rm(1).
 */
static void
harness_signal_cb(int sig)
{
	static const char	 hung[] = "FAIL: test timed out (hang?)\n";
	static const char	 intr[] = "FAIL: test interrupted\n";
	char			 buf[HARNESS_LOG_TAIL];
	ssize_t			 n;
	off_t			 size;
	pid_t			 pid;
	int			 fd;

	if (sig == SIGALRM)
		n = write(2, hung, sizeof hung - 1);
	else
		n = write(2, intr, sizeof intr - 1);
	if (broker.pid > 0) {
		kill(broker.pid, SIGKILL);
		waitpid(broker.pid, NULL, 0);
	}
	if (log_path[0] != '\0' && (fd = open(log_path, O_RDONLY)) != -1) {
		size = lseek(fd, 0, SEEK_END);
		lseek(fd, size > (off_t)sizeof buf ? size - (off_t)sizeof buf :
		    0, SEEK_SET);
		while ((n = read(fd, buf, sizeof buf)) > 0)
			n = write(2, buf, (size_t)n);
		close(fd);
	}
	if (broker.datadir[0] != '\0' && (pid = fork()) != -1) {
		if (pid == 0) {
			execv("/bin/rm", rm_argv);
			_exit(127);
		}
		waitpid(pid, NULL, 0);
	}
	(void)n;
	_exit(1);
}

/* Print the end of warrend.log, when we started warrend. */
static void
harness_log_tail(void)
{
	char	 buf[HARNESS_LOG_TAIL + 1];
	char	*line, *next;
	FILE	*f;
	size_t	 n;
	long	 size;

	if (log_path[0] == '\0' || (f = fopen(log_path, "r")) == NULL)
		return;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, size > HARNESS_LOG_TAIL ? size - HARNESS_LOG_TAIL : 0,
	    SEEK_SET);
	n = fread(buf, 1, HARNESS_LOG_TAIL, f);
	buf[n] = '\0';
	fclose(f);
	fprintf(stderr, "# last lines of %s:\n", log_path);
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		fprintf(stderr, "# warrend: %s\n", line);
	}
}

/*
 * SIGTERM the broker we started and wait for it with a deadline.  Returns 0
 * if it exited cleanly (status 0, or killed by that SIGTERM) or was never
 * ours, else -1 with the problem described in why.
 */
static int
harness_stop_broker(char *why, size_t len)
{
	int64_t	 deadline;
	pid_t	 pid = broker.pid;
	int	 status;

	if (pid <= 0)
		return (0);
	broker.pid = -1;
	if (waitpid(pid, &status, WNOHANG) == pid) {
		snprintf(why, len, "exited during the test (%s %d)",
		    WIFSIGNALED(status) ? "signal" : "status",
		    WIFSIGNALED(status) ? WTERMSIG(status) :
		    WEXITSTATUS(status));
		return (-1);
	}
	kill(pid, SIGTERM);
	deadline = harness_now_ms() + HARNESS_STOP_TIMEOUT;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (harness_now_ms() >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			snprintf(why, len, "did not exit within %d ms of "
			    "SIGTERM", HARNESS_STOP_TIMEOUT);
			return (-1);
		}
		harness_msleep(10);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		snprintf(why, len, "exited with status %d after SIGTERM",
		    WEXITSTATUS(status));
		return (-1);
	}
	if (WIFSIGNALED(status) && WTERMSIG(status) != SIGTERM) {
		snprintf(why, len, "died of signal %d after SIGTERM",
		    WTERMSIG(status));
		return (-1);
	}
	return (0);
}

/* nftw callback: remove one entry, children first. */
static int
harness_remove_cb(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return (0);
}

/* Remove the data directory we created, if any. */
static void
harness_remove_datadir(void)
{
	if (broker.datadir[0] == '\0')
		return;
	nftw(broker.datadir, harness_remove_cb, 16, FTW_DEPTH | FTW_PHYS);
	broker.datadir[0] = '\0';
	log_path[0] = '\0';
}

/* Last resort on any exit path: never leave a broker or directory behind. */
static void
harness_atexit(void)
{
	char	 problem[256];

	harness_stop_broker(problem, sizeof problem);
	harness_remove_datadir();
}

/* A loopback port nobody listens on right now. */
static int
harness_free_port(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;
	int			 fd, port;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1) {
		perror("socket");
		exit(HARNESS_ERROR);
	}
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		perror("bind");
		exit(HARNESS_ERROR);
	}
	port = ntohs(sin.sin_port);
	close(fd);
	return (port);
}

/* Whether something accepts TCP connections on host:port. */
static int
harness_port_open(const char *host, int port)
{
	struct sockaddr_in	 sin;
	int			 fd, ok;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return (0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, host, &sin.sin_addr);
	ok = connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0;
	close(fd);
	return (ok);
}

/*
 * Start [BROKER_WRAPPER] $WARREND --listen 127.0.0.1:port --data-dir DIR
 * --log-level LEVEL with output in DIR/warrend.log, and poll until it
 * accepts connections.  Returns 0 when it does, -1 (everything cleaned up)
 * when it exits or the deadline passes.
 */
static int
harness_spawn(int port)
{
	const char	*warrend, *wrapper, *level, *tmp;
	char		*argv[64], *words, *w, addr[64];
	int64_t		 deadline;
	pid_t		 pid;
	int		 argc = 0, fd, status;

	if ((warrend = getenv("WARREND")) == NULL || *warrend == '\0')
		warrend = "warrend";
	if ((level = getenv("WARREN_LOG_LEVEL")) == NULL || *level == '\0')
		level = "info";
	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(broker.datadir, sizeof broker.datadir, "%s/warren-conf-XXXXXX",
	    tmp);
	if (mkdtemp(broker.datadir) == NULL) {
		perror(broker.datadir);
		exit(HARNESS_ERROR);
	}
	snprintf(log_path, sizeof log_path, "%s/warrend.log", broker.datadir);
	snprintf(addr, sizeof addr, "127.0.0.1:%d", port);

	words = strdup((wrapper = getenv("BROKER_WRAPPER")) != NULL ?
	    wrapper : "");
	for (w = strtok(words, " \t\n"); w != NULL && argc < 50;
	    w = strtok(NULL, " \t\n"))
		argv[argc++] = w;
	argv[argc++] = (char *)warrend;
	argv[argc++] = "--listen";
	argv[argc++] = addr;
	argv[argc++] = "--data-dir";
	argv[argc++] = broker.datadir;
	argv[argc++] = "--log-level";
	argv[argc++] = (char *)level;
	argv[argc] = NULL;

	fflush(NULL);
	if ((pid = fork()) == -1) {
		perror("fork");
		exit(HARNESS_ERROR);
	}
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		if ((fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) !=
		    -1) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		if ((fd = open("/dev/null", O_RDONLY)) != -1) {
			dup2(fd, 0);
			close(fd);
		}
		execvp(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	free(words);
	broker.pid = pid;

	deadline = harness_now_ms() + HARNESS_START_TIMEOUT;
	while (harness_now_ms() < deadline) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			broker.pid = -1;
			break;
		}
		if (harness_port_open("127.0.0.1", port))
			return (0);
		harness_msleep(20);
	}
	if (broker.pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		broker.pid = -1;
	}
	fprintf(stderr, "# %s did not start on port %d\n", warrend, port);
	harness_log_tail();
	harness_remove_datadir();
	return (-1);
}

/* Fill broker from amqp://user:pass@host:port/vhost ("/" when empty). */
static void
harness_parse_url(const char *url)
{
	struct amqp_connection_info	 info;
	char				*copy = strdup(url);

	amqp_default_connection_info(&info);
	if (amqp_parse_url(copy, &info) != AMQP_STATUS_OK) {
		fprintf(stderr, "ERROR: cannot parse AMQP_URL '%s'\n", url);
		exit(HARNESS_ERROR);
	}
	if (info.ssl) {
		fprintf(stderr, "ERROR: amqps:// URLs are not supported\n");
		exit(HARNESS_ERROR);
	}
	snprintf(broker.host, sizeof broker.host, "%s", info.host);
	broker.port = info.port;
	snprintf(broker.user, sizeof broker.user, "%s", info.user);
	snprintf(broker.password, sizeof broker.password, "%s", info.password);
	snprintf(broker.vhost, sizeof broker.vhost, "%s",
	    *info.vhost != '\0' ? info.vhost : "/");
	free(copy);
}

/* Pause between polls of a condition that has its own deadline. */
static void
harness_msleep(int ms)
{
	struct timespec	 ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* A timeval of ms milliseconds. */
static struct timeval
harness_tv(int ms)
{
	struct timeval	 tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return (tv);
}

/* Describe a method; for a close, its code, text and failing method. */
static const char *
harness_close_string(const amqp_method_t *m)
{
	static char			 buf[1024];
	const amqp_channel_close_t	*cc;
	const amqp_connection_close_t	*kc;

	if (m->id == AMQP_CHANNEL_CLOSE_METHOD) {
		cc = m->decoded;
		snprintf(buf, sizeof buf, "channel.close %u '%.*s' (for %s)",
		    cc->reply_code, (int)cc->reply_text.len,
		    (const char *)cc->reply_text.bytes,
		    amqp_method_name(AMQP_METHOD_ID(cc->class_id,
		    cc->method_id)));
	} else if (m->id == AMQP_CONNECTION_CLOSE_METHOD) {
		kc = m->decoded;
		snprintf(buf, sizeof buf, "connection.close %u '%.*s' (for %s)",
		    kc->reply_code, (int)kc->reply_text.len,
		    (const char *)kc->reply_text.bytes,
		    amqp_method_name(AMQP_METHOD_ID(kc->class_id,
		    kc->method_id)));
	} else
		snprintf(buf, sizeof buf, "%s", amqp_method_name(m->id));
	return (buf);
}

/* Whether text equals want, or starts with it when want ends in '*'. */
static int
harness_text_matches(amqp_bytes_t text, const char *want)
{
	size_t	 n = strlen(want);

	if (n > 0 && want[n - 1] == '*')
		return (text.len >= n - 1 && memcmp(text.bytes, want, n - 1) ==
		    0);
	return (harness_bytes_eq_str(text, want));
}

/* Compare a received close with the expected one, failing on a mismatch. */
static void
harness_check_close(const char *kind, uint16_t code, uint32_t method,
    amqp_bytes_t got_text, uint16_t got_code, uint32_t got_method,
    const char *text)
{
	if (got_code != code)
		harness_fail("%s: expected code %u, got %u '%.*s'", kind, code,
		    got_code, (int)got_text.len, (const char *)got_text.bytes);
	if (method != 0 && got_method != method)
		harness_fail("%s %u: expected it to name %s, got %s (%u.%u)",
		    kind, code, amqp_method_name(method),
		    amqp_method_name(got_method), AMQP_METHOD_CLASS(got_method),
		    AMQP_METHOD_INDEX(got_method));
	if (text != NULL && !harness_text_matches(got_text, text))
		harness_fail("%s %u: expected text '%s', got '%.*s'", kind,
		    code, text, (int)got_text.len,
		    (const char *)got_text.bytes);
	harness_log("%s %u '%.*s' as expected", kind, got_code,
	    (int)got_text.len, (const char *)got_text.bytes);
}
