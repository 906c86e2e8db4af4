/* libFuzzer: what the DWARF sandbox's parent does with the child's
 * result: gtb_deserialize and gtb_finish on untrusted bytes, then every
 * query of the model (a model that passed gtb_finish must be safe to use
 * in every way types.h allows).  Input: a flat form (seeds: real ones). */
#include "fuzz.h"

static void on_local(void *arg, const struct glocal *v)
{
	size_t *n = arg;
	*n += v->npieces + strlen(v->name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ms_error err;
	struct gtb *b = gtb_deserialize(data, size, "fuzz", &err);
	if (!b)
		return 0;
	struct gtypes *g = gtb_finish(b, "fuzz", &err);
	if (!g)
		return 0;
	size_t n, acc = 0;
	for (type_id id = 0; id <= gtypes_count(g) + 1; id++) {
		const struct gtype *t = gtypes_get(g, id);
		if (t) {
			acc += strlen(t->name);
			gtypes_find(g, t->name);
		}
		const struct gmember *m = gtypes_members(g, id, &n);
		for (size_t i = 0; i < n; i++)
			acc += strlen(m[i].name) + m[i].offset + gtypes_resolve(g, m[i].type);
		if (n)
			gtypes_member(g, id, m[0].name);
		acc += gtypes_has_pointers(g, id) + gtypes_may_hold_map(g, id) +
		       gtypes_direct_iface(g, id) + gtypes_resolve(g, id);
		if (t)
			acc += gtypes_by_runtime_type(g, t->runtime_type);
	}
	const struct gvar *v = gtypes_vars(g, &n);
	for (size_t i = 0; i < n; i++)
		acc += gtypes_var(g, v[i].name) != NULL;
	const struct gfunc *f = gtypes_funcs(g, &n);
	for (size_t i = 0; i < n; i++) {
		int64_t off;
		size_t nc;
		const struct gclosure_var *cv = gtypes_closure_vars(g, &f[i], &nc);
		for (size_t k = 0; k < nc; k++)
			acc += strlen(cv[k].name);
		gtypes_locals_at(g, &f[i], f[i].lowpc, on_local, &acc);
		gtypes_locals_at(g, &f[i], f[i].highpc - 1, on_local, &acc);
		gtypes_cfa_offset(g, &f[i], f[i].lowpc, &off);
		acc += gtypes_func_at(g, f[i].lowpc) == &f[i];
	}
	gtypes_dwarf_version(g);
	gtypes_free(g);
	return (int)(acc & 0);
}
