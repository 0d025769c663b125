/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The INI configuration file. meshd_ini.c reads its lines; this file gives them meaning
 * through the settings table (meshd_settings.c), so every key is checked exactly like
 * its command-line option. Rules on top of the syntax: every section and key must be in
 * the table; a section may appear once, and a key once per section unless it is
 * repeatable (peer, seed); a repeat names both lines. Each [namespace PREFIX] opens one
 * namespace, whose keys follow and which needs a kind. Errors name the file, line,
 * section and key. No DPDK is needed, so --check-config runs without EAL.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_crdt.h"
#include "meshd_settings.h"

struct seen {
	char *section;
	char *key; /* "" for the section header */
	int line;
};

struct load {
	struct meshd_cfg *cfg;
	const char *path;
	const char *table_section; /* the open section's name in the table */
	bool ns_open, ns_kind;     /* a [namespace PREFIX] is open; it has a kind */
	struct seen *seen;
	size_t n_seen;
};

/* Line where @section/@key was seen first, or 0 after recording it (-ENOMEM). */
static int
seen_before(struct load *l, const char *section, const char *key, int line)
{
	struct seen *grown, *e;

	for (size_t i = 0; i < l->n_seen; i++)
		if (strcmp(l->seen[i].section, section) == 0 && strcmp(l->seen[i].key, key) == 0)
			return l->seen[i].line;
	grown = realloc(l->seen, (l->n_seen + 1) * sizeof(*grown));
	if (grown == NULL)
		return -ENOMEM;
	l->seen = grown;
	e = &grown[l->n_seen];
	e->section = strdup(section);
	e->key = strdup(key);
	e->line = line;
	if (e->section == NULL || e->key == NULL) {
		free(e->section);
		free(e->key);
		return -ENOMEM;
	}
	l->n_seen++;
	return 0;
}

/* End of a section: a namespace must have had a kind. */
static int
section_close(struct load *l)
{
	if (l->ns_open && !l->ns_kind) {
		fprintf(stderr, "meshd: %s: 'kind' is required (lww, epoch_max, broadcast, "
			"targeted)\n", l->cfg->ns[l->cfg->n_ns - 1].where);
		return -EINVAL;
	}
	l->ns_open = false;
	return 0;
}

static int
namespace_open(struct load *l, const char *section, const char *prefix, int line)
{
	struct meshd_cfg *cfg = l->cfg;
	struct meshd_ns_cfg *ns = &cfg->ns[cfg->n_ns % MESHD_MAX_NS];

	if (cfg->n_ns == MESHD_MAX_NS || *prefix == '\0' || strlen(prefix) >= sizeof(ns->prefix)) {
		fprintf(stderr, "meshd: %s:%d: [%s]: %s\n", l->path, line, section,
			cfg->n_ns == MESHD_MAX_NS ? "too many namespaces"
			: "expected [namespace PREFIX] with a PREFIX of 1..63 characters");
		return -EINVAL;
	}
	memset(ns, 0, sizeof(*ns));
	strcpy(ns->prefix, prefix);
	snprintf(ns->where, sizeof(ns->where), "%.120s:%d: [namespace %s]", l->path, line,
		 prefix);
	cfg->n_ns++;
	l->table_section = MESHD_SECTION_NS;
	l->ns_open = true;
	l->ns_kind = false;
	return 0;
}

static int
section_open(struct load *l, const char *section, int line)
{
	size_t n = strlen(MESHD_SECTION_NS);
	int first = seen_before(l, section, "", line);

	if (first < 0)
		return first;
	if (first > 0) {
		fprintf(stderr, "meshd: %s:%d: [%s]: duplicate section (first at line %d)\n",
			l->path, line, section, first);
		return -EINVAL;
	}
	if (strncmp(section, MESHD_SECTION_NS, n) == 0 &&
	    (section[n] == ' ' || section[n] == '\t' || section[n] == '\0'))
		return namespace_open(l, section, section + n + strspn(section + n, " \t"),
				      line);
	if (!meshd_setting_section_known(section)) {
		fprintf(stderr, "meshd: %s:%d: unknown section [%s]\n", l->path, line, section);
		return -EINVAL;
	}
	l->table_section = section;
	return 0;
}

static int
on_line(void *ctx, const char *section, const char *key, const char *value, int line)
{
	struct load *l = ctx;
	const struct meshd_setting_def *s;
	char where[400];
	int first;

	if (key == NULL)
		return section_close(l) < 0 ? -EINVAL : section_open(l, section, line);
	snprintf(where, sizeof(where), "%.200s:%d: [%.100s] %.64s", l->path, line, section, key);
	s = meshd_setting_find_key(l->table_section, key);
	if (s == NULL) {
		fprintf(stderr, "meshd: %s: unknown key\n", where);
		return -EINVAL;
	}
	first = s->flags & MESHD_SETTING_REPEAT ? 0 : seen_before(l, section, key, line);
	if (first < 0)
		return first;
	if (first > 0) {
		fprintf(stderr, "meshd: %s: duplicate key (first at line %d)\n", where, first);
		return -EINVAL;
	}
	if (s->id == OPT_NS_KIND)
		l->ns_kind = true;
	return meshd_setting_apply(l->cfg, s->id, value, where);
}

int
meshd_config_load(struct meshd_cfg *cfg, const char *path)
{
	struct load l = { .cfg = cfg, .path = path };
	int ret = meshd_ini_parse(path, on_line, &l);

	if (ret == 0)
		ret = section_close(&l);
	for (size_t i = 0; i < l.n_seen; i++) {
		free(l.seen[i].section);
		free(l.seen[i].key);
	}
	free(l.seen);
	return ret < 0 ? -EINVAL : 0;
}

int
meshd_config_namespaces(const struct meshd_cfg *cfg, struct mesh_crdt_store *kv)
{
	int ret;

	if (!cfg->ns_no_defaults) {
		ret = mesh_crdt_ns_add_defaults(kv);
		if (ret < 0) {
			fprintf(stderr, "meshd: default namespaces: %s\n", mesh_crdt_strerror(ret));
			return -EINVAL;
		}
	}
	for (unsigned i = 0; i < cfg->n_ns; i++) {
		const struct meshd_ns_cfg *n = &cfg->ns[i];
		struct mesh_crdt_ns_config nc = {
			.prefix = n->prefix,
			.kind = (enum mesh_crdt_ns_kind)n->kind,
			.max_value = n->max_value,
			.max_keys = n->max_keys,
			.max_bytes = n->max_bytes,
			.nested = n->nested,
		};

		ret = mesh_crdt_ns_add(kv, &nc);
		if (ret < 0) {
			const char *why = mesh_crdt_store_errmsg(kv);

			fprintf(stderr, "meshd: %s: %s\n", n->where,
				why != NULL && why[0] != '\0' ? why : mesh_crdt_strerror(ret));
			return -EINVAL;
		}
	}
	return 0;
}
