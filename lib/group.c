/* Owner groups (group.h): one pass over the maps with a hash table keyed
 * by (pattern, type, reachable), the pattern and type interned so that a
 * key compares by pointer.  One read of each map: on a million maps the
 * time goes to fetching them from memory, so nothing else touches them. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bits.h"
#include "group.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool ends_with(const char *out, size_t len, const char *suffix)
{
	size_t k = strlen(suffix);
	return len >= k && !memcmp(out + len - k, suffix, k);
}

size_t group_close(const char *s, size_t n)
{
	int depth = 0;
	for (size_t i = 0; i < n && s[i]; i++) {
		if (s[i] == '"') {
			for (i++; i < n && s[i] && s[i] != '"'; i++)
				if (s[i] == '\\' && i + 1 < n && s[i + 1])
					i++;
			if (i >= n || !s[i])
				return 0;
		} else if (s[i] == '[' || s[i] == '{' || s[i] == '(') {
			depth++;
		} else if ((s[i] == ']' || s[i] == '}' || s[i] == ')') && --depth == 0) {
			return i + 1;
		}
	}
	return 0;
}

/* Past the "[...]" at p, or NULL when it does not close with "]". */
static const char *key_end(const char *p)
{
	size_t k = group_close(p, SIZE_MAX);
	return k && p[k - 1] == ']' ? p + k : NULL;
}

/* Two or more words of untyped memory in a row, in a pattern. */
#define UNTYPED_RUN "+*\xe2\x80\xa6"

size_t group_pattern(const char *path, char *out, size_t n)
{
	size_t len = 0;
	int depth = 0;              /* inside "(...)": a type or function name */
	const char *p = path ? path : "";

#define PUT(c) ((void)(len + 1 < n && (out[len++] = (c))))
#define PUT_S(str) do { for (const char *s_ = (str); *s_; s_++) PUT(*s_); } while (0)
	while (*p) {
		if (*p == '(') {
			depth++;
		} else if (*p == ')' && depth > 0) {
			depth--;
		} else if (depth == 0 && *p == '[') {
			/* "[12]" and "<-[3]": an element; a map value's key as
			 * Go prints it, ["alice"], [-3], [{"acme", 3}], [0xc0001];
			 * "[*]" stays. */
			const char *q = key_end(p);
			if (q) {
				PUT('['), PUT('*'), PUT(']');
				p = q;
				continue;
			}
		} else if (depth == 0 && *p == '{') {
			/* "{.left.right}": a descent through a tree's nodes,
			 * of any depth and direction. */
			const char *q = strchr(p, '}');
			if (q) {
				PUT('{'), PUT('*'), PUT('}');
				p = q + 1;
				continue;
			}
		} else if (depth == 0 && (unsigned char)p[0] == 0xc3 && (unsigned char)p[1] == 0x97 &&
			   is_digit(p[2])) {
			/* "×120": the step before, that many times in a row
			 * (a linked list's .next×120); of an untyped word, a
			 * run of them (below). */
			for (p += 2; is_digit(*p); p++)
				;
			if (ends_with(out, len, UNTYPED_RUN))
				continue;
			if (ends_with(out, len, "+*")) {
				PUT_S("\xe2\x80\xa6");
				continue;
			}
			PUT('\xc3'), PUT('\x97'), PUT('*');
			continue;
		} else if (depth == 0 && is_digit(*p) && ends_with(out, len, "goroutine ")) {
			while (is_digit(*p))
				p++;
			PUT('*');
			continue;
		} else if (depth == 0 && *p == '+' && is_digit(p[1]) && p[2] != 'x' && len &&
			   out[len - 1] != ' ') {
			/* A word of untyped memory, "local+128": often a slot
			 * of an array mapscan cannot type (sync.Pool's per-P
			 * locals), an index by another name.  Two or more in a
			 * row, a chain through memory without types, are one
			 * "+*…" whatever its length: the hops such a chain takes
			 * say nothing across maps. */
			for (p++; is_digit(*p); p++)
				;
			if (ends_with(out, len, UNTYPED_RUN))
				continue;
			if (ends_with(out, len, "+*")) {
				PUT_S("\xe2\x80\xa6");
				continue;
			}
			PUT('+'), PUT('*');
			continue;
		} else if (depth == 0 && *p == '0' && p[1] == 'x' && is_hex(p[2]) &&
			   ends_with(out, len, "stack word ")) {
			for (p += 2; is_hex(*p); p++)
				;
			PUT('*');
			continue;
		}
		PUT(*p);
		p++;
	}
#undef PUT
#undef PUT_S
	if (n)
		out[len < n ? len : n - 1] = '\0';
	return len;
}

const char *group_by_name(enum group_by by)
{
	switch (by) {
	case GROUP_OWNER: return "owner";
	case GROUP_TYPE:  return "type";
	default:          return "none";
	}
}

int parse_group_by(const char *s, enum group_by *out)
{
	static const enum group_by all[] = { GROUP_OWNER, GROUP_TYPE, GROUP_NONE };

	for (size_t i = 0; s && i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(s, group_by_name(all[i]))) {
			*out = all[i];
			return 0;
		}
	return -1;
}

static uint64_t key_hash(const char *pattern, const char *type, bool unreachable)
{
	return mix64((uint64_t)(uintptr_t)pattern * 31 + (uint64_t)(uintptr_t)type * 7 + unreachable);
}

/* The member to show for a group: most reclaimable, then most retained,
 * then the lowest address. */
static bool bigger(const struct map_entry *a, const struct map_entry *b)
{
	if (a->fig.reclaimable_bytes != b->fig.reclaimable_bytes)
		return a->fig.reclaimable_bytes > b->fig.reclaimable_bytes;
	if (a->fig.retained_bytes != b->fig.retained_bytes)
		return a->fig.retained_bytes > b->fig.retained_bytes;
	return a->address < b->address;
}

static void groups_drop(struct report *r)
{
	free(r->groups);
	r->groups = NULL;
	r->ngroups = 0;
	r->group_by = GROUP_NONE;
	for (size_t i = 0; i < r->nmaps; i++)
		r->maps[i].group = 0;
}

int report_group(struct report *r, enum group_by by)
{
	struct slot { uint32_t g; } *table = NULL;   /* 1 + group index; 0 empty */
	size_t capgroups = 0;
	char buf[1024];

	groups_drop(r);
	if (by == GROUP_NONE || r->nmaps == 0) {
		r->group_by = by;
		return 0;
	}
	if (r->nmaps >= UINT32_MAX)
		goto nomem;
	/* Most reports have a few groups; start small and grow. */
	size_t tcap = 64;
	table = calloc(tcap, sizeof(*table));
	capgroups = 64;
	r->groups = malloc(capgroups * sizeof(*r->groups));
	if (!table || !r->groups)
		goto nomem;

	for (size_t i = 0; i < r->nmaps; i++) {
		struct map_entry *m = &r->maps[i];
		const char *pattern = NULL, *type = NULL;

		if (m->type && !(type = m->types_interned ? m->type : report_intern(r, m->type)))
			goto nomem;
		if (by == GROUP_OWNER && !m->unreachable && m->nroots) {
			group_pattern(m->roots[0], buf, sizeof(buf));
			if (!(pattern = report_intern(r, buf)))
				goto nomem;
		}
		if ((r->ngroups + 1) * 2 > tcap) {
			size_t nc = tcap * 2;
			struct slot *nt = calloc(nc, sizeof(*nt));
			if (!nt)
				goto nomem;
			for (size_t k = 0; k < tcap; k++) {
				if (!table[k].g)
					continue;
				const struct map_group *g = &r->groups[table[k].g - 1];
				size_t h = key_hash(g->pattern, g->type, g->unreachable) & (nc - 1);
				while (nt[h].g)
					h = (h + 1) & (nc - 1);
				nt[h] = table[k];
			}
			free(table);
			table = nt;
			tcap = nc;
		}
		size_t h = key_hash(pattern, type, m->unreachable) & (tcap - 1);
		struct map_group *g = NULL;
		while (table[h].g) {
			struct map_group *c = &r->groups[table[h].g - 1];
			if (c->pattern == pattern && c->type == type && c->unreachable == m->unreachable) {
				g = c;
				break;
			}
			h = (h + 1) & (tcap - 1);
		}
		if (!g) {
			if (r->ngroups == capgroups) {
				struct map_group *ng = realloc(r->groups, 2 * capgroups * sizeof(*ng));
				if (!ng)
					goto nomem;
				r->groups = ng;
				capgroups *= 2;
			}
			g = &r->groups[r->ngroups++];
			memset(g, 0, sizeof(*g));
			g->pattern = pattern;
			g->type = type;
			g->unreachable = m->unreachable;
			table[h].g = (uint32_t)r->ngroups;
		}
		if (!g->maps++ || bigger(m, &r->maps[g->biggest]))
			g->biggest = i;
		g->count = sat_add(g->count, m->fig.count);
		g->retained_bytes = sat_add(g->retained_bytes, m->fig.retained_bytes);
		g->ideal_bytes = sat_add(g->ideal_bytes, m->fig.ideal_bytes);
		g->reclaimable_bytes = sat_add(g->reclaimable_bytes, m->fig.reclaimable_bytes);
		m->group = (uint32_t)(g - r->groups) + 1;
	}
	free(table);
	r->group_by = by;
	return 0;
nomem:
	free(table);
	groups_drop(r);
	errno = ENOMEM;
	return -1;
}
