/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The INI configuration file's namespaces. lib/common reads the file through the settings
 * table (mesh_conf_ini_load: every section and key checked exactly like its command-line
 * option, duplicates naming both lines); each [namespace PREFIX] opens one namespace here,
 * whose keys follow and which needs a kind. The namespaces then go into a CRDT store: the
 * node's, or a scratch one for --check-config. No DPDK is needed, so --check-config runs
 * without EAL.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mesh_crdt.h"
#include "meshd_settings.h"

int
meshd_config_section(struct mesh_conf *c, const char *section, const char *name,
		     const char *where)
{
	struct meshd_cfg *cfg = c->obj;
	struct meshd_ns_cfg *ns = c->sub; /* the namespace that ends here, if any */

	if (ns != NULL && ns->kind < 0)
		return mesh_errf(c->err, sizeof(c->err), "%s: 'kind' is required (lww, epoch_max, "
				 "broadcast, targeted)", ns->where);
	c->sub = NULL;
	if (section == NULL || strcmp(section, MESHD_SECTION_NS) != 0)
		return 0;
	if (cfg->n_ns == MESHD_MAX_NS || *name == '\0' || strlen(name) >= sizeof(ns->prefix))
		return mesh_errf(c->err, sizeof(c->err), "%s: %s", where,
				 cfg->n_ns == MESHD_MAX_NS ? "too many namespaces" :
				 "expected [namespace PREFIX] with a PREFIX of 1..63 characters");
	ns = &cfg->ns[cfg->n_ns++];
	memset(ns, 0, sizeof(*ns));
	ns->kind = -1; /* until its kind = ... */
	snprintf(ns->prefix, sizeof(ns->prefix), "%s", name);
	snprintf(ns->where, sizeof(ns->where), "%s", where);
	c->sub = ns;
	return 0;
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
