/* The pprof formatter: the report as a gzipped profile.proto, the format
 * `go tool pprof` and pprof's web UI read, so that map waste can be seen
 * by owner in -top, -tree, -http and the flame graph.
 *
 * One sample per map something reaches (the maps the summary's totals
 * cover, so pprof's total is the JSON summary's), with four values:
 * reclaimable_bytes (the default), retained_bytes, maps (1) and entries.
 * Its "stack" is the map's first path, outermost frame first: the root
 * variable (or the goroutine's function), then the path one hop at a
 * time, each frame named by the path so far, and last the map's type as
 * the leaf, so `-top` ranks types by what they waste (flat) and owners by
 * what they hold (cum).  Indices and goroutine ids are collapsed
 * (main.shards[*]) so that a thousand shards are one owner; the exact path
 * and address are sample labels.
 *
 * The protobuf is written by the small encoder below (varints and
 * length-delimited fields are all profile.proto needs), then gzipped with
 * zlib.  Field numbers are those of pprof's profile.proto. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "format.h"
#include "group.h"

/* ---- protobuf --------------------------------------------------------- */

struct pb {
	unsigned char *p;
	size_t n, cap;
	bool oom;
};

static void pb_raw(struct pb *b, const void *src, size_t n)
{
	if (b->oom)
		return;
	if (b->cap - b->n < n) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap - b->n < n) {
			if (cap > SIZE_MAX / 2) {
				b->oom = true;
				return;
			}
			cap *= 2;
		}
		unsigned char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, src, n);
	b->n += n;
}

static void pb_varint(struct pb *b, uint64_t v)
{
	unsigned char buf[10];
	size_t n = 0;

	do {
		buf[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	pb_raw(b, buf, n);
}

enum { WIRE_VARINT = 0, WIRE_LEN = 2 };

static void pb_key(struct pb *b, unsigned field, unsigned wire)
{
	pb_varint(b, (uint64_t)field << 3 | wire);
}

/* A varint field; zero is the default and is left out. */
static void pb_uint(struct pb *b, unsigned field, uint64_t v)
{
	if (!v)
		return;
	pb_key(b, field, WIRE_VARINT);
	pb_varint(b, v);
}

static void pb_bytes(struct pb *b, unsigned field, const void *p, size_t n)
{
	pb_key(b, field, WIRE_LEN);
	pb_varint(b, n);
	pb_raw(b, p, n);
}

/* An embedded message, already encoded in sub (which is emptied). */
static void pb_msg(struct pb *b, unsigned field, struct pb *sub)
{
	if (sub->oom)
		b->oom = true;
	pb_bytes(b, field, sub->p, sub->n);
	sub->n = 0;
}

/* ---- interned strings and frames --------------------------------------- */

/* Open addressing over indices into a list of strings; index 0 of the
 * string table is "" as profile.proto requires.  A slot keeps the upper
 * half of the hash beside the index, so that a probe rarely has to read
 * a string (on a million maps those reads are what the time goes to). */
struct strtab {
	char **s;
	size_t n, cap;
	uint64_t *slot;           /* hash << 32 | (1 + index); 0 empty */
	size_t nslots;
	bool oom;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	/* FNV's multiply only carries upwards: without this the low bits
	 * the table uses hardly depend on the digits ending "[123]", "0xc0...". */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

static int strtab_grow(struct strtab *t)
{
	size_t ns = t->nslots ? t->nslots * 2 : 1024;
	uint64_t *slot = calloc(ns, sizeof(*slot));
	if (!slot)
		return -1;
	for (size_t i = 0; i < t->nslots; i++) {
		uint64_t v = t->slot[i];
		if (!v)
			continue;
		size_t h = (size_t)hash_str(t->s[(uint32_t)v - 1]) & (ns - 1);
		while (slot[h])
			h = (h + 1) & (ns - 1);
		slot[h] = v;
	}
	free(t->slot);
	t->slot = slot;
	t->nslots = ns;
	return 0;
}

/* Append s to the list, not to the table (a string seen once: a map's
 * own path or address).  Returns its index. */
static uint64_t strtab_add(struct strtab *t, const char *s)
{
	if (t->oom)
		return 0;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		char **v = t->n < UINT32_MAX - 1 ? realloc(t->s, cap * sizeof(*v)) : NULL;
		if (!v)
			goto oom;
		t->s = v;
		t->cap = cap;
	}
	if (!(t->s[t->n] = strdup(s)))
		goto oom;
	return t->n++;
oom:
	t->oom = true;
	return 0;
}

/* The index of s, added if new. */
static uint64_t strtab_id(struct strtab *t, const char *s, bool *added)
{
	if (added)
		*added = false;
	if (t->oom)
		return 0;
	if ((t->n + 1) * 2 > t->nslots && strtab_grow(t) < 0) {
		t->oom = true;
		return 0;
	}
	uint64_t hv = hash_str(s), tag = hv >> 32;
	size_t h = (size_t)hv & (t->nslots - 1);
	while (t->slot[h]) {
		uint64_t v = t->slot[h];
		if (v >> 32 == tag && !strcmp(t->s[(uint32_t)v - 1], s))
			return (uint32_t)v - 1;
		h = (h + 1) & (t->nslots - 1);
	}
	uint64_t i = strtab_add(t, s);
	if (t->oom)
		return 0;
	t->slot[h] = tag << 32 | (i + 1);
	if (added)
		*added = true;
	return i;
}

static void strtab_free(struct strtab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->s[i]);
	free(t->s);
	free(t->slot);
}

/* ---- a path as frames -------------------------------------------------- */

/* Frames of one map, outermost first: frame i is buf[start..end), most
 * of them the path up to and including a hop, indices collapsed. */
struct frames {
	char *buf;
	size_t len, cap;
	struct { size_t start, end; } *fr;
	size_t n, capn;
	bool oom;
};

static void fr_put(struct frames *f, const char *s, size_t n)
{
	if (f->oom)
		return;
	if (f->cap - f->len < n + 1) {
		size_t cap = f->cap ? f->cap : 256;
		while (cap - f->len < n + 1)
			cap *= 2;
		char *p = realloc(f->buf, cap);
		if (!p) {
			f->oom = true;
			return;
		}
		f->buf = p;
		f->cap = cap;
	}
	memcpy(f->buf + f->len, s, n);
	f->len += n;
	f->buf[f->len] = 0;
}

static void fr_add(struct frames *f, size_t start, size_t end)
{
	if (f->oom)
		return;
	if (f->n == f->capn) {
		size_t cap = f->capn ? f->capn * 2 : 16;
		void *e = realloc(f->fr, cap * sizeof(*f->fr));
		if (!e) {
			f->oom = true;
			return;
		}
		f->fr = e;
		f->capn = cap;
	}
	f->fr[f->n].start = start;
	f->fr[f->n].end = end;
	f->n++;
}

/* The path so far is a frame. */
static void fr_end(struct frames *f)
{
	fr_add(f, 0, f->len);
}

/* Copy s[0..n) collapsing an index or a map value's key, "[123]",
 * "[\"alice\"]", into "[*]" and a descent through a tree, "{.left.right}",
 * into "{*}" (the maps of every element, entry and depth under one frame). */
static void fr_put_collapsed(struct frames *f, const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		if (s[i] == '[') {
			size_t k = group_close(s + i, n - i);
			if (k) {
				fr_put(f, "[*]", 3);
				i += k;
				continue;
			}
		}
		if (s[i] == '{') {
			const char *e = memchr(s + i, '}', n - i);
			if (e) {
				fr_put(f, "{*}", 3);
				i = (size_t)(e - s) + 1;
				continue;
			}
		}
		fr_put(f, s + i, 1);
		i++;
	}
}

/* Length of the hop at s: ".field", "[3]", ".(*T)", ".(closure f).x" is
 * two hops, "+24", "<-[0]", a map value's "[\"alice\"]" and a tree's
 * descent "{.left.right}" one each; brackets and parentheses nest, quoted
 * strings are skipped whole. */
static size_t hop_len(const char *s)
{
	size_t i = 0;

	if (s[0] == '{') {
		const char *e = strchr(s, '}');
		return e ? (size_t)(e - s) + 1 : strlen(s);
	}
	if (s[0] == '<' && s[1] == '-')
		i = 2;
	else if (s[0] == '+' || s[0] == '.')
		i = 1;
	if (s[i] == '(' || s[i] == '[') {
		size_t k = group_close(s + i, SIZE_MAX);
		return k ? i + k : i + strlen(s + i);
	}
	for (; s[i]; i++)
		if (s[i] == '.' || s[i] == '[' || s[i] == '+' || s[i] == '{' ||
		    (s[i] == '<' && s[i + 1] == '-'))
			break;
	return i ? i : 1;
}

/* Split path into frames (see the file comment).  Returns 0, or -1 when
 * memory ran out. */
static int split_path(struct frames *f, const char *path)
{
	static const char arrow[] = " \xe2\x86\x92 ";   /* " → " */
	const char *rest;

	f->len = f->n = 0;
	f->oom = false;
	if (!strncmp(path, "goroutine ", 10)) {
		/* "goroutine 17 (main.worker) → local x.f": main.worker, then
		 * "goroutine (main.worker) → local x", then that and ".f". */
		const char *a = strstr(path, arrow);
		const char *end = a ? a : path + strlen(path);
		const char *open = memchr(path, '(', (size_t)(end - path));
		fr_put(f, "goroutine", 9);
		if (open && end[-1] == ')') {
			fr_put(f, " ", 1);
			fr_put(f, open, (size_t)(end - open));
			fr_add(f, 11, f->len - 1);          /* the function alone */
		} else {
			fr_end(f);                          /* a goroutine's own record */
		}
		if (!a)
			return f->oom ? -1 : 0;
		rest = a + sizeof(arrow) - 1;
		fr_put(f, arrow, sizeof(arrow) - 1);
		if (!strncmp(rest, "stack word", 10) || !strncmp(rest, "frame word", 10)) {
			/* One conservative hop; its address says nothing across maps. */
			fr_put(f, rest, 10);
			fr_end(f);
			return f->oom ? -1 : 0;
		}
		size_t k = strncmp(rest, "local ", 6) ? 0 : 6;
		k += hop_len(rest + k);
		fr_put_collapsed(f, rest, k);
		fr_end(f);
		rest += k;
	} else {
		/* A package variable: the package path (which may hold dots and
		 * slashes), its last element up to a dot, the name. */
		size_t stop = strcspn(path, "[(<+{ ");
		const char *name = path;
		for (const char *p = path; p < path + stop; p++)
			if (*p == '/')
				name = p + 1;
		const char *dot = memchr(name, '.', (size_t)(path + stop - name));
		size_t k = dot ? (size_t)(dot + 1 - path) : stop;
		if (dot)
			k += strcspn(path + k, ".[(<+{ ");
		fr_put_collapsed(f, path, k);
		fr_end(f);
		rest = path + k;
	}
	while (*rest) {
		size_t k = hop_len(rest);
		fr_put_collapsed(f, rest, k);
		fr_end(f);
		rest += k;
	}
	return f->oom ? -1 : 0;
}

/* ---- the profile ------------------------------------------------------- */

#define KEEP_FRAMES 16            /* hops kept at each end of a longer path */

static int64_t clamp(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* Deflate the encoded profile into out as a gzip stream. */
static int gzip_to(FILE *out, const unsigned char *p, size_t n)
{
	z_stream z;
	unsigned char buf[1 << 16];
	int rc;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 16 + MAX_WBITS, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		errno = ENOMEM;
		return -1;
	}
	z.next_in = (unsigned char *)p;
	do {
		size_t chunk = n > (1u << 30) ? (1u << 30) : n;
		z.avail_in = (uInt)chunk;
		n -= chunk;
		do {
			z.next_out = buf;
			z.avail_out = sizeof(buf);
			rc = deflate(&z, n ? Z_NO_FLUSH : Z_FINISH);
			if (rc == Z_STREAM_ERROR)
				break;
			size_t have = sizeof(buf) - z.avail_out;
			if (have && fwrite(buf, 1, have, out) != have) {
				deflateEnd(&z);
				return -1;
			}
		} while (z.avail_out == 0);
	} while (n);
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		errno = EIO;
		return -1;
	}
	return ferror(out) ? -1 : 0;
}

int format_pprof(FILE *out, const struct report *r)
{
	struct strtab st = { 0 }, fn = { 0 };
	struct pb prof = { 0 }, sub = { 0 }, sub2 = { 0 };
	struct frames f = { 0 };
	uint64_t *stack = NULL;
	size_t capstack = 0;
	int rc = -1;

	strtab_id(&st, "", NULL);
	/* sample_type, in the order of the values. */
	static const char *const types[][2] = {
		{ "reclaimable_bytes", "bytes" }, { "retained_bytes", "bytes" },
		{ "maps", "count" }, { "entries", "count" },
	};
	for (size_t i = 0; i < 4; i++) {
		pb_uint(&sub, 1, strtab_id(&st, types[i][0], NULL));
		pb_uint(&sub, 2, strtab_id(&st, types[i][1], NULL));
		pb_msg(&prof, 1, &sub);
	}
	uint64_t k_path = strtab_id(&st, "path", NULL), k_addr = strtab_id(&st, "address", NULL);
	uint64_t k_layout = strtab_id(&st, "layout", NULL);

	for (size_t i = 0; i < r->nmaps; i++) {
		const struct map_entry *m = &r->maps[i];
		if (m->unreachable)
			continue;
		/* Strings from the core: bytes that are not UTF-8 become \xNN
		 * text (protobuf strings are UTF-8). */
		char *path = format_escape(m->nroots ? m->roots[0] : "(no path)", ESCAPE_JSON);
		char *type = format_escape(m->type ? m->type : "map (type unknown)", ESCAPE_JSON);
		char *leaf = NULL;
		if (path && type && asprintf(&leaf, "%s%s", type, m->type_guessed ? " (guess)" : "") < 0)
			leaf = NULL;
		free(type);
		if (!leaf || split_path(&f, path) < 0) {
			free(path);
			free(leaf);
			goto out;
		}
		/* A path through a long chain (a linked list) would make a stack
		 * of thousands of frames, each named by a longer prefix: keep
		 * the first and the last KEEP_FRAMES hops, the last ones named
		 * "<first part>…<their own part>". */
		size_t nf = f.n > 2 * KEEP_FRAMES ? 2 * KEEP_FRAMES : f.n;
		size_t depth = nf + 1;
		if (depth > capstack) {
			uint64_t *s = realloc(stack, depth * 2 * sizeof(*s));
			if (!s)
				goto out;
			stack = s;
			capstack = depth * 2;
		}
		/* location_id lists the leaf first.  A frame's function and
		 * location share one id, 1 + its index in fn. */
		stack[0] = 1 + strtab_id(&fn, leaf, NULL);
		free(leaf);
		for (size_t j = 0; j < nf; j++) {
			size_t k = j < KEEP_FRAMES || nf == f.n ? j : f.n - (nf - j);
			char *e = f.buf + f.fr[k].end;
			char save = *e;
			*e = 0;
			if (k == j) {
				stack[nf - j] = 1 + strtab_id(&fn, f.buf + f.fr[k].start, NULL);
			} else {
				size_t head = f.fr[KEEP_FRAMES - 1].end;
				size_t tail = f.fr[f.n - KEEP_FRAMES - 1].end;
				char *name = NULL;
				if (asprintf(&name, "%.*s\xe2\x80\xa6%s", (int)head, f.buf, f.buf + tail) < 0) {
					*e = save;
					free(path);
					goto out;
				}
				stack[nf - j] = 1 + strtab_id(&fn, name, NULL);
				free(name);
			}
			*e = save;
		}
		if (fn.oom || st.oom) {
			free(path);
			goto out;
		}
		for (size_t j = 0; j < depth; j++)
			pb_varint(&sub2, stack[j]);
		pb_msg(&sub, 1, &sub2);
		pb_varint(&sub2, (uint64_t)clamp(m->fig.reclaimable_bytes));
		pb_varint(&sub2, (uint64_t)clamp(m->fig.retained_bytes));
		pb_varint(&sub2, 1);
		pb_varint(&sub2, (uint64_t)clamp(m->fig.count));
		pb_msg(&sub, 2, &sub2);
		char addr[24];
		snprintf(addr, sizeof(addr), "0x%" PRIx64, m->address);
		const struct { uint64_t key; const char *val; } labels[] = {
			{ k_path, path }, { k_addr, addr }, { k_layout, layout_name(m->layout) },
		};
		for (size_t j = 0; j < 3; j++) {
			pb_uint(&sub2, 1, labels[j].key);
			pb_uint(&sub2, 2, j < 2 ? strtab_add(&st, labels[j].val)
					       : strtab_id(&st, labels[j].val, NULL));
			pb_msg(&sub, 3, &sub2);
		}
		free(path);
		pb_msg(&prof, 2, &sub);
		if (prof.oom)
			goto out;
	}
	/* One mapping, the executable, whose "functions" are all known: pprof
	 * then neither looks for the binary nor tries to symbolize. */
	pb_uint(&sub, 1, 1);
	pb_uint(&sub, 5, strtab_id(&st, r->executable ? r->executable : "", NULL));
	pb_uint(&sub, 7, 1);
	pb_msg(&prof, 3, &sub);
	/* Functions and their locations. */
	for (size_t i = 0; i < fn.n; i++) {
		pb_uint(&sub, 1, i + 1);
		/* No system_name: pprof takes a function whose name equals it for
		 * an undemangled C++ symbol and cuts what is in parentheses
		 * (".(*main.T)", closures) out of names that hold brackets. */
		pb_uint(&sub, 2, strtab_id(&st, fn.s[i], NULL));
		pb_msg(&prof, 5, &sub);
		pb_uint(&sub2, 1, i + 1);
		pb_msg(&sub, 4, &sub2);
		pb_uint(&sub, 1, i + 1);
		pb_uint(&sub, 2, 1);
		pb_msg(&prof, 4, &sub);
	}
	/* What the profile is of, shown by pprof -comments and the web UI. */
	char comment[1024];
	snprintf(comment, sizeof(comment), "mapscan %s: Go maps in %s (%s), %s", MAPSCAN_VERSION,
		 r->source ? r->source : "?", r->executable ? r->executable : "?",
		 r->go_version ? r->go_version : "Go version unknown");
	uint64_t c = strtab_id(&st, comment, NULL);
	uint64_t dflt = strtab_id(&st, "reclaimable_bytes", NULL);
	if (st.oom)
		goto out;
	for (size_t i = 0; i < st.n; i++)
		pb_bytes(&prof, 6, st.s[i], strlen(st.s[i]));
	pb_key(&prof, 13, WIRE_VARINT);
	pb_varint(&prof, c);
	pb_uint(&prof, 14, dflt);
	if (prof.oom || sub.oom || sub2.oom)
		goto out;
	rc = gzip_to(out, prof.p, prof.n);
out:
	if (rc < 0 && (prof.oom || sub.oom || sub2.oom || st.oom || fn.oom || f.oom))
		errno = ENOMEM;
	free(stack);
	free(f.buf);
	free(f.fr);
	free(prof.p);
	free(sub.p);
	free(sub2.p);
	strtab_free(&st);
	strtab_free(&fn);
	return rc;
}
