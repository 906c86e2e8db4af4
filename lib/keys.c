/* Sample keys (keys.h): a key read through its DWARF type and printed the
 * way Go prints it.  Every read is checked and every length bounded: a
 * string claims any length, a struct may nest, a pointer may point
 * nowhere -- the worst a key gets is "?". */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bits.h"
#include "keys.h"
#include "utf8.h"

enum {
	STR_MAX = 64,             /* bytes of a string key shown */
	DEPTH_MAX = 3,            /* structs and arrays inside a key */
	FIELDS_MAX = 8,           /* fields or elements shown of one struct or array */
};

/* reflect.Kind, as DW_AT_go_kind has it. */
enum {
	K_BOOL = 1, K_INT, K_INT8, K_INT16, K_INT32, K_INT64, K_UINT, K_UINT8, K_UINT16,
	K_UINT32, K_UINT64, K_UINTPTR, K_FLOAT32, K_FLOAT64, K_COMPLEX64, K_COMPLEX128,
};

/* ---- strconv.Quote ------------------------------------------------------ */

/* v in decimal at out (room for 21 bytes), terminated. */
static void fmt_u64(char *out, uint64_t v)
{
	out[u64_dec(out, v)] = 0;
}

/* Runes Go's unicode.IsPrint rejects that a key may plausibly hold:
 * controls, spaces other than ' ', format characters (the invisible and
 * bidirectional ones among them), private use. */
static bool not_print(uint32_t c)
{
	static const uint32_t ranges[][2] = {
		{ 0x7f, 0xa0 }, { 0xad, 0xad }, { 0x600, 0x605 }, { 0x61c, 0x61c },
		{ 0x6dd, 0x6dd }, { 0x70f, 0x70f }, { 0x1680, 0x1680 }, { 0x180e, 0x180e },
		{ 0x2000, 0x200f }, { 0x2028, 0x202f }, { 0x205f, 0x2064 }, { 0x2066, 0x206f },
		{ 0x3000, 0x3000 }, { 0xe000, 0xf8ff }, { 0xfeff, 0xfeff }, { 0xfff9, 0xfffb },
		{ 0x110bd, 0x110bd }, { 0x1d173, 0x1d17a }, { 0xe0001, 0xe0001 },
		{ 0xe0020, 0xe007f }, { 0xf0000, 0x10ffff },
	};

	if (c < 0x20)
		return true;
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if (c >= ranges[i][0] && c <= ranges[i][1])
			return true;
	return false;
}

size_t key_quote(const unsigned char *s, size_t n, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t len = 0;

	if (cap < 3) {
		if (cap)
			out[0] = '\0';
		return 0;
	}
	out[len++] = '"';
	for (size_t i = 0; i < n;) {
		char e[12];
		size_t k = 0;
		uint32_t c;
		int l = utf8_decode(s + i, n - i, &c);

		if (l == 0) {
			e[k++] = '\\', e[k++] = 'x', e[k++] = hex[s[i] >> 4], e[k++] = hex[s[i] & 15];
			l = 1;
		} else if (c == '"' || c == '\\') {
			e[k++] = '\\', e[k++] = (char)c;
		} else if (c < 0x80 && not_print(c)) {
			const char *named = strchr("\aa\bb\ff\nn\rr\tt\vv", (int)c);
			e[k++] = '\\';
			if (c && named && (named - "\aa\bb\ff\nn\rr\tt\vv") % 2 == 0) {
				e[k++] = named[1];
			} else {
				e[k++] = 'x', e[k++] = hex[c >> 4], e[k++] = hex[c & 15];
			}
		} else if (not_print(c)) {
			k = (size_t)snprintf(e, sizeof(e), c > 0xffff ? "\\U%08" PRIx32 : "\\u%04" PRIx32, c);
		} else {
			memcpy(e, s + i, (size_t)l);
			k = (size_t)l;
		}
		if (len + k + 2 > cap)   /* the closing quote and the terminator */
			break;
		memcpy(out + len, e, k);
		len += k;
		i += (size_t)l;
	}
	out[len++] = '"';
	out[len] = '\0';
	return len;
}

/* ---- numbers -------------------------------------------------------------- */

void key_float(double v, int bits, char *out, size_t cap)
{
	char e[40], digits[24];
	int p;

	if (isnan(v)) {
		snprintf(out, cap, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(out, cap, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	/* The fewest digits that read back as the same value. */
	for (p = 1; p < 17; p++) {
		snprintf(e, sizeof(e), "%.*e", p - 1, v);
		double back = strtod(e, NULL);
		if (bits == 32 ? (float)back == (float)v : back == v)
			break;
	}
	snprintf(e, sizeof(e), "%.*e", p - 1, v);
	/* e: [-]d[.ddd]e[+-]xx */
	const char *q = e;
	bool neg = *q == '-';
	size_t nd = 0;
	if (neg)
		q++;
	for (; *q && *q != 'e'; q++)
		if (*q >= '0' && *q <= '9' && nd < sizeof(digits) - 1)
			digits[nd++] = *q;
	digits[nd] = '\0';
	while (nd > 1 && digits[nd - 1] == '0')
		digits[--nd] = '\0';
	int x = *q == 'e' ? atoi(q + 1) : 0;
	size_t len = 0;
#define OUT(c) ((void)(len + 1 < cap && (out[len++] = (c))))
	if (neg)
		OUT('-');
	if (x < -4 || x >= 6) {   /* %e, as 'g' with the shortest precision */
		OUT(digits[0]);
		if (nd > 1) {
			OUT('.');
			for (size_t i = 1; i < nd; i++)
				OUT(digits[i]);
		}
		char ex[16];
		snprintf(ex, sizeof(ex), "e%c%02d", x < 0 ? '-' : '+', x < 0 ? -x : x);
		for (char *c = ex; *c; c++)
			OUT(*c);
	} else if (x < 0) {
		OUT('0');
		OUT('.');
		for (int i = -1; i > x; i--)
			OUT('0');
		for (size_t i = 0; i < nd; i++)
			OUT(digits[i]);
	} else {
		for (int i = 0; i <= x; i++)
			OUT((size_t)i < nd ? digits[i] : '0');
		if (nd > (size_t)x + 1) {
			OUT('.');
			for (size_t i = (size_t)x + 1; i < nd; i++)
				OUT(digits[i]);
		}
	}
#undef OUT
	out[len] = '\0';
}

/* ---- values ---------------------------------------------------------------- */

struct kw {
	const struct target *t;
	const struct gtypes *g;
	const struct goruntime *rt;
	char buf[1024];
	size_t len;
	bool full;
};

static void put(struct kw *w, const char *s)
{
	size_t k = strlen(s);

	if (w->len + k >= sizeof(w->buf)) {
		w->full = true;
		return;
	}
	memcpy(w->buf + w->len, s, k + 1);
	w->len += k;
}

static bool read_n(struct kw *w, uint64_t addr, void *buf, size_t n)
{
	return addr && target_read(w->t, addr, buf, n) == 0;
}

/* A base type's kind from its name, for DWARF without DW_AT_go_kind. */
static int kind_by_name(const char *name, uint64_t size)
{
	static const struct { const char *name; int kind; } names[] = {
		{ "bool", K_BOOL }, { "int", K_INT }, { "int8", K_INT8 }, { "int16", K_INT16 },
		{ "int32", K_INT32 }, { "rune", K_INT32 }, { "int64", K_INT64 }, { "uint", K_UINT },
		{ "uint8", K_UINT8 }, { "byte", K_UINT8 }, { "uint16", K_UINT16 },
		{ "uint32", K_UINT32 }, { "uint64", K_UINT64 }, { "uintptr", K_UINTPTR },
		{ "float32", K_FLOAT32 }, { "float64", K_FLOAT64 }, { "complex64", K_COMPLEX64 },
		{ "complex128", K_COMPLEX128 },
	};

	for (size_t i = 0; name && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i].name))
			return names[i].kind;
	return size == 1 ? K_UINT8 : size == 2 ? K_INT16 : size == 4 ? K_INT32 : K_INT64;
}

static void put_base(struct kw *w, const struct gtype *t, uint64_t addr)
{
	int kind = t->go_kind ? t->go_kind : kind_by_name(t->name, t->size);
	unsigned char b[16];
	char num[64];
	uint64_t size = kind == K_BOOL || kind == K_INT8 || kind == K_UINT8 ? 1
		: kind == K_INT16 || kind == K_UINT16 ? 2
		: kind == K_INT32 || kind == K_UINT32 || kind == K_FLOAT32 ? 4
		: kind == K_COMPLEX128 ? 16 : 8;

	if (kind > K_COMPLEX128 || !read_n(w, addr, b, (size_t)size)) {
		put(w, "?");
		return;
	}
	uint64_t u = le_u(b, (size_t)(size > 8 ? 8 : size));
	int64_t i = 0;
	switch (kind) {
	case K_BOOL:
		put(w, b[0] == 1 ? "true" : b[0] == 0 ? "false" : "?");
		return;
	case K_INT8:
		i = (int8_t)u;
		goto signed_int;
	case K_INT16:
		i = (int16_t)u;
		goto signed_int;
	case K_INT32:
		i = (int32_t)u;
		goto signed_int;
	case K_INT:
	case K_INT64:
		i = (int64_t)u;
	signed_int:
		/* by hand: snprintf was a sixth of rendering a million maps' keys */
		if (i < 0) {
			num[0] = '-';
			fmt_u64(num + 1, 0 - (uint64_t)i);
		} else {
			fmt_u64(num, (uint64_t)i);
		}
		break;
	case K_FLOAT32: {
		float f;
		uint32_t v = (uint32_t)u;
		memcpy(&f, &v, 4);
		key_float(f, 32, num, sizeof(num));
		break;
	}
	case K_FLOAT64: {
		double d;
		memcpy(&d, &u, 8);
		key_float(d, 64, num, sizeof(num));
		break;
	}
	case K_COMPLEX64:
	case K_COMPLEX128: {
		double re, im;
		if (kind == K_COMPLEX64) {
			float fr, fi;
			memcpy(&fr, b, 4);
			memcpy(&fi, b + 4, 4);
			re = fr, im = fi;
		} else {
			memcpy(&re, b, 8);
			memcpy(&im, b + 8, 8);
		}
		char a[24], c[24];
		key_float(re, kind == K_COMPLEX64 ? 32 : 64, a, sizeof(a));
		key_float(im, kind == K_COMPLEX64 ? 32 : 64, c, sizeof(c));
		snprintf(num, sizeof(num), "(%s%s%si)", a, c[0] == '-' || c[0] == '+' ? "" : "+", c);
		break;
	}
	default:   /* unsigned */
		fmt_u64(num, u);
		break;
	}
	put(w, num);
}

static void put_value(struct kw *w, type_id type, uint64_t addr, int depth);

static uint64_t type_size(const struct gtypes *g, type_id id)
{
	const struct gtype *t = gtypes_get(g, gtypes_resolve(g, id));
	return t ? t->size : 0;
}

static void put_iface(struct kw *w, type_id id, uint64_t addr, int depth)
{
	uint64_t word[2], typ;

	if (!w->rt || !w->rt->types || !read_n(w, addr, word, sizeof(word))) {
		put(w, "?");
		return;
	}
	if (!word[0]) {
		put(w, "<nil>");
		return;
	}
	typ = word[0];
	/* A non-empty interface's first word is an itab. */
	if (gtypes_member(w->g, id, "tab") && (!w->rt->itab_type_off ||
	    target_read_u64(w->t, word[0] + w->rt->itab_type_off, &typ))) {
		put(w, "?");
		return;
	}
	type_id dyn = typ >= w->rt->types && typ < w->rt->etypes
		      ? gtypes_by_runtime_type(w->g, typ - w->rt->types) : 0;
	if (!dyn) {
		/* A type DWARF does not describe: the data word still tells
		 * two keys apart. */
		char num[24];
		snprintf(num, sizeof(num), "0x%" PRIx64, word[1]);
		put(w, num);
		return;
	}
	/* Pointer-shaped values live in the data word itself. */
	put_value(w, dyn, gtypes_direct_iface(w->g, dyn) ? addr + 8 : word[1], depth + 1);
}

static void put_value(struct kw *w, type_id type, uint64_t addr, int depth)
{
	type_id id = gtypes_resolve(w->g, type);
	const struct gtype *t = gtypes_get(w->g, id);
	uint64_t word[2];
	char num[32];

	if (!t || depth > DEPTH_MAX || w->full) {
		put(w, "?");
		return;
	}
	switch (t->kind) {
	case GK_BASE:
		put_base(w, t, addr);
		return;
	case GK_STRING: {
		unsigned char s[STR_MAX];
		char q[STR_MAX * 6 + 8];
		if (!read_n(w, addr, word, sizeof(word)) || word[1] > (1ull << 40)) {
			put(w, "?");
			return;
		}
		size_t n = word[1] < STR_MAX ? (size_t)word[1] : STR_MAX;
		if (n && !read_n(w, word[0], s, n)) {
			put(w, "?");
			return;
		}
		key_quote(s, n, q, sizeof(q));
		put(w, q);
		if (word[1] > STR_MAX) {
			snprintf(num, sizeof(num), "…(%" PRIu64 " bytes)", word[1]);
			put(w, num);
		}
		return;
	}
	case GK_PTR:
	case GK_CHAN:
	case GK_FUNC:
	case GK_MAP:
		if (!read_n(w, addr, word, 8)) {
			put(w, "?");
			return;
		}
		if (word[0])
			snprintf(num, sizeof(num), "0x%" PRIx64, word[0]);
		else
			snprintf(num, sizeof(num), "nil");
		put(w, num);
		return;
	case GK_IFACE:
		put_iface(w, id, addr, depth);
		return;
	case GK_STRUCT: {
		size_t n;
		const struct gmember *m = gtypes_members(w->g, id, &n);
		put(w, "{");
		for (size_t i = 0; i < n && !w->full; i++) {
			if (i)
				put(w, ", ");
			if (i == FIELDS_MAX) {
				put(w, "…");
				break;
			}
			put_value(w, m[i].type, addr + m[i].offset, depth + 1);
		}
		put(w, "}");
		return;
	}
	case GK_ARRAY: {
		uint64_t es = type_size(w->g, t->elem);
		put(w, "[");
		for (uint64_t i = 0; i < t->count && !w->full; i++) {
			if (i)
				put(w, ", ");
			if (i == FIELDS_MAX / 2) {
				put(w, "…");
				break;
			}
			put_value(w, t->elem, addr + i * es, depth + 1);
		}
		put(w, "]");
		return;
	}
	default:
		put(w, "?");
		return;
	}
}

size_t key_format(const struct target *t, const struct gtypes *g, const struct goruntime *rt,
		  type_id type, uint64_t addr, char *out, size_t n)
{
	struct kw w = { .t = t, .g = g, .rt = rt };
	size_t lim = n - 1;

	if (!n)
		return 0;
	put_value(&w, type, addr, 0);
	if (w.len > lim || w.full) {
		/* Cut on a character, and say so. */
		size_t cut = lim >= 3 ? lim - 3 : 0;
		if (cut > w.len)
			cut = w.len;
		while (cut && ((unsigned char)w.buf[cut] & 0xc0) == 0x80)
			cut--;
		memcpy(out, w.buf, cut);
		if (lim >= 3) {
			memcpy(out + cut, "…", 3);
			cut += 3;
		}
		out[cut] = '\0';
		return cut;
	}
	memcpy(out, w.buf, w.len + 1);
	return w.len;
}

int keys_render(struct report *r, struct map_entry *m, const struct target *t,
		const struct gtypes *g, const struct goruntime *rt, type_id key,
		const struct key_sample *s)
{
	return keys_render_in(&r->arena, m, t, g, rt, key, s);
}

static void keys_on_slot(void *arg, uint64_t key_addr, uint64_t elem_addr)
{
	(void)elem_addr;
	key_sample_add(&((struct keys_cb *)arg)->ks, key_addr);
}

static void keys_on_alloc(void *arg, uint64_t addr)
{
	struct keys_cb *k = arg;
	if (k->alloc)
		k->alloc(k->alloc_arg, addr);
}

void keys_cb_init(struct keys_cb *k, alloc_fn alloc, void *alloc_arg)
{
	memset(k, 0, sizeof(*k));
	k->cb = (struct walk_cb){ keys_on_slot, keys_on_alloc, k };
	k->alloc = alloc;
	k->alloc_arg = alloc_arg;
}

int keys_render_in(struct arena **a, struct map_entry *m, const struct target *t,
		   const struct gtypes *g, const struct goruntime *rt, type_id key,
		   const struct key_sample *s)
{
	char buf[KEYS_MAX * KEY_TEXT_MAX];
	size_t len = 0;

	m->sample_keys = NULL;
	m->nsample_keys = 0;
	if (!s->n)
		return 0;
	for (unsigned i = 0; i < s->n && i < KEYS_MAX; i++)
		len += key_format(t, g, rt, key, s->addr[i], buf + len, KEY_TEXT_MAX) + 1;
	const char *kept = arena_keep(a, buf, len);
	if (!kept)
		return -1;
	m->sample_keys = kept;
	m->nsample_keys = (uint8_t)(s->n < KEYS_MAX ? s->n : KEYS_MAX);
	return 0;
}
