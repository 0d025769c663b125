/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The MSGS container: records [u8 kind][u16 length BE][body] packed back to back in a
 * frame payload. The writer never splits a record; the reader yields (kind, slice) pairs
 * pointing into the payload and stops at the first malformed record (kind 0, or a length
 * running past the payload); records already yielded stay valid (fail soft).
 */
#include <errno.h>
#include <string.h>

#include "mesh_wire.h"
#include "wire_internal.h"

void
mesh_wire_msgw_init(struct mesh_wire_msgw *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->n_recs = 0;
}

size_t
mesh_wire_msgw_room(const struct mesh_wire_msgw *w)
{
	size_t room;

	if (w->len + MESH_WIRE_REC_HDR_LEN > w->cap)
		return 0;
	room = w->cap - w->len - MESH_WIRE_REC_HDR_LEN;
	return room > MESH_WIRE_REC_MAX_BODY ? MESH_WIRE_REC_MAX_BODY : room;
}

int
mesh_wire_msgw_add(struct mesh_wire_msgw *w, uint8_t kind, const void *body, size_t len)
{
	if (kind == 0 || len > MESH_WIRE_REC_MAX_BODY)
		return -EINVAL;
	if (w->len + MESH_WIRE_REC_HDR_LEN > w->cap || len > mesh_wire_msgw_room(w))
		return -ENOSPC;
	w->buf[w->len] = kind;
	put16(w->buf + w->len + 1, (uint16_t)len);
	if (len > 0)
		memcpy(w->buf + w->len + MESH_WIRE_REC_HDR_LEN, body, len);
	w->len += MESH_WIRE_REC_HDR_LEN + len;
	w->n_recs++;
	return 0;
}

uint8_t *
mesh_wire_msgw_begin(struct mesh_wire_msgw *w, uint8_t kind, size_t *room)
{
	*room = mesh_wire_msgw_room(w);
	if (w->len + MESH_WIRE_REC_HDR_LEN > w->cap)
		return NULL;
	w->buf[w->len] = kind;
	return w->buf + w->len + MESH_WIRE_REC_HDR_LEN;
}

void
mesh_wire_msgw_end(struct mesh_wire_msgw *w, size_t len)
{
	put16(w->buf + w->len + 1, (uint16_t)len);
	w->len += MESH_WIRE_REC_HDR_LEN + len;
	w->n_recs++;
}

void
mesh_wire_msgr_init(struct mesh_wire_msgr *r, const void *payload, size_t len)
{
	r->p = payload;
	r->end = r->p + len;
}

int
mesh_wire_msgr_next(struct mesh_wire_msgr *r, uint8_t *kind, struct mesh_wire_slice *body)
{
	size_t left = (size_t)(r->end - r->p);
	size_t n;

	if (left == 0)
		return 0;
	if (left < MESH_WIRE_REC_HDR_LEN || r->p[0] == 0)
		goto bad;
	n = get16(r->p + 1);
	if (n > left - MESH_WIRE_REC_HDR_LEN)
		goto bad;
	*kind = r->p[0];
	body->p = r->p + MESH_WIRE_REC_HDR_LEN;
	body->len = n;
	r->p += MESH_WIRE_REC_HDR_LEN + n;
	return 1;
bad:
	r->p = r->end;
	return -EBADMSG;
}
