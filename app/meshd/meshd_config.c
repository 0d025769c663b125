/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The INI configuration file. DPDK's rte_cfgfile parses it; a first pass over the raw
 * lines records where each section and key sits, so every error names the file and line,
 * and rejects what rte_cfgfile would silently mis-read (a line that is neither a comment, a
 * [section] nor key = value). Sections:
 *   [eal]       args (EAL options, read before EAL start-up by meshd_eal.c)
 *   [node]      name, ip, port, port_id, cluster_id, poll_mode, idle_sleep_us, ctl_socket,
 *               metrics_listen, fault_inject (testing only)
 *   [hello]     peer (repeatable), interval_ms
 *   [lcores]    rx, merge, tx
 *   [cluster]   seed (repeatable), profile = lan|fast, key_file, probe_interval_ms,
 *               probe_timeout_ms, suspicion_mult
 *   [namespaces] defaults = yes|no
 *   [namespace PREFIX] kind = lww|epoch_max|broadcast|targeted, max_value, max_keys,
 *               max_bytes (stream namespaces: the send buffer), nested = yes|no
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cfgfile.h>

#include "mesh_crdt.h"
#include "meshd.h"

#define MAX_POS 512

struct pos {
	char section[CFG_NAME_LEN];
	char key[CFG_NAME_LEN];
	int line;
};

static const struct {
	const char *section;
	const char *key;
	int setting;
} keys[] = {
	{ "node", "name", OPT_NAME },
	{ "node", "ip", OPT_IP },
	{ "node", "port", OPT_PORT },
	{ "node", "port_id", OPT_PORT_ID },
	{ "node", "cluster_id", OPT_CLUSTER },
	{ "node", "poll_mode", OPT_POLL },
	{ "node", "idle_sleep_us", OPT_IDLE_SLEEP },
	{ "node", "ctl_socket", OPT_CTL_SOCKET },
	{ "node", "metrics_listen", OPT_METRICS },
	{ "node", "fault_inject", OPT_FAULT },
	{ "hello", "peer", OPT_PEER },
	{ "hello", "interval_ms", OPT_HELLO_MS },
	{ "lcores", "rx", OPT_LCORE_RX },
	{ "lcores", "merge", OPT_LCORE_MERGE },
	{ "lcores", "tx", OPT_LCORE_TX },
	{ "cluster", "seed", OPT_SEED },
	{ "cluster", "profile", OPT_PROFILE },
	{ "cluster", "key_file", OPT_KEY_FILE },
	{ "cluster", "probe_interval_ms", OPT_PROBE_MS },
	{ "cluster", "probe_timeout_ms", OPT_PROBE_TIMEOUT_MS },
	{ "cluster", "suspicion_mult", OPT_SUSPICION_MULT },
};

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* First pass: syntax check and the line of every section and key. */
static int
index_lines(const char *path, struct pos *pos, size_t *n_pos)
{
	FILE *f = fopen(path, "r");
	char line[1024], section[CFG_NAME_LEN] = "";
	int no = 0, ret = 0;

	if (f == NULL) {
		fprintf(stderr, "meshd: %s: cannot read: %s\n", path, strerror(errno));
		return -EINVAL;
	}
	*n_pos = 0;
	while (ret == 0 && fgets(line, sizeof(line), f) != NULL) {
		char *s = trim(line), *eq;

		no++;
		if (*s == '\0' || *s == ';')
			continue;
		if (*s == '#') {
			fprintf(stderr, "meshd: %s:%d: comments start with ';'\n", path, no);
			ret = -EINVAL;
		} else if (*s == '[') {
			char *close = strchr(s, ']');
			if (close == NULL || close[1] != '\0' || close - s - 1 >= CFG_NAME_LEN ||
			    close == s + 1) {
				fprintf(stderr, "meshd: %s:%d: malformed section header\n", path, no);
				ret = -EINVAL;
			} else {
				*close = '\0';
				snprintf(section, sizeof(section), "%s", trim(s + 1));
				if (*n_pos < MAX_POS) {
					snprintf(pos[*n_pos].section, CFG_NAME_LEN, "%s", section);
					pos[*n_pos].key[0] = '\0';
					pos[(*n_pos)++].line = no;
				}
			}
		} else if ((eq = strchr(s, '=')) == NULL || eq == s) {
			fprintf(stderr, "meshd: %s:%d: expected 'key = value'\n", path, no);
			ret = -EINVAL;
		} else if (section[0] == '\0') {
			fprintf(stderr, "meshd: %s:%d: key outside any [section]\n", path, no);
			ret = -EINVAL;
		} else if (*n_pos < MAX_POS) {
			*eq = '\0';
			snprintf(pos[*n_pos].section, CFG_NAME_LEN, "%s", section);
			snprintf(pos[*n_pos].key, CFG_NAME_LEN, "%s", trim(s));
			pos[(*n_pos)++].line = no;
		}
	}
	fclose(f);
	return ret;
}

/* Line of the @nth occurrence of @key in @section (key "" = the section header). */
static int
line_of(const struct pos *pos, size_t n, const char *section, const char *key, int nth)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(pos[i].section, section) == 0 && strcmp(pos[i].key, key) == 0 &&
		    nth-- == 0)
			return pos[i].line;
	return 0;
}

static int
parse_bool(const char *v, bool *out)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*out = true;
	else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*out = false;
	else
		return -EINVAL;
	return 0;
}

static int
ns_kind(const char *v, int *kind)
{
	static const char *const names[] = {
		[MESH_CRDT_NS_LWW] = "lww", [MESH_CRDT_NS_EPOCH_MAX] = "epoch_max",
		[MESH_CRDT_NS_BROADCAST] = "broadcast", [MESH_CRDT_NS_TARGETED] = "targeted",
	};
	for (int i = 0; i < (int)MESH_ARRAY_SIZE(names); i++)
		if (strcmp(v, names[i]) == 0) {
			*kind = i;
			return 0;
		}
	return -EINVAL;
}

static int
namespace_section(struct meshd_cfg *cfg, struct rte_cfgfile *f, const char *sect,
		  const char *where_sect, const struct pos *pos, size_t n_pos, const char *path)
{
	struct rte_cfgfile_entry e[16];
	struct meshd_ns_cfg *ns;
	const char *prefix = sect + strlen("namespace ");
	int n = rte_cfgfile_section_entries(f, sect, e, 16), have_kind = 0;

	if (cfg->n_ns == MESHD_MAX_NS) {
		fprintf(stderr, "meshd: %s: at most %d namespaces\n", where_sect, MESHD_MAX_NS);
		return -EINVAL;
	}
	ns = &cfg->ns[cfg->n_ns];
	memset(ns, 0, sizeof(*ns));
	snprintf(ns->prefix, sizeof(ns->prefix), "%s", trim((char *)(uintptr_t)prefix));
	snprintf(ns->where, sizeof(ns->where), "%.199s", where_sect);
	for (int i = 0; i < n; i++) {
		char where[400];
		uint64_t v = 0;
		int ret = 0;

		snprintf(where, sizeof(where), "%.200s:%d: [%.64s] %.64s", path,
			 line_of(pos, n_pos, sect, e[i].name, 0), sect, e[i].name);
		if (strcmp(e[i].name, "kind") == 0) {
			ret = ns_kind(e[i].value, &ns->kind);
			have_kind = 1;
		} else if (strcmp(e[i].name, "nested") == 0) {
			ret = parse_bool(e[i].value, &ns->nested);
		} else if (strcmp(e[i].name, "max_value") == 0) {
			ret = meshd_parse_u64(e[i].value, UINT32_MAX, &v);
			ns->max_value = (uint32_t)v;
		} else if (strcmp(e[i].name, "max_keys") == 0) {
			ret = meshd_parse_u64(e[i].value, UINT64_MAX, &ns->max_keys);
		} else if (strcmp(e[i].name, "max_bytes") == 0) {
			ret = meshd_parse_u64(e[i].value, UINT64_MAX, &ns->max_bytes);
		} else {
			fprintf(stderr, "meshd: %s: unknown key\n", where);
			return -EINVAL;
		}
		if (ret < 0) {
			fprintf(stderr, "meshd: %s: invalid value '%s'\n", where, e[i].value);
			return -EINVAL;
		}
	}
	if (!have_kind) {
		fprintf(stderr, "meshd: %s: 'kind' is required (lww, epoch_max, broadcast, "
			"targeted)\n", where_sect);
		return -EINVAL;
	}
	cfg->n_ns++;
	return 0;
}

int
meshd_config_load(struct meshd_cfg *cfg, const char *path)
{
	struct pos *pos = calloc(MAX_POS, sizeof(*pos));
	struct rte_cfgfile *f = NULL;
	char **names = NULL;
	size_t n_pos = 0;
	int n_sections = 0, ret;

	ret = pos == NULL ? -ENOMEM : index_lines(path, pos, &n_pos);
	if (ret == 0) {
		f = rte_cfgfile_load(path, 0);
		if (f == NULL) {
			fprintf(stderr, "meshd: %s: cannot parse INI file\n", path);
			ret = -EINVAL;
		}
	}
	if (ret == 0) {
		n_sections = rte_cfgfile_num_sections(f, NULL, 0);
		names = calloc((size_t)n_sections + 1, sizeof(char *));
		for (int s = 0; names != NULL && s < n_sections; s++)
			names[s] = calloc(1, CFG_NAME_LEN);
		if (names != NULL)
			rte_cfgfile_sections(f, names, n_sections);
		else
			ret = -ENOMEM;
	}
	for (int s = 0; ret == 0 && s < n_sections; s++) {
		struct rte_cfgfile_entry e[64];
		char where_sect[300];
		int n = rte_cfgfile_section_entries(f, names[s], e, 64);
		int known = strcmp(names[s], "node") == 0 || strcmp(names[s], "hello") == 0 ||
			    strcmp(names[s], "lcores") == 0 || strcmp(names[s], "cluster") == 0;

		snprintf(where_sect, sizeof(where_sect), "%.200s:%d: [%s]", path,
			 line_of(pos, n_pos, names[s], "", 0), names[s]);
		if (strncmp(names[s], "namespace ", 10) == 0) {
			ret = namespace_section(cfg, f, names[s], where_sect, pos, n_pos, path);
			continue;
		}
		if (strcmp(names[s], "eal") == 0) {
			/* read before EAL start-up by meshd_eal_argv(); only "args" is known */
			for (int i = 0; ret == 0 && i < n; i++)
				if (strcmp(e[i].name, "args") != 0) {
					fprintf(stderr, "meshd: %s:%d: [eal] %s: unknown key (only "
						"'args')\n", path,
						line_of(pos, n_pos, names[s], e[i].name, 0),
						e[i].name);
					ret = -EINVAL;
				}
			continue;
		}
		if (strcmp(names[s], "namespaces") == 0) {
			for (int i = 0; ret == 0 && i < n; i++) {
				bool def;
				if (strcmp(e[i].name, "defaults") != 0 ||
				    parse_bool(e[i].value, &def) < 0) {
					fprintf(stderr, "meshd: %s:%d: [namespaces] %s: expected "
						"'defaults = yes|no'\n", path,
						line_of(pos, n_pos, names[s], e[i].name, 0),
						e[i].name);
					ret = -EINVAL;
				} else {
					cfg->ns_no_defaults = !def;
				}
			}
			continue;
		}
		if (!known) {
			fprintf(stderr, "meshd: %s: unknown section [%s]\n", where_sect, names[s]);
			ret = -EINVAL;
			break;
		}
		for (int i = 0, peers = 0; ret == 0 && i < n; i++) {
			char where[400];
			int setting = -1, nth = 0;

			if (strcmp(e[i].name, "peer") == 0 || strcmp(e[i].name, "seed") == 0)
				nth = peers++;
			snprintf(where, sizeof(where), "%.200s:%d: [%.64s] %.64s", path,
				 line_of(pos, n_pos, names[s], e[i].name, nth), names[s],
				 e[i].name);
			for (size_t k = 0; k < MESH_ARRAY_SIZE(keys); k++)
				if (strcmp(keys[k].section, names[s]) == 0 &&
				    strcmp(keys[k].key, e[i].name) == 0)
					setting = keys[k].setting;
			if (setting < 0) {
				fprintf(stderr, "meshd: %s: unknown key\n", where);
				ret = -EINVAL;
			} else {
				ret = meshd_setting_apply(cfg, setting, e[i].value, where);
			}
		}
	}
	for (int s = 0; names != NULL && s < n_sections; s++)
		free(names[s]);
	free(names);
	if (f != NULL)
		rte_cfgfile_close(f);
	free(pos);
	return ret;
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
