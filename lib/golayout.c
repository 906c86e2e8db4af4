/* Reading the generated layout table (see golayout.h). */
#include <stdlib.h>
#include <string.h>

#include "golayout.h"

const struct golayout_variant *golayout_variant(int minor, const char *version, bool *newer)
{
	const struct golayout_variant *best = NULL, *plain = NULL;

	if (newer)
		*newer = false;
	for (unsigned i = 0; i < golayout_nvariants; i++) {
		const struct golayout_variant *v = &golayout_variants[i];
		if (v->minor != minor)
			continue;
		if (!v->experiment[0])
			plain = v;
		else if (version && strstr(version, v->experiment))
			best = v;
	}
	if (best || plain)
		return best ? best : plain;
	const struct golayout_variant *last = &golayout_variants[golayout_nvariants - 1];
	for (unsigned i = golayout_nvariants; i-- > 0;)
		if (!golayout_variants[i].experiment[0]) {
			last = &golayout_variants[i];
			break;
		}
	if (minor > last->minor) {
		if (newer)
			*newer = true;
		return last;
	}
	return NULL;
}

static enum gkind kind_of(const char *s)
{
	static const struct { const char *name; enum gkind k; } kinds[] = {
		{ "BASE", GK_BASE }, { "PTR", GK_PTR }, { "STRUCT", GK_STRUCT }, { "ARRAY", GK_ARRAY },
		{ "SLICE", GK_SLICE }, { "STRING", GK_STRING }, { "MAP", GK_MAP }, { "CHAN", GK_CHAN },
		{ "FUNC", GK_FUNC }, { "IFACE", GK_IFACE }, { "TYPEDEF", GK_TYPEDEF },
		{ "OTHER", GK_OTHER },
	};
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (!strcmp(s, kinds[i].name))
			return kinds[i].k;
	return GK_NONE;
}

/* Split *p at the next tab (or its end). */
static char *field(char **p)
{
	char *s = *p, *t;

	if (!s)
		return NULL;
	t = strchr(s, '\t');
	if (t) {
		*t = 0;
		*p = t + 1;
	} else {
		*p = NULL;
	}
	return s;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct gl_type *)a)->name, ((const struct gl_type *)b)->name);
}

void golayout_free(struct golayout *L)
{
	if (!L)
		return;
	free(L->types);
	free(L->vars);
	free(L->members);
	free(L->text);
	free(L);
}

struct golayout *golayout_load(const struct golayout_variant *v, struct ms_error *err)
{
	struct golayout *L = calloc(1, sizeof *L);
	size_t len = 0, nmem = 0;

	if (!L)
		goto oom;
	L->v = v;
	for (size_t i = 0; i < v->n; i++) {
		const char *l = v->lines[v->idx[i]];
		len += strlen(l) + 1;
		for (const char *c = l; *c; c++)
			nmem += *c == '\t';
	}
	/* A member is four fields: a quarter of the tabs bounds them. */
	L->text = malloc(len ? len : 1);
	L->types = calloc(v->n ? v->n : 1, sizeof *L->types);
	L->vars = calloc(v->n ? v->n : 1, sizeof *L->vars);
	L->members = calloc(nmem / 4 + 1, sizeof *L->members);
	if (!L->text || !L->types || !L->vars || !L->members)
		goto oom;
	char *out = L->text;
	size_t m = 0;
	for (size_t i = 0; i < v->n; i++) {
		char *p = out;
		strcpy(out, v->lines[v->idx[i]]);
		out += strlen(out) + 1;
		char *k = field(&p);
		if (!strcmp(k, "V")) {
			struct gl_var *var = &L->vars[L->nvars++];
			var->name = field(&p);
			var->type = field(&p);
			if (!var->type)
				goto bad;
			continue;
		}
		struct gl_type *t = &L->types[L->ntypes++];
		char *name = field(&p), *size = field(&p), *gk = field(&p), *target = field(&p),
		     *elem = field(&p), *key = field(&p), *count = field(&p), *nm = field(&p);
		if (!nm || (t->kind = kind_of(k)) == GK_NONE)
			goto bad;
		t->name = name;
		t->size = strtoull(size, NULL, 10);
		t->go_kind = (uint8_t)strtoul(gk, NULL, 10);
		t->target = target;
		t->elem = elem;
		t->key = key;
		t->count = strtoull(count, NULL, 10);
		if (t->kind == GK_PTR || t->kind == GK_MAP || t->kind == GK_CHAN || t->kind == GK_FUNC)
			t->size = 8;
		if (t->kind == GK_IFACE)
			t->size = 16;
		t->opaque = !strcmp(nm, "-");
		t->members = &L->members[m];
		if (t->opaque)
			continue;
		t->nmembers = strtoull(nm, NULL, 10);
		for (size_t j = 0; j < t->nmembers; j++) {
			struct gl_member *mb = &L->members[m++];
			char *mn = field(&p), *mo = field(&p), *mt = field(&p), *me = field(&p);
			if (!me || m > nmem / 4 + 1)
				goto bad;
			mb->name = mn;
			mb->offset = strtoull(mo, NULL, 10);
			mb->type = mt;
			mb->embedded = me[0] == '1';
		}
	}
	if (L->ntypes)
		qsort(L->types, L->ntypes, sizeof *L->types, by_name);
	return L;
bad:
	golayout_free(L);
	ms_err(err, MS_EINTERNAL, "the layout table of %s is malformed (regenerate it with "
	       "tools/gen-layouts.py)", v->id);
	return NULL;
oom:
	golayout_free(L);
	ms_err(err, MS_EINTERNAL, "out of memory");
	return NULL;
}

const struct gl_type *golayout_type(const struct golayout *L, const char *name)
{
	struct gl_type key = { .name = name };

	return L && name ? bsearch(&key, L->types, L->ntypes, sizeof *L->types, by_name) : NULL;
}

int golayout_offset(const struct golayout *L, const char *type, const char *path, uint64_t *off,
		    const struct gl_type **mtype)
{
	const struct gl_type *t = golayout_type(L, type);
	char name[128];
	uint64_t o = 0;

	while (t && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		const struct gl_member *hit = NULL;
		if (n >= sizeof name)
			return -1;
		memcpy(name, path, n);
		name[n] = 0;
		while (t && t->kind == GK_TYPEDEF)
			t = golayout_type(L, t->target);
		for (size_t i = 0; t && i < t->nmembers && !hit; i++)
			if (!strcmp(t->members[i].name, name))
				hit = &t->members[i];
		if (!hit)
			return -1;
		o += hit->offset;
		t = golayout_type(L, hit->type);
		path += n + (dot ? 1 : 0);
	}
	if (!t)
		return -1;
	*off = o;
	if (mtype)
		*mtype = t;
	return 0;
}

const struct gl_type *golayout_var_type(const struct golayout *L, const char *name)
{
	for (size_t i = 0; L && i < L->nvars; i++)
		if (!strcmp(L->vars[i].name, name))
			return golayout_type(L, L->vars[i].type);
	return NULL;
}
