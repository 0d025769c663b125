/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * meshd settings, private to app/meshd: the table that describes every setting
 * (meshd_settings.c) for lib/common's settings machinery (mesh_conf: command line, INI
 * file, --help), the parsers of meshd's own values (meshd_values.c) and the INI file's
 * [namespace PREFIX] sections (meshd_config.c). The command line (meshd_args.c) and the
 * INI file both go through the table; neither knows the other.
 */
#ifndef MESHD_SETTINGS_H
#define MESHD_SETTINGS_H

#include <stddef.h>

#include "mesh_common.h"
#include "meshd.h"

#define MESHD_SECTION_NS "namespace" /* the table's name for every [namespace PREFIX] */

/* The parsers of meshd's own values; plain fields use lib/common's mesh_conf_set_*(). */
MESH_CONF_SETTER(meshd_value_eal_args);    /* checked EAL options into the field */
MESH_CONF_SETTER(meshd_value_ns_defaults); /* yes|no into the (inverted) bool field */
/* settings with their own rules and destination (the field is unused) */
MESH_CONF_SETTER(meshd_value_poll);
MESH_CONF_SETTER(meshd_value_profile);
MESH_CONF_SETTER(meshd_value_peer);
MESH_CONF_SETTER(meshd_value_seed);
MESH_CONF_SETTER(meshd_value_fault);
MESH_CONF_SETTER(meshd_value_ns_kind);     /* into the open [namespace PREFIX] */

/** The table, ended by an entry with id 0. */
extern const struct mesh_conf_def meshd_settings[];

/** Make @c the table over @cfg, and reset @cfg to the table's defaults. */
void meshd_settings_init(struct mesh_conf *c, struct meshd_cfg *cfg);

/** Print usage, generated from the table, to stdout. */
void meshd_usage(const struct mesh_conf *c);

/**
 * The INI file's section hook (mesh_conf_section_f): each [namespace PREFIX] opens a
 * namespace of @c->obj, which needs a kind by the end of its section.
 */
int meshd_config_section(struct mesh_conf *c, const char *section, const char *name,
			 const char *where);

#endif
