/*
 * exchange_topic.c: the topic exchange type.  Binding keys are patterns of
 * dot-separated words where "*" matches exactly one word and "#" matches
 * zero or more; the bindings live in a trie with one edge per pattern word,
 * and bindings with the same pattern share the node the pattern ends at.
 * Routing walks the trie with the words of the routing key, so its cost
 * depends on the trie paths the key can follow, never on the number of
 * bindings.
 *
 * Words are split as RabbitMQ does (rabbit_db_topic_exchange:
 * split_topic_key/1): "a..b" is three words, the middle one empty, and
 * "a." is two; the empty key is no words at all, not one empty word, so
 * "#" and "" match it and "*" does not.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <uthash.h>

#include "broker.h"
#include "exchange.h"

/* What edge leads into a node. */
enum exchange_topic_kind {
	TOPIC_ROOT,
	TOPIC_WORD,	/* a literal word, in parent->words */
	TOPIC_STAR,	/* "*", parent->star */
	TOPIC_HASH	/* "#", parent->hash */
};

struct exchange_topic_node;

/* One binding at the node its pattern ends at; binding->type_data. */
struct exchange_topic_link {
	struct binding				*b;	/* borrowed */
	struct exchange_topic_node		*n;	/* borrowed */
	TAILQ_ENTRY(exchange_topic_link)	 entry;
};

/* A trie node: the pattern prefix spelled by the edges from the root. */
struct exchange_topic_node {
	struct exchange_topic_node	*parent;	/* borrowed; NULL: root */
	enum exchange_topic_kind	 kind;
	char				*word;		/* owned; TOPIC_WORD */
	size_t				 wordlen;
	struct exchange_topic_node	*words;		/* owned: uthash */
	struct exchange_topic_node	*star;		/* owned */
	struct exchange_topic_node	*hash;		/* owned */
	TAILQ_HEAD(, exchange_topic_link) links;	/* owned */
	/* "#" nodes: the walk that last entered, and its lowest word. */
	uint64_t			 walk;
	size_t				 from;
	UT_hash_handle			 hh;		/* parent->words */
};

/* The per-exchange index. */
struct exchange_topic {
	struct exchange_topic_node	*root;		/* owned */
	size_t				 nnodes;	/* below the root */
	uint64_t			 walks;		/* route() calls so far */
};

/* One word of a routing key: bytes key[off, off + len). */
struct exchange_topic_word {
	size_t		 off;
	size_t		 len;
};

/* The state of one route() call. */
struct exchange_topic_walk {
	const char			*key;		/* borrowed */
	const struct exchange_topic_word *w;		/* borrowed */
	size_t				 n;		/* words in key */
	uint64_t			 id;
	exchange_emit_cb		 emit;
	void				*arg;
};

/* Routing keys of up to this many words are split on the stack. */
#define TOPIC_STACK_WORDS	64

static void	*exchange_topic_create(void);
static void	 exchange_topic_destroy(void *);
static void	 exchange_topic_bind(void *, struct binding *);
static void	 exchange_topic_unbind(void *, struct binding *);
static void	 exchange_topic_route(void *, const char *, size_t,
		     const struct field_table *, exchange_emit_cb, void *);
static size_t	 exchange_topic_count(const char *, size_t);
static void	 exchange_topic_split(const char *, size_t,
		     struct exchange_topic_word *);
static struct exchange_topic_node *exchange_topic_node_new(
		     struct exchange_topic *, struct exchange_topic_node *,
		     enum exchange_topic_kind, const char *, size_t);
static void	 exchange_topic_node_free(struct exchange_topic_node *);
static struct exchange_topic_node *exchange_topic_child(
		     struct exchange_topic *, struct exchange_topic_node *,
		     const char *, size_t);
static void	 exchange_topic_prune(struct exchange_topic *,
		     struct exchange_topic_node *);
static void	 exchange_topic_walk(struct exchange_topic_walk *,
		     struct exchange_topic_node *, size_t);
static void	 exchange_topic_walk_hash(struct exchange_topic_walk *,
		     struct exchange_topic_node *, size_t);

const struct exchange_type exchange_type_topic = {
	.name = "topic",
	.create = exchange_topic_create,
	.destroy = exchange_topic_destroy,
	.validate = NULL,
	.bind = exchange_topic_bind,
	.unbind = exchange_topic_unbind,
	.route = exchange_topic_route
};

/* Number of words in a key or pattern: none when it is empty. */
static size_t
exchange_topic_count(const char *s, size_t len)
{
	size_t	i, n;

	if (len == 0)
		return (0);
	for (i = 0, n = 1; i < len; i++) {
		if (s[i] == '.')
			n++;
	}
	return (n);
}

/* Split s into words; w has room for exchange_topic_count(s, len). */
static void
exchange_topic_split(const char *s, size_t len, struct exchange_topic_word *w)
{
	size_t	i, start, n;

	if (len == 0)
		return;
	for (i = 0, start = 0, n = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			w[n].off = start;
			w[n].len = i - start;
			n++;
			start = i + 1;
		}
	}
}

/*
 * The reference matcher: dynamic programming over pattern words and key
 * words, O(pattern words * key words) time.  It shares nothing with the
 * trie but the word splitting, so tests use it as an oracle.
 */
int
exchange_topic_match(const char *pattern, size_t plen, const char *key,
    size_t klen)
{
	struct exchange_topic_word	*pw, *kw;
	unsigned char			*cur, *next, *swap, any;
	size_t				 np, nk, i, j;
	int				 match;

	if (pattern == NULL)
		pattern = "";
	if (key == NULL)
		key = "";
	np = exchange_topic_count(pattern, plen);
	nk = exchange_topic_count(key, klen);
	pw = xcalloc(np + 1, sizeof *pw);
	kw = xcalloc(nk + 1, sizeof *kw);
	exchange_topic_split(pattern, plen, pw);
	exchange_topic_split(key, klen, kw);

	/* cur[j]: the pattern words so far match the first j key words. */
	cur = xcalloc(nk + 1, 1);
	next = xcalloc(nk + 1, 1);
	cur[0] = 1;
	for (i = 0; i < np; i++) {
		const char	*p = pattern + pw[i].off;

		if (pw[i].len == 1 && p[0] == '#') {
			for (j = 0, any = 0; j <= nk; j++) {
				any |= cur[j];
				next[j] = any;
			}
		} else {
			next[0] = 0;
			for (j = 0; j < nk; j++) {
				if (!cur[j])
					next[j + 1] = 0;
				else if (pw[i].len == 1 && p[0] == '*')
					next[j + 1] = 1;
				else
					next[j + 1] = pw[i].len == kw[j].len &&
					    memcmp(p, key + kw[j].off,
					    kw[j].len) == 0;
			}
		}
		swap = cur;
		cur = next;
		next = swap;
	}
	match = cur[nk];

	free(cur);
	free(next);
	free(pw);
	free(kw);
	return (match);
}

/* Make an index holding only the root. */
static void *
exchange_topic_create(void)
{
	struct exchange_topic	*t;

	t = xcalloc(1, sizeof *t);
	t->root = xcalloc(1, sizeof *t->root);
	t->root->kind = TOPIC_ROOT;
	TAILQ_INIT(&t->root->links);
	return (t);
}

/* Free the whole trie; the bindings themselves belong to exchange.c. */
static void
exchange_topic_destroy(void *state)
{
	struct exchange_topic	*t = state;

	if (t == NULL)
		return;
	exchange_topic_node_free(t->root);
	free(t);
}

/* Free n, its links and everything below it. */
static void
exchange_topic_node_free(struct exchange_topic_node *n)
{
	struct exchange_topic_node	*c, *tmp;
	struct exchange_topic_link	*l;

	HASH_ITER(hh, n->words, c, tmp) {
		HASH_DEL(n->words, c);
		exchange_topic_node_free(c);
	}
	if (n->star != NULL)
		exchange_topic_node_free(n->star);
	if (n->hash != NULL)
		exchange_topic_node_free(n->hash);
	while ((l = TAILQ_FIRST(&n->links)) != NULL) {
		TAILQ_REMOVE(&n->links, l, entry);
		free(l);
	}
	free(n->word);
	free(n);
}

/* Make a child of parent reached by an edge of the given kind. */
static struct exchange_topic_node *
exchange_topic_node_new(struct exchange_topic *t,
    struct exchange_topic_node *parent, enum exchange_topic_kind kind,
    const char *word, size_t len)
{
	struct exchange_topic_node	*n;

	n = xcalloc(1, sizeof *n);
	n->parent = parent;
	n->kind = kind;
	TAILQ_INIT(&n->links);
	switch (kind) {
	case TOPIC_WORD:
		n->word = xmalloc(len + 1);
		memcpy(n->word, word, len);
		n->word[len] = '\0';
		n->wordlen = len;
		HASH_ADD_KEYPTR(hh, parent->words, n->word, n->wordlen, n);
		break;
	case TOPIC_STAR:
		parent->star = n;
		break;
	case TOPIC_HASH:
		parent->hash = n;
		break;
	case TOPIC_ROOT:
		fatal("topic trie: a second root");
	}
	t->nnodes++;
	return (n);
}

/* The child of n for one pattern word, made if missing. */
static struct exchange_topic_node *
exchange_topic_child(struct exchange_topic *t, struct exchange_topic_node *n,
    const char *word, size_t len)
{
	struct exchange_topic_node	*c;

	if (len == 1 && word[0] == '*') {
		if (n->star == NULL)
			return (exchange_topic_node_new(t, n, TOPIC_STAR,
			    NULL, 0));
		return (n->star);
	}
	if (len == 1 && word[0] == '#') {
		if (n->hash == NULL)
			return (exchange_topic_node_new(t, n, TOPIC_HASH,
			    NULL, 0));
		return (n->hash);
	}
	HASH_FIND(hh, n->words, word, len, c);
	if (c == NULL)
		c = exchange_topic_node_new(t, n, TOPIC_WORD, word, len);
	return (c);
}

/* Follow (making as needed) the path of b's pattern and hang b there. */
static void
exchange_topic_bind(void *state, struct binding *b)
{
	struct exchange_topic		*t = state;
	struct exchange_topic_node	*n = t->root;
	struct exchange_topic_link	*l;
	const char			*p, *end, *dot;

	if (b->keylen > 0) {
		p = b->key;
		end = b->key + b->keylen;
		for (;;) {
			dot = memchr(p, '.', end - p);
			n = exchange_topic_child(t, n, p,
			    (dot != NULL ? dot : end) - p);
			if (dot == NULL)
				break;
			p = dot + 1;
		}
	}
	l = xcalloc(1, sizeof *l);
	l->b = b;
	l->n = n;
	TAILQ_INSERT_TAIL(&n->links, l, entry);
	b->type_data = l;
}

/* Remove n and then its ancestors while they hold nothing. */
static void
exchange_topic_prune(struct exchange_topic *t, struct exchange_topic_node *n)
{
	struct exchange_topic_node	*parent;

	while (n->parent != NULL && TAILQ_EMPTY(&n->links) &&
	    n->words == NULL && n->star == NULL && n->hash == NULL) {
		parent = n->parent;
		switch (n->kind) {
		case TOPIC_WORD:
			HASH_DEL(parent->words, n);
			break;
		case TOPIC_STAR:
			parent->star = NULL;
			break;
		case TOPIC_HASH:
			parent->hash = NULL;
			break;
		case TOPIC_ROOT:
			fatal("topic trie: root with a parent");
		}
		free(n->word);
		free(n);
		t->nnodes--;
		n = parent;
	}
}

/* Unhang b from its node and prune the branch if it is now empty. */
static void
exchange_topic_unbind(void *state, struct binding *b)
{
	struct exchange_topic		*t = state;
	struct exchange_topic_link	*l = b->type_data;
	struct exchange_topic_node	*n;

	if (l == NULL)
		return;
	n = l->n;
	TAILQ_REMOVE(&n->links, l, entry);
	free(l);
	b->type_data = NULL;
	exchange_topic_prune(t, n);
}

/* Number of trie nodes below the root (tests check pruning with it). */
size_t
exchange_topic_nodes(void *state)
{
	struct exchange_topic	*t = state;

	return (t->nnodes);
}

/*
 * Walk from n, which the first i key words have reached: emit n's bindings
 * if the key is used up, else follow the next word's literal edge and the
 * "*" edge; and let a "#" child start at word i.
 */
static void
exchange_topic_walk(struct exchange_topic_walk *w,
    struct exchange_topic_node *n, size_t i)
{
	struct exchange_topic_node	*c;
	struct exchange_topic_link	*l;

	if (i == w->n) {
		TAILQ_FOREACH(l, &n->links, entry)
			w->emit(l->b, w->arg);
	} else {
		if (n->words != NULL) {
			HASH_FIND(hh, n->words, w->key + w->w[i].off,
			    w->w[i].len, c);
			if (c != NULL)
				exchange_topic_walk(w, c, i + 1);
		}
		if (n->star != NULL)
			exchange_topic_walk(w, n->star, i + 1);
	}
	if (n->hash != NULL)
		exchange_topic_walk_hash(w, n->hash, i);
}

/*
 * Enter the "#" node h at word i: the "#" eats words i..k-1 for every k
 * from i to the end, and the walk goes on from h with k words used.
 *
 * Memoised, which keeps "#.#.#.#.x" against a long key polynomial instead
 * of exponential: if this walk already entered h at some word j, every k
 * >= j was done then, so only [i, j) is new (nothing if i >= j).  A node
 * has one path from the root, so without the repeats at "#" nodes no node
 * is reached twice at the same word: the walk is O(trie nodes * words)
 * and emits each binding at most once.  The walk id is kept in the
 * node and compared with this walk's own, so a route() of this exchange
 * started from inside emit only costs the outer walk some repeated
 * (never missing) emits.
 */
static void
exchange_topic_walk_hash(struct exchange_topic_walk *w,
    struct exchange_topic_node *h, size_t i)
{
	size_t	k, end;

	if (h->walk == w->id) {
		if (i >= h->from)
			return;
		end = h->from;
	} else {
		h->walk = w->id;
		end = w->n + 1;
	}
	h->from = i;
	for (k = i; k < end; k++)
		exchange_topic_walk(w, h, k);
}

/* Split the routing key into words and walk the trie with them. */
static void
exchange_topic_route(void *state, const char *key, size_t keylen,
    const struct field_table *headers, exchange_emit_cb emit, void *arg)
{
	struct exchange_topic		*t = state;
	struct exchange_topic_word	 stackw[TOPIC_STACK_WORDS], *words;
	struct exchange_topic_walk	 w;

	if (key == NULL)
		key = "";
	w.key = key;
	w.n = exchange_topic_count(key, keylen);
	words = stackw;
	if (w.n > TOPIC_STACK_WORDS)
		words = xcalloc(w.n, sizeof *words);
	exchange_topic_split(key, keylen, words);
	w.w = words;
	w.id = ++t->walks;
	w.emit = emit;
	w.arg = arg;

	exchange_topic_walk(&w, t->root, 0);

	if (words != stackw)
		free(words);
}
