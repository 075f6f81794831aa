/*
 * check_topic.c: the exchange types.  The topic trie is checked against
 * exchange_topic_match() (itself checked against a naive backtracking
 * matcher) over generated patterns and keys; then the direct hash, the
 * fanout list and the headers matcher with RabbitMQ's rules.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>
#include <event2/buffer.h>

#include "amqp_defs.h"
#include "broker.h"
#include "exchange.h"
#include "wire.h"

/* Emitted bindings, counted by their index in one array. */
struct collect {
	struct binding	*base;
	size_t		 n;
	unsigned	*hits;
	size_t		 total;
};

/* A field table being built. */
struct tbl {
	struct evbuffer		*eb;
	struct field_table	 t;
};

static uint64_t	check_rng_state;

/* xorshift64*: reproducible across libcs, unlike rand(). */
static uint32_t
check_rng(void)
{
	check_rng_state ^= check_rng_state >> 12;
	check_rng_state ^= check_rng_state << 25;
	check_rng_state ^= check_rng_state >> 27;
	return ((uint32_t)((check_rng_state * 2685821657736338717ULL) >> 32));
}

/* Count one emitted binding. */
static void
check_collect_cb(struct binding *b, void *arg)
{
	struct collect	*c = arg;

	if (b < c->base || b >= c->base + c->n)
		ck_abort_msg("emitted a binding not in the test's array");
	c->hits[b - c->base]++;
	c->total++;
}

/* Start collecting for n bindings at base. */
static void
check_collect_init(struct collect *c, struct binding *base, size_t n)
{
	c->base = base;
	c->n = n;
	c->hits = xcalloc(n + 1, sizeof *c->hits);
	c->total = 0;
}

/* Forget what was collected. */
static void
check_collect_reset(struct collect *c)
{
	memset(c->hits, 0, (c->n + 1) * sizeof *c->hits);
	c->total = 0;
}

/* Fill in b as exchange.c would: key copied, args copied into args_buf. */
static void
check_binding_init(struct binding *b, const char *key,
    const struct field_table *args)
{
	memset(b, 0, sizeof *b);
	b->keylen = strlen(key);
	b->key = xstrndup(key, b->keylen);
	if (args != NULL && args->len > 0) {
		b->args_buf = xmalloc(args->len);
		memcpy(b->args_buf, args->p, args->len);
		b->args.p = b->args_buf;
		b->args.len = args->len;
	}
}

/* Free what check_binding_init allocated. */
static void
check_binding_clear(struct binding *b)
{
	free(b->key);
	free(b->args_buf);
	b->key = NULL;
	b->args_buf = NULL;
}

/* Route key through a type and collect. */
static void
check_route(const struct exchange_type *type, void *x, const char *key,
    const struct field_table *headers, struct collect *c)
{
	check_collect_reset(c);
	type->route(x, key, strlen(key), headers, check_collect_cb, c);
}

/*
 * Naive backtracking matcher over word arrays: exponential in the worst
 * case, so only for short inputs; an independent check of the oracle.
 */
static int
check_naive(char **p, int np, char **k, int nk)
{
	int	i;

	if (np == 0)
		return (nk == 0);
	if (strcmp(p[0], "#") == 0) {
		for (i = 0; i <= nk; i++) {
			if (check_naive(p + 1, np - 1, k + i, nk - i))
				return (1);
		}
		return (0);
	}
	if (nk == 0)
		return (0);
	if (strcmp(p[0], "*") != 0 && strcmp(p[0], k[0]) != 0)
		return (0);
	return (check_naive(p + 1, np - 1, k + 1, nk - 1));
}

/* Split s at dots into words (none for ""), for check_naive. */
static int
check_words(const char *s, char **w, int max)
{
	const char	*dot;
	int		 n = 0;

	if (*s == '\0')
		return (0);
	for (;;) {
		if (n >= max)
			ck_abort_msg("too many words in '%s'", s);
		dot = strchr(s, '.');
		w[n++] = dot != NULL ? strndup(s, dot - s) : strdup(s);
		if (dot == NULL)
			return (n);
		s = dot + 1;
	}
}

/* Free words from check_words. */
static void
check_words_free(char **w, int n)
{
	while (n-- > 0)
		free(w[n]);
}

/* A random dot-joined string of 0..maxw words from the alphabet. */
static void
check_random_key(char *buf, size_t size, int maxw, const char **alpha,
    int nalpha)
{
	const char	*w;
	size_t		 len = 0, wl;
	int		 n, i;

	n = (int)(check_rng() % (unsigned)(maxw + 1));
	for (i = 0; i < n; i++) {
		w = alpha[check_rng() % (unsigned)nalpha];
		wl = strlen(w);
		if (len + wl + 1 >= size)
			ck_abort_msg("random key too long");
		if (i > 0)
			buf[len++] = '.';
		memcpy(buf + len, w, wl);
		len += wl;
	}
	buf[len] = '\0';
}

/* One pattern against one key, through both the oracle and a trie. */
static int
check_topic_one(const char *pattern, const char *key)
{
	struct binding	b;
	struct collect	c;
	void		*x;
	int		 oracle, trie;

	oracle = exchange_topic_match(pattern, strlen(pattern), key,
	    strlen(key));
	x = exchange_type_topic.create();
	check_binding_init(&b, pattern, NULL);
	exchange_type_topic.bind(x, &b);
	check_collect_init(&c, &b, 1);
	check_route(&exchange_type_topic, x, key, NULL, &c);
	trie = c.hits[0] > 0;
	ck_assert_uint_le(c.hits[0], 1);
	ck_assert_msg(oracle == trie, "pattern '%s' key '%s': oracle %d, "
	    "trie %d", pattern, key, oracle, trie);
	exchange_type_topic.unbind(x, &b);
	ck_assert_uint_eq(exchange_topic_nodes(x), 0);
	exchange_type_topic.destroy(x);
	check_binding_clear(&b);
	free(c.hits);
	return (oracle);
}

START_TEST(test_topic_edge_cases)
{
	static const struct {
		const char	*pattern;
		const char	*key;
		int		 match;
	} cases[] = {
		{ "#", "", 1 },
		{ "#", "a", 1 },
		{ "#", "a.b.c", 1 },
		{ "#", ".", 1 },
		{ "#", "*", 1 },
		{ "#.#", "", 1 },
		{ "#.#", "a", 1 },
		{ "#.#", "a.b", 1 },
		{ "#.#.#", "a.b.c.d", 1 },
		{ "*.#", "", 0 },
		{ "*.#", "a", 1 },
		{ "*.#", "a.b.c", 1 },
		{ "#.*", "", 0 },
		{ "#.*", "a.b", 1 },
		{ "#.*.#", "a", 1 },
		{ "a.#.b", "a.b", 1 },
		{ "a.#.b", "a.x.b", 1 },
		{ "a.#.b", "a.x.y.b", 1 },
		{ "a.#.b", "a..b", 1 },
		{ "a.#.b", "a.b.c", 0 },
		{ "a.#.b", "b", 0 },
		{ "a.#.b", "a.b.b", 1 },
		{ "a.#.#.b", "a.b", 1 },
		{ "#.a.#", "a", 1 },
		{ "#.a.#", "x.a.y", 1 },
		{ "#.a.#", "a.a", 1 },
		{ "#.a.#", "x.y", 0 },
		{ "#.a.#", "", 0 },
		{ "a.#", "a", 1 },
		{ "a.#", "a.", 1 },
		{ "a.#", "b.a", 0 },
		{ "#.a", "a", 1 },
		{ "#.a", "b.b.a", 1 },
		{ "#.a", "a.b", 0 },
		/* The empty key has no words (RabbitMQ's split_topic_key). */
		{ "", "", 1 },
		{ "", "a", 0 },
		{ "", ".", 0 },
		{ "*", "", 0 },
		{ "*", "a", 1 },
		{ "*", ".", 0 },
		{ "*.*", ".", 1 },
		{ ".", ".", 1 },
		{ ".", "", 0 },
		{ "a..b", "a..b", 1 },
		{ "a.*.b", "a..b", 1 },
		{ "a.b", "a..b", 0 },
		{ "a..b", "a.b", 0 },
		{ "a.*", "a.", 1 },
		{ "a.*", "a", 0 },
		{ "a.", "a.", 1 },
		{ "a.", "a", 0 },
		/* Key words are literal: "*" and "#" in a key match nothing
		   special. */
		{ "a.*", "a.#", 1 },
		{ "a.b", "a.*", 0 },
		{ "a.*", "a.*", 1 },
		{ "a.#", "a.#.b", 1 },
		/* Wildcards only as whole words. */
		{ "a*", "ab", 0 },
		{ "a#", "a", 0 },
		{ "a#", "a#", 1 },
		{ "*a", "*a", 1 },
		{ "stock.*.nyse", "stock.ibm.nyse", 1 },
		{ "stock.*.nyse", "stock.ibm.nasdaq", 0 },
		{ "stock.#", "stock", 1 },
	};
	size_t	i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ck_assert_msg(check_topic_one(cases[i].pattern, cases[i].key) ==
		    cases[i].match, "pattern '%s' key '%s': expected %d",
		    cases[i].pattern, cases[i].key, cases[i].match);
	}
}
END_TEST

/* The oracle agrees with the naive matcher on random short inputs. */
START_TEST(test_topic_oracle_vs_naive)
{
	static const char	*palpha[] = { "a", "b", "", "*", "#" };
	static const char	*kalpha[] = { "a", "b", "", "*", "#" };
	char			 pat[64], key[64], *pw[16], *kw[16];
	int			 i, np, nk, naive, oracle, matches = 0;

	check_rng_state = 0x5eed0001;
	for (i = 0; i < 20000; i++) {
		check_random_key(pat, sizeof pat, 6, palpha, 5);
		check_random_key(key, sizeof key, 6, kalpha, 5);
		np = check_words(pat, pw, 16);
		nk = check_words(key, kw, 16);
		naive = check_naive(pw, np, kw, nk);
		oracle = exchange_topic_match(pat, strlen(pat), key,
		    strlen(key));
		if (naive != oracle)
			ck_abort_msg("pattern '%s' key '%s': naive %d, "
			    "oracle %d", pat, key, naive, oracle);
		matches += naive;
		check_words_free(pw, np);
		check_words_free(kw, nk);
	}
	/* Both outcomes must be well represented for this to mean much. */
	ck_assert_int_gt(matches, 2000);
	ck_assert_int_lt(matches, 18000);
}
END_TEST

/* Check every key of a batch against every live binding of the trie. */
static void
check_topic_against_oracle(void *x, struct binding *bs, const int *live,
    size_t nb, struct collect *c, int nkeys)
{
	static const char	*kalpha[] = { "a", "b", "c", "", "*", "#" };
	char			 key[128];
	size_t			 j, expected;
	int			 i, m;

	for (i = 0; i < nkeys; i++) {
		check_random_key(key, sizeof key, 7, kalpha, 6);
		check_route(&exchange_type_topic, x, key, NULL, c);
		expected = 0;
		for (j = 0; j < nb; j++) {
			m = live[j] && exchange_topic_match(bs[j].key,
			    bs[j].keylen, key, strlen(key));
			/* Each binding is emitted at most once. */
			if (c->hits[j] != (unsigned)m)
				ck_abort_msg("key '%s' pattern '%s' (live %d): "
				    "trie %u, oracle %d", key, bs[j].key,
				    live[j], c->hits[j], m);
			expected += m;
		}
		ck_assert_uint_eq(c->total, expected);
	}
}

/* Many random patterns in one trie, routed, unbound, rebound. */
START_TEST(test_topic_random_trie)
{
	static const char	*palpha[] = { "a", "b", "c", "", "*", "#" };
	enum { NB = 400 };
	struct binding		*bs;
	struct collect		 c;
	char			 pat[128];
	int			 live[NB];
	void			*x;
	size_t			 i, nodes;

	check_rng_state = 0x5eed0002;
	bs = xcalloc(NB, sizeof *bs);
	x = exchange_type_topic.create();
	for (i = 0; i < NB; i++) {
		check_random_key(pat, sizeof pat, 6, palpha, 6);
		check_binding_init(&bs[i], pat, NULL);
		exchange_type_topic.bind(x, &bs[i]);
		live[i] = 1;
	}
	check_collect_init(&c, bs, NB);
	check_topic_against_oracle(x, bs, live, NB, &c, 3000);
	nodes = exchange_topic_nodes(x);
	ck_assert_uint_gt(nodes, 0);
	/* Identical patterns share nodes, so there are fewer than words. */
	ck_assert_uint_lt(nodes, NB * 3);

	/* Unbind a random half and check again. */
	for (i = 0; i < NB; i++) {
		if (check_rng() % 2) {
			exchange_type_topic.unbind(x, &bs[i]);
			ck_assert_ptr_null(bs[i].type_data);
			live[i] = 0;
		}
	}
	check_topic_against_oracle(x, bs, live, NB, &c, 3000);

	/* Rebind them: the same trie as before. */
	for (i = 0; i < NB; i++) {
		if (!live[i]) {
			exchange_type_topic.bind(x, &bs[i]);
			live[i] = 1;
		}
	}
	ck_assert_uint_eq(exchange_topic_nodes(x), nodes);
	check_topic_against_oracle(x, bs, live, NB, &c, 1000);

	/* Everything unbound: everything pruned. */
	for (i = 0; i < NB; i++)
		exchange_type_topic.unbind(x, &bs[i]);
	ck_assert_uint_eq(exchange_topic_nodes(x), 0);
	for (i = 0; i < NB; i++)
		live[i] = 0;
	check_topic_against_oracle(x, bs, live, NB, &c, 200);

	exchange_type_topic.destroy(x);
	for (i = 0; i < NB; i++)
		check_binding_clear(&bs[i]);
	free(bs);
	free(c.hits);
}
END_TEST

/* Bindings with one pattern share its node; unbind leaves the others. */
START_TEST(test_topic_identical_patterns)
{
	struct binding	bs[4];
	struct collect	c;
	void		*x;
	size_t		 i;

	x = exchange_type_topic.create();
	for (i = 0; i < 3; i++) {
		check_binding_init(&bs[i], "a.*", NULL);
		exchange_type_topic.bind(x, &bs[i]);
	}
	check_binding_init(&bs[3], "a.b", NULL);
	exchange_type_topic.bind(x, &bs[3]);
	ck_assert_uint_eq(exchange_topic_nodes(x), 3);	/* a, *, b */
	check_collect_init(&c, bs, 4);

	check_route(&exchange_type_topic, x, "a.b", NULL, &c);
	ck_assert_uint_eq(c.total, 4);
	check_route(&exchange_type_topic, x, "a.c", NULL, &c);
	ck_assert_uint_eq(c.total, 3);
	ck_assert_uint_eq(c.hits[3], 0);

	exchange_type_topic.unbind(x, &bs[1]);
	ck_assert_uint_eq(exchange_topic_nodes(x), 3);
	check_route(&exchange_type_topic, x, "a.c", NULL, &c);
	ck_assert_uint_eq(c.total, 2);
	ck_assert_uint_eq(c.hits[1], 0);

	exchange_type_topic.unbind(x, &bs[0]);
	exchange_type_topic.unbind(x, &bs[2]);
	ck_assert_uint_eq(exchange_topic_nodes(x), 2);	/* a, b */
	check_route(&exchange_type_topic, x, "a.c", NULL, &c);
	ck_assert_uint_eq(c.total, 0);

	/* Rebinding one makes the "*" node again. */
	exchange_type_topic.bind(x, &bs[1]);
	ck_assert_uint_eq(exchange_topic_nodes(x), 3);
	check_route(&exchange_type_topic, x, "a.c", NULL, &c);
	ck_assert_uint_eq(c.total, 1);
	ck_assert_uint_eq(c.hits[1], 1);

	/* Destroy with bindings still hanging: ASan checks for leaks. */
	exchange_type_topic.destroy(x);
	for (i = 0; i < 4; i++)
		check_binding_clear(&bs[i]);
	free(c.hits);
}
END_TEST

/* Unbind prunes exactly the nodes no other pattern needs. */
START_TEST(test_topic_prune)
{
	static const char	*pats[] = { "a.b.c", "a.b.d", "a.#", "#.#.x",
	    "a.b.c.d.e", "", "#" };
	struct binding		 bs[7];
	void			*x;
	size_t			 i;

	x = exchange_type_topic.create();
	for (i = 0; i < 7; i++) {
		check_binding_init(&bs[i], pats[i], NULL);
		exchange_type_topic.bind(x, &bs[i]);
	}
	/* a b c d #  #(root) #.# x  (c.)d e; "" is the root itself. */
	ck_assert_uint_eq(exchange_topic_nodes(x), 10);
	exchange_type_topic.unbind(x, &bs[4]);		/* a.b.c.d.e */
	ck_assert_uint_eq(exchange_topic_nodes(x), 8);
	exchange_type_topic.unbind(x, &bs[0]);		/* a.b.c */
	ck_assert_uint_eq(exchange_topic_nodes(x), 7);
	exchange_type_topic.unbind(x, &bs[1]);		/* a.b.d: b goes too */
	ck_assert_uint_eq(exchange_topic_nodes(x), 5);
	exchange_type_topic.unbind(x, &bs[6]);		/* "#" still needed */
	ck_assert_uint_eq(exchange_topic_nodes(x), 5);
	exchange_type_topic.unbind(x, &bs[3]);		/* #.#.x */
	ck_assert_uint_eq(exchange_topic_nodes(x), 2);
	exchange_type_topic.unbind(x, &bs[5]);		/* "": the root */
	ck_assert_uint_eq(exchange_topic_nodes(x), 2);
	exchange_type_topic.unbind(x, &bs[2]);		/* a.# */
	ck_assert_uint_eq(exchange_topic_nodes(x), 0);
	/* Unbinding twice is harmless: type_data was cleared. */
	exchange_type_topic.unbind(x, &bs[2]);
	ck_assert_uint_eq(exchange_topic_nodes(x), 0);
	exchange_type_topic.destroy(x);
	for (i = 0; i < 7; i++)
		check_binding_clear(&bs[i]);
}
END_TEST

/* Many "#" against a long key: polynomial, not exponential. */
START_TEST(test_topic_hash_blowup)
{
	static const char	*pats[] = { "#.#.#.#.x", "#.#.#.#.#.#.#.#.#.x",
	    "#.a.#.a.#.a.#.a.#.a.#.y", "*.#.*.#.*.#.*.#", "#.#.#.#.#.#.#.#",
	    "a.#.a.#.a.#.a.#.a.#.a.#.a.#.a.#.b" };
	enum { NP = sizeof pats / sizeof pats[0], NW = 250 };
	struct binding		 bs[NP];
	struct collect		 c;
	char			*key;
	void			*x;
	size_t			 i, j;
	clock_t			 start;
	double			 secs;
	int			 last;

	x = exchange_type_topic.create();
	for (i = 0; i < NP; i++) {
		check_binding_init(&bs[i], pats[i], NULL);
		exchange_type_topic.bind(x, &bs[i]);
	}
	check_collect_init(&c, bs, NP);
	key = xmalloc(NW * 2 + 1);
	start = clock();
	for (last = 0; last < 4; last++) {
		/* NW words "a", the last one a, x, y or b. */
		for (j = 0; j < NW; j++) {
			key[2 * j] = 'a';
			key[2 * j + 1] = '.';
		}
		key[2 * NW - 1] = '\0';
		key[2 * NW - 2] = "axyb"[last];
		check_route(&exchange_type_topic, x, key, NULL, &c);
		for (i = 0; i < NP; i++) {
			ck_assert_uint_eq(c.hits[i] > 0, exchange_topic_match(
			    pats[i], strlen(pats[i]), key, strlen(key)));
			ck_assert_uint_le(c.hits[i], 1);
		}
	}
	secs = (double)(clock() - start) / CLOCKS_PER_SEC;
	ck_assert_msg(secs < 2.0, "routing took %.2f s", secs);
	exchange_type_topic.destroy(x);
	for (i = 0; i < NP; i++)
		check_binding_clear(&bs[i]);
	free(key);
	free(c.hits);
}
END_TEST

/* The direct hash with many keys, the empty key among them. */
START_TEST(test_direct_many_keys)
{
	enum { NK = 5000 };
	struct binding	*bs;
	struct collect	 c;
	size_t		*keyof, nb, i, j, want;
	char		 key[32];
	void		*x;

	/* Key k gets (k % 3) + 1 bindings; key 0 is "". */
	nb = 0;
	for (i = 0; i < NK; i++)
		nb += i % 3 + 1;
	bs = xcalloc(nb, sizeof *bs);
	keyof = xcalloc(nb, sizeof *keyof);
	x = exchange_type_direct.create();
	for (i = 0, j = 0; i < NK; i++) {
		for (want = 0; want < i % 3 + 1; want++, j++) {
			if (i == 0)
				key[0] = '\0';
			else
				snprintf(key, sizeof key, "key.%zu", i);
			check_binding_init(&bs[j], key, NULL);
			keyof[j] = i;
			exchange_type_direct.bind(x, &bs[j]);
		}
	}
	check_collect_init(&c, bs, nb);
	for (i = 0; i < NK; i++) {
		if (i == 0)
			key[0] = '\0';
		else
			snprintf(key, sizeof key, "key.%zu", i);
		check_route(&exchange_type_direct, x, key, NULL, &c);
		ck_assert_uint_eq(c.total, i % 3 + 1);
		for (j = 0; j < nb; j++) {
			if (c.hits[j] != 0 && keyof[j] != i)
				ck_abort_msg("key %zu emitted a binding of key "
				    "%zu", i, keyof[j]);
		}
	}
	check_route(&exchange_type_direct, x, "key.5000", NULL, &c);
	ck_assert_uint_eq(c.total, 0);
	check_route(&exchange_type_direct, x, "key", NULL, &c);
	ck_assert_uint_eq(c.total, 0);

	/*
	 * Unbind every binding of even keys, and the first binding of odd
	 * keys that have more than one.
	 */
	for (j = 0; j < nb; j++) {
		i = keyof[j];
		if (i % 2 == 0 ||
		    (i % 3 > 0 && (j == 0 || keyof[j - 1] != i))) {
			exchange_type_direct.unbind(x, &bs[j]);
			ck_assert_ptr_null(bs[j].type_data);
		}
	}
	for (i = 0; i < NK; i++) {
		if (i == 0)
			key[0] = '\0';
		else
			snprintf(key, sizeof key, "key.%zu", i);
		check_route(&exchange_type_direct, x, key, NULL, &c);
		if (i % 2 == 0)
			want = 0;
		else
			want = i % 3 > 0 ? i % 3 : 1;
		ck_assert_msg(c.total == want, "key %zu: %zu, want %zu", i,
		    c.total, want);
	}
	/* Rebind all of key.2: it comes back. */
	for (j = 0; j < nb; j++) {
		if (keyof[j] == 2)
			exchange_type_direct.bind(x, &bs[j]);
	}
	check_route(&exchange_type_direct, x, "key.2", NULL, &c);
	ck_assert_uint_eq(c.total, 3);

	exchange_type_direct.destroy(x);
	for (j = 0; j < nb; j++)
		check_binding_clear(&bs[j]);
	free(bs);
	free(keyof);
	free(c.hits);
}
END_TEST

/* Keys are bytes with a length: a prefix or a longer key is another key. */
START_TEST(test_direct_exact)
{
	struct binding	bs[3];
	struct collect	c;
	void		*x;
	size_t		 i;

	x = exchange_type_direct.create();
	check_binding_init(&bs[0], "abc", NULL);
	check_binding_init(&bs[1], "ab", NULL);
	check_binding_init(&bs[2], "abc", NULL);
	for (i = 0; i < 3; i++)
		exchange_type_direct.bind(x, &bs[i]);
	check_collect_init(&c, bs, 3);
	c.total = 0;
	memset(c.hits, 0, 4 * sizeof *c.hits);
	exchange_type_direct.route(x, "abcd", 2, NULL, check_collect_cb, &c);
	ck_assert_uint_eq(c.total, 1);
	ck_assert_uint_eq(c.hits[1], 1);
	check_route(&exchange_type_direct, x, "abc", NULL, &c);
	ck_assert_uint_eq(c.total, 2);
	ck_assert_uint_eq(c.hits[0] + c.hits[2], 2);
	check_route(&exchange_type_direct, x, "ABC", NULL, &c);
	ck_assert_uint_eq(c.total, 0);
	exchange_type_direct.destroy(x);
	for (i = 0; i < 3; i++)
		check_binding_clear(&bs[i]);
	free(c.hits);
}
END_TEST

/* Fanout emits every binding whatever the key. */
START_TEST(test_fanout)
{
	struct binding	bs[5];
	struct collect	c;
	void		*x;
	size_t		 i;

	x = exchange_type_fanout.create();
	check_collect_init(&c, bs, 5);
	check_route(&exchange_type_fanout, x, "k", NULL, &c);
	ck_assert_uint_eq(c.total, 0);
	for (i = 0; i < 5; i++) {
		check_binding_init(&bs[i], i % 2 ? "x" : "", NULL);
		exchange_type_fanout.bind(x, &bs[i]);
	}
	check_route(&exchange_type_fanout, x, "anything", NULL, &c);
	ck_assert_uint_eq(c.total, 5);
	for (i = 0; i < 5; i++)
		ck_assert_uint_eq(c.hits[i], 1);
	exchange_type_fanout.unbind(x, &bs[2]);
	ck_assert_ptr_null(bs[2].type_data);
	check_route(&exchange_type_fanout, x, "", NULL, &c);
	ck_assert_uint_eq(c.total, 4);
	ck_assert_uint_eq(c.hits[2], 0);
	exchange_type_fanout.bind(x, &bs[2]);
	check_route(&exchange_type_fanout, x, "", NULL, &c);
	ck_assert_uint_eq(c.total, 5);
	exchange_type_fanout.destroy(x);
	for (i = 0; i < 5; i++)
		check_binding_clear(&bs[i]);
	free(c.hits);
}
END_TEST

/* Start an empty table. */
static void
tbl_init(struct tbl *t)
{
	t->eb = evbuffer_new();
	ck_assert_ptr_nonnull(t->eb);
}

/* The table built so far. */
static const struct field_table *
tbl_get(struct tbl *t)
{
	t->t.len = (uint32_t)evbuffer_get_length(t->eb);
	t->t.p = t->t.len > 0 ? evbuffer_pullup(t->eb, -1) : NULL;
	ck_assert_int_eq(table_validate(t->t.p, t->t.len), 0);
	return (&t->t);
}

/* Free a table. */
static void
tbl_free(struct tbl *t)
{
	evbuffer_free(t->eb);
}

/* Append one value. */
static void
tbl_add(struct tbl *t, const char *key, struct field_value v)
{
	table_add_value(t->eb, key, &v);
}

/* A signed integer value of some type. */
static struct field_value
fv_int(uint8_t type, int64_t i)
{
	struct field_value	v;

	memset(&v, 0, sizeof v);
	v.type = type;
	v.v.i = i;
	return (v);
}

/* An unsigned integer value of some type. */
static struct field_value
fv_uint(uint8_t type, uint64_t u)
{
	struct field_value	v;

	memset(&v, 0, sizeof v);
	v.type = type;
	v.v.u = u;
	return (v);
}

/* A long string ('S') or binary ('x'). */
static struct field_value
fv_str(uint8_t type, const char *s)
{
	struct field_value	v;

	memset(&v, 0, sizeof v);
	v.type = type;
	v.v.s.p = (const uint8_t *)s;
	v.v.s.len = (uint32_t)strlen(s);
	return (v);
}

/* A float or double. */
static struct field_value
fv_float(uint8_t type, double d)
{
	struct field_value	v;

	memset(&v, 0, sizeof v);
	v.type = type;
	if (type == 'f')
		v.v.f = (float)d;
	else
		v.v.d = d;
	return (v);
}

/* A value without payload ('V') or a boolean ('t'). */
static struct field_value
fv_other(uint8_t type, int b)
{
	struct field_value	v;

	memset(&v, 0, sizeof v);
	v.type = type;
	v.v.b = b;
	return (v);
}

/* A decimal. */
static struct field_value
fv_dec(uint8_t scale, uint32_t value)
{
	struct field_value	v;

	memset(&v, 0, sizeof v);
	v.type = 'D';
	v.v.dec.scale = scale;
	v.v.dec.value = value;
	return (v);
}

/* A table ('F') or array ('A') over bytes built elsewhere. */
static struct field_value
fv_list(uint8_t type, const struct field_table *t)
{
	struct field_value	v;

	memset(&v, 0, sizeof v);
	v.type = type;
	v.v.t = *t;
	return (v);
}

/* Does a binding with these arguments match a message with headers h? */
static int
hx_match(const struct field_table *args, const struct field_table *h)
{
	struct binding	b;
	struct collect	c;
	void		*x;
	int		 m;

	x = exchange_type_headers.create();
	check_binding_init(&b, "ignored", args);
	exchange_type_headers.bind(x, &b);
	check_collect_init(&c, &b, 1);
	check_route(&exchange_type_headers, x, "any.key", h, &c);
	ck_assert_uint_le(c.total, 1);
	m = (int)c.total;
	exchange_type_headers.unbind(x, &b);
	ck_assert_ptr_null(b.type_data);
	check_route(&exchange_type_headers, x, "any.key", h, &c);
	ck_assert_uint_eq(c.total, 0);
	exchange_type_headers.destroy(x);
	check_binding_clear(&b);
	free(c.hits);
	return (m);
}

/* x-match all, any and the default. */
START_TEST(test_headers_all_any)
{
	struct tbl	all, any, none, anyonly, h1, h2, h3, h4, empty;

	tbl_init(&all);
	tbl_add(&all, "x-match", fv_str('S', "all"));
	tbl_add(&all, "a", fv_str('S', "1"));
	tbl_add(&all, "b", fv_int('l', 2));
	tbl_init(&any);
	tbl_add(&any, "a", fv_str('S', "1"));
	tbl_add(&any, "x-match", fv_str('S', "any"));
	tbl_add(&any, "b", fv_int('l', 2));
	tbl_init(&none);
	tbl_init(&anyonly);
	tbl_add(&anyonly, "x-match", fv_str('S', "any"));
	tbl_init(&empty);

	tbl_init(&h1);				/* both, and more */
	tbl_add(&h1, "z", fv_int('l', 9));
	tbl_add(&h1, "b", fv_int('l', 2));
	tbl_add(&h1, "a", fv_str('S', "1"));
	tbl_init(&h2);				/* only a */
	tbl_add(&h2, "a", fv_str('S', "1"));
	tbl_init(&h3);				/* a right, b wrong */
	tbl_add(&h3, "a", fv_str('S', "1"));
	tbl_add(&h3, "b", fv_int('l', 3));
	tbl_init(&h4);				/* neither */
	tbl_add(&h4, "c", fv_str('S', "1"));

	ck_assert_int_eq(hx_match(tbl_get(&all), tbl_get(&h1)), 1);
	ck_assert_int_eq(hx_match(tbl_get(&all), tbl_get(&h2)), 0);
	ck_assert_int_eq(hx_match(tbl_get(&all), tbl_get(&h3)), 0);
	ck_assert_int_eq(hx_match(tbl_get(&all), tbl_get(&h4)), 0);
	ck_assert_int_eq(hx_match(tbl_get(&all), NULL), 0);
	ck_assert_int_eq(hx_match(tbl_get(&any), tbl_get(&h1)), 1);
	ck_assert_int_eq(hx_match(tbl_get(&any), tbl_get(&h2)), 1);
	ck_assert_int_eq(hx_match(tbl_get(&any), tbl_get(&h3)), 1);
	ck_assert_int_eq(hx_match(tbl_get(&any), tbl_get(&h4)), 0);
	ck_assert_int_eq(hx_match(tbl_get(&any), NULL), 0);
	ck_assert_int_eq(hx_match(tbl_get(&any), tbl_get(&empty)), 0);
	/* Nothing to match: all matches everything, any nothing. */
	ck_assert_int_eq(hx_match(tbl_get(&none), tbl_get(&h4)), 1);
	ck_assert_int_eq(hx_match(tbl_get(&none), NULL), 1);
	ck_assert_int_eq(hx_match(tbl_get(&none), tbl_get(&empty)), 1);
	ck_assert_int_eq(hx_match(tbl_get(&anyonly), tbl_get(&h1)), 0);
	ck_assert_int_eq(hx_match(tbl_get(&anyonly), NULL), 0);

	tbl_free(&all);
	tbl_free(&any);
	tbl_free(&none);
	tbl_free(&anyonly);
	tbl_free(&h1);
	tbl_free(&h2);
	tbl_free(&h3);
	tbl_free(&h4);
	tbl_free(&empty);
}
END_TEST

/* x- arguments count only with the -with-x kinds. */
START_TEST(test_headers_with_x)
{
	struct tbl	all, allx, anyx, any, h_x, h_nox, h_wrong;

	tbl_init(&all);
	tbl_add(&all, "x-foo", fv_str('S', "bar"));
	tbl_init(&allx);
	tbl_add(&allx, "x-match", fv_str('S', "all-with-x"));
	tbl_add(&allx, "x-foo", fv_str('S', "bar"));
	tbl_add(&allx, "a", fv_int('l', 1));
	tbl_init(&anyx);
	tbl_add(&anyx, "x-match", fv_str('S', "any-with-x"));
	tbl_add(&anyx, "x-foo", fv_str('S', "bar"));
	tbl_add(&anyx, "a", fv_int('l', 5));
	tbl_init(&any);
	tbl_add(&any, "x-match", fv_str('S', "any"));
	tbl_add(&any, "x-foo", fv_str('S', "bar"));

	tbl_init(&h_x);
	tbl_add(&h_x, "a", fv_int('l', 1));
	tbl_add(&h_x, "x-foo", fv_str('S', "bar"));
	tbl_init(&h_nox);
	tbl_add(&h_nox, "a", fv_int('l', 1));
	tbl_init(&h_wrong);
	tbl_add(&h_wrong, "a", fv_int('l', 1));
	tbl_add(&h_wrong, "x-foo", fv_str('S', "baz"));

	/* "all" ignores x-foo: nothing left to match, so everything. */
	ck_assert_int_eq(hx_match(tbl_get(&all), tbl_get(&h_nox)), 1);
	ck_assert_int_eq(hx_match(tbl_get(&all), tbl_get(&h_wrong)), 1);
	ck_assert_int_eq(hx_match(tbl_get(&allx), tbl_get(&h_x)), 1);
	ck_assert_int_eq(hx_match(tbl_get(&allx), tbl_get(&h_nox)), 0);
	ck_assert_int_eq(hx_match(tbl_get(&allx), tbl_get(&h_wrong)), 0);
	ck_assert_int_eq(hx_match(tbl_get(&anyx), tbl_get(&h_x)), 1);
	ck_assert_int_eq(hx_match(tbl_get(&anyx), tbl_get(&h_nox)), 0);
	ck_assert_int_eq(hx_match(tbl_get(&anyx), tbl_get(&h_wrong)), 0);
	/* "any" ignores x-foo: nothing left, so nothing. */
	ck_assert_int_eq(hx_match(tbl_get(&any), tbl_get(&h_x)), 0);

	tbl_free(&all);
	tbl_free(&allx);
	tbl_free(&anyx);
	tbl_free(&any);
	tbl_free(&h_x);
	tbl_free(&h_nox);
	tbl_free(&h_wrong);
}
END_TEST

/* A void argument asks only that the header be there. */
START_TEST(test_headers_void)
{
	struct tbl	pres, anyv, h_str, h_void, h_table, h_none;

	tbl_init(&pres);
	tbl_add(&pres, "a", fv_other('V', 0));
	tbl_init(&anyv);
	tbl_add(&anyv, "x-match", fv_str('S', "any"));
	tbl_add(&anyv, "a", fv_other('V', 0));
	tbl_add(&anyv, "b", fv_int('l', 1));
	tbl_init(&h_str);
	tbl_add(&h_str, "a", fv_str('S', "whatever"));
	tbl_init(&h_void);
	tbl_add(&h_void, "a", fv_other('V', 0));
	tbl_init(&h_table);
	tbl_add(&h_table, "a", fv_list('F', tbl_get(&h_str)));
	tbl_init(&h_none);
	tbl_add(&h_none, "b", fv_int('l', 2));

	ck_assert_int_eq(hx_match(tbl_get(&pres), tbl_get(&h_str)), 1);
	ck_assert_int_eq(hx_match(tbl_get(&pres), tbl_get(&h_void)), 1);
	ck_assert_int_eq(hx_match(tbl_get(&pres), tbl_get(&h_table)), 1);
	ck_assert_int_eq(hx_match(tbl_get(&pres), tbl_get(&h_none)), 0);
	ck_assert_int_eq(hx_match(tbl_get(&pres), NULL), 0);
	ck_assert_int_eq(hx_match(tbl_get(&anyv), tbl_get(&h_str)), 1);
	ck_assert_int_eq(hx_match(tbl_get(&anyv), tbl_get(&h_none)), 0);

	tbl_free(&pres);
	tbl_free(&anyv);
	tbl_free(&h_str);
	tbl_free(&h_void);
	tbl_free(&h_table);
	tbl_free(&h_none);
}
END_TEST

/* One argument value against one header value. */
static int
hx_value(struct field_value arg, struct field_value hdr)
{
	struct tbl	a, h;
	int		m;

	tbl_init(&a);
	tbl_add(&a, "k", arg);
	tbl_init(&h);
	tbl_add(&h, "k", hdr);
	m = hx_match(tbl_get(&a), tbl_get(&h));
	tbl_free(&a);
	tbl_free(&h);
	return (m);
}

/* Values compare as RabbitMQ's =:= on the decoded terms. */
START_TEST(test_headers_types)
{
	struct tbl	t1, t2, t3, arr, empty;

	/* Integers of any width compare by value. */
	ck_assert_int_eq(hx_value(fv_int('I', 1), fv_int('l', 1)), 1);
	ck_assert_int_eq(hx_value(fv_int('b', -5), fv_int('s', -5)), 1);
	ck_assert_int_eq(hx_value(fv_int('l', 7), fv_uint('B', 7)), 1);
	ck_assert_int_eq(hx_value(fv_int('l', 7), fv_uint('T', 7)), 1);
	ck_assert_int_eq(hx_value(fv_uint('i', 4294967295U),
	    fv_int('I', -1)), 0);
	ck_assert_int_eq(hx_value(fv_int('l', -1),
	    fv_uint('T', UINT64_MAX)), 0);
	ck_assert_int_eq(hx_value(fv_int('L', 3), fv_int('l', 3)), 1);
	ck_assert_int_eq(hx_value(fv_int('l', 1), fv_int('l', 2)), 0);
	/* A number never equals a string, nor an integer a float. */
	ck_assert_int_eq(hx_value(fv_int('l', 1), fv_str('S', "1")), 0);
	ck_assert_int_eq(hx_value(fv_str('S', "1"), fv_int('I', 1)), 0);
	ck_assert_int_eq(hx_value(fv_int('l', 1), fv_float('d', 1.0)), 0);
	ck_assert_int_eq(hx_value(fv_float('d', 1.0), fv_int('b', 1)), 0);
	/* Floats compare by value across widths. */
	ck_assert_int_eq(hx_value(fv_float('f', 1.5), fv_float('d', 1.5)), 1);
	ck_assert_int_eq(hx_value(fv_float('f', 0.1), fv_float('d', 0.1)), 0);
	ck_assert_int_eq(hx_value(fv_float('d', 2.5), fv_float('d', 2.5)), 1);
	/* Long strings and byte arrays are both binaries. */
	ck_assert_int_eq(hx_value(fv_str('S', "x"), fv_str('x', "x")), 1);
	ck_assert_int_eq(hx_value(fv_str('S', "x"), fv_str('S', "X")), 0);
	ck_assert_int_eq(hx_value(fv_str('S', ""), fv_str('S', "")), 1);
	/* Booleans are atoms: not 1, not "true". */
	ck_assert_int_eq(hx_value(fv_other('t', 1), fv_other('t', 1)), 1);
	ck_assert_int_eq(hx_value(fv_other('t', 1), fv_other('t', 0)), 0);
	ck_assert_int_eq(hx_value(fv_other('t', 1), fv_int('b', 1)), 0);
	ck_assert_int_eq(hx_value(fv_other('t', 1), fv_str('S', "true")), 0);
	/* Decimals are {Scale, Value}: 1.0 and 1.00 differ. */
	ck_assert_int_eq(hx_value(fv_dec(2, 150), fv_dec(2, 150)), 1);
	ck_assert_int_eq(hx_value(fv_dec(1, 10), fv_dec(2, 100)), 0);
	/* A void header equals no non-void argument. */
	ck_assert_int_eq(hx_value(fv_int('l', 0), fv_other('V', 0)), 0);

	/* Tables: same keys, types and values, in order. */
	tbl_init(&t1);
	tbl_add(&t1, "n", fv_int('l', 1));
	tbl_add(&t1, "s", fv_str('S', "v"));
	tbl_init(&t2);
	tbl_add(&t2, "n", fv_int('I', 1));	/* type differs inside */
	tbl_add(&t2, "s", fv_str('S', "v"));
	tbl_init(&t3);
	tbl_add(&t3, "s", fv_str('S', "v"));	/* order differs */
	tbl_add(&t3, "n", fv_int('l', 1));
	ck_assert_int_eq(hx_value(fv_list('F', tbl_get(&t1)),
	    fv_list('F', tbl_get(&t1))), 1);
	ck_assert_int_eq(hx_value(fv_list('F', tbl_get(&t1)),
	    fv_list('F', tbl_get(&t2))), 0);
	ck_assert_int_eq(hx_value(fv_list('F', tbl_get(&t1)),
	    fv_list('F', tbl_get(&t3))), 0);
	/* Arrays: an array body is a run of typed values. */
	tbl_init(&arr);
	evbuffer_add(arr.eb, "l\0\0\0\0\0\0\0\x01", 9);
	evbuffer_add(arr.eb, "S\0\0\0\x01z", 6);
	arr.t.len = (uint32_t)evbuffer_get_length(arr.eb);
	arr.t.p = evbuffer_pullup(arr.eb, -1);
	ck_assert_int_eq(hx_value(fv_list('A', &arr.t), fv_list('A', &arr.t)),
	    1);
	ck_assert_int_eq(hx_value(fv_list('A', &arr.t),
	    fv_list('F', tbl_get(&t1))), 0);
	/* [] is [] whether table or array. */
	tbl_init(&empty);
	ck_assert_int_eq(hx_value(fv_list('A', tbl_get(&empty)),
	    fv_list('F', tbl_get(&empty))), 1);
	ck_assert_int_eq(hx_value(fv_list('F', tbl_get(&empty)),
	    fv_list('F', tbl_get(&t1))), 0);
	tbl_free(&t1);
	tbl_free(&t2);
	tbl_free(&t3);
	tbl_free(&arr);
	tbl_free(&empty);
}
END_TEST

/* A header sent twice: the last one counts; arguments all count. */
START_TEST(test_headers_duplicates)
{
	struct tbl	h, a1, a2, a12;

	tbl_init(&h);
	tbl_add(&h, "a", fv_int('l', 1));
	tbl_add(&h, "b", fv_int('l', 0));
	tbl_add(&h, "a", fv_int('l', 2));
	tbl_init(&a1);
	tbl_add(&a1, "a", fv_int('l', 1));
	tbl_init(&a2);
	tbl_add(&a2, "a", fv_int('l', 2));
	tbl_add(&a2, "b", fv_int('l', 0));
	tbl_init(&a12);
	tbl_add(&a12, "a", fv_int('l', 2));
	tbl_add(&a12, "a", fv_int('l', 1));
	ck_assert_int_eq(hx_match(tbl_get(&a1), tbl_get(&h)), 0);
	ck_assert_int_eq(hx_match(tbl_get(&a2), tbl_get(&h)), 1);
	ck_assert_int_eq(hx_match(tbl_get(&a12), tbl_get(&h)), 0);
	tbl_free(&h);
	tbl_free(&a1);
	tbl_free(&a2);
	tbl_free(&a12);
}
END_TEST

/* Several bindings in one exchange, many headers: each judged alone. */
START_TEST(test_headers_many)
{
	enum { NB = 64, NH = 200 };
	struct binding	 bs[NB];
	struct collect	 c;
	struct tbl	 args, h;
	char		 key[32];
	void		*x;
	size_t		 i;

	x = exchange_type_headers.create();
	for (i = 0; i < NB; i++) {
		/* Binding i wants h<i> = i and h<i+1> = i + 1. */
		tbl_init(&args);
		snprintf(key, sizeof key, "h%zu", i);
		tbl_add(&args, key, fv_int('l', (int64_t)i));
		snprintf(key, sizeof key, "h%zu", i + 1);
		tbl_add(&args, key, fv_int('I', (int64_t)i + 1));
		if (i % 2)
			tbl_add(&args, "x-match", fv_str('S', "any"));
		check_binding_init(&bs[i], "", tbl_get(&args));
		tbl_free(&args);
		exchange_type_headers.bind(x, &bs[i]);
	}
	check_collect_init(&c, bs, NB);

	/* Every h<j> = j except h10 = -1 (breaks "all" 9 and 10). */
	tbl_init(&h);
	for (i = NH; i-- > 0; ) {
		snprintf(key, sizeof key, "h%zu", i);
		tbl_add(&h, key, fv_int('l', i == 10 ? -1 : (int64_t)i));
	}
	check_route(&exchange_type_headers, x, "", tbl_get(&h), &c);
	for (i = 0; i < NB; i++) {
		ck_assert_msg(c.hits[i] == ((i == 10) ? 0U : 1U),
		    "binding %zu: %u", i, c.hits[i]);
	}
	/* Unbind the odd ones, route again. */
	for (i = 1; i < NB; i += 2)
		exchange_type_headers.unbind(x, &bs[i]);
	check_route(&exchange_type_headers, x, "", tbl_get(&h), &c);
	ck_assert_uint_eq(c.total, NB / 2 - 1);
	tbl_free(&h);
	exchange_type_headers.destroy(x);
	for (i = 0; i < NB; i++)
		check_binding_clear(&bs[i]);
	free(c.hits);
}
END_TEST

/* validate() with one x-match value: the code, and the text in cause. */
static int
hx_validate(struct field_value v, char *cause, size_t len)
{
	struct tbl	t;
	int		rc;

	tbl_init(&t);
	tbl_add(&t, "a", fv_int('l', 1));
	tbl_add(&t, "x-match", v);
	rc = exchange_type_headers.validate(tbl_get(&t), cause, len);
	tbl_free(&t);
	return (rc);
}

/* x-match must be one of four strings; RabbitMQ's texts otherwise. */
START_TEST(test_headers_validate)
{
	static const char	*good[] = { "all", "any", "all-with-x",
	    "any-with-x" };
	char			 cause[256];
	struct tbl		 none;
	size_t			 i;

	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(hx_validate(fv_str('S', good[i]), cause,
		    sizeof cause), 0);
	}
	tbl_init(&none);
	tbl_add(&none, "a", fv_int('l', 1));
	ck_assert_int_eq(exchange_type_headers.validate(tbl_get(&none),
	    cause, sizeof cause), 0);
	tbl_free(&none);
	ck_assert_int_eq(exchange_type_headers.validate(NULL, cause,
	    sizeof cause), 0);
	ck_assert_ptr_null(exchange_type_topic.validate);

	ck_assert_int_eq(hx_validate(fv_str('S', "foo"), cause, sizeof cause),
	    AMQP_PRECONDITION_FAILED);
	ck_assert_str_eq(cause, "Invalid x-match field value <<\"foo\">>; "
	    "expected all, any, all-with-x, or any-with-x");
	ck_assert_int_eq(hx_validate(fv_str('S', "ALL"), cause, sizeof cause),
	    AMQP_PRECONDITION_FAILED);
	ck_assert_str_eq(cause, "Invalid x-match field value <<\"ALL\">>; "
	    "expected all, any, all-with-x, or any-with-x");
	ck_assert_int_eq(hx_validate(fv_str('S', ""), cause, sizeof cause),
	    AMQP_PRECONDITION_FAILED);
	ck_assert_str_eq(cause, "Invalid x-match field value <<>>; "
	    "expected all, any, all-with-x, or any-with-x");
	ck_assert_int_eq(hx_validate(fv_str('S', "a\"b\n"), cause,
	    sizeof cause), AMQP_PRECONDITION_FAILED);
	ck_assert_str_eq(cause, "Invalid x-match field value <<\"a\\\"b\\n\">>; "
	    "expected all, any, all-with-x, or any-with-x");
	ck_assert_int_eq(hx_validate(fv_str('S', "\xc3\xa9t\xc3\xa9"), cause,
	    sizeof cause), AMQP_PRECONDITION_FAILED);
	ck_assert_str_eq(cause, "Invalid x-match field value "
	    "<<\"\xc3\xa9t\xc3\xa9\"/utf8>>; "
	    "expected all, any, all-with-x, or any-with-x");
	ck_assert_int_eq(hx_validate(fv_str('S', "\x01\xff"), cause,
	    sizeof cause), AMQP_PRECONDITION_FAILED);
	ck_assert_str_eq(cause, "Invalid x-match field value <<1,255>>; "
	    "expected all, any, all-with-x, or any-with-x");

	ck_assert_int_eq(hx_validate(fv_int('b', 1), cause, sizeof cause),
	    AMQP_PRECONDITION_FAILED);
	ck_assert_str_eq(cause, "Invalid x-match field type byte (value 1); "
	    "expected longstr");
	ck_assert_int_eq(hx_validate(fv_str('x', "all"), cause, sizeof cause),
	    AMQP_PRECONDITION_FAILED);
	ck_assert_str_eq(cause, "Invalid x-match field type binary "
	    "(value <<\"all\">>); expected longstr");
	ck_assert_int_eq(hx_validate(fv_other('t', 1), cause, sizeof cause),
	    AMQP_PRECONDITION_FAILED);
	ck_assert_str_eq(cause, "Invalid x-match field type bool "
	    "(value true); expected longstr");
	ck_assert_int_eq(hx_validate(fv_other('V', 0), cause, sizeof cause),
	    AMQP_PRECONDITION_FAILED);
	ck_assert_str_eq(cause, "Invalid x-match field type void "
	    "(value undefined); expected longstr");
	ck_assert_int_eq(hx_validate(fv_float('d', 1.5), cause, sizeof cause),
	    AMQP_PRECONDITION_FAILED);
	ck_assert_str_eq(cause, "Invalid x-match field type double "
	    "(value 1.5); expected longstr");
	ck_assert_int_eq(hx_validate(fv_int('I', -7), cause, sizeof cause),
	    AMQP_PRECONDITION_FAILED);
	ck_assert_str_eq(cause, "Invalid x-match field type signedint "
	    "(value -7); expected longstr");

	/* A short buffer truncates but stays a string. */
	ck_assert_int_eq(hx_validate(fv_str('S', "foo"), cause, 8),
	    AMQP_PRECONDITION_FAILED);
	ck_assert_str_eq(cause, "Invalid");
	ck_assert_int_eq(hx_validate(fv_str('S', "foo"), NULL, 0),
	    AMQP_PRECONDITION_FAILED);
}
END_TEST

/* The suite. */
static Suite *
check_topic_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("exchange types");
	tc = tcase_create("topic");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_topic_edge_cases);
	tcase_add_test(tc, test_topic_oracle_vs_naive);
	tcase_add_test(tc, test_topic_random_trie);
	tcase_add_test(tc, test_topic_identical_patterns);
	tcase_add_test(tc, test_topic_prune);
	suite_add_tcase(s, tc);

	/* An exponential walk would not finish: the timeout catches it. */
	tc = tcase_create("topic blowup");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_topic_hash_blowup);
	suite_add_tcase(s, tc);

	tc = tcase_create("direct and fanout");
	tcase_add_test(tc, test_direct_many_keys);
	tcase_add_test(tc, test_direct_exact);
	tcase_add_test(tc, test_fanout);
	suite_add_tcase(s, tc);

	tc = tcase_create("headers");
	tcase_add_test(tc, test_headers_all_any);
	tcase_add_test(tc, test_headers_with_x);
	tcase_add_test(tc, test_headers_void);
	tcase_add_test(tc, test_headers_types);
	tcase_add_test(tc, test_headers_duplicates);
	tcase_add_test(tc, test_headers_many);
	tcase_add_test(tc, test_headers_validate);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite; the exit code is what automake's test driver reads. */
int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(check_topic_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
