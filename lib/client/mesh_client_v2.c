/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libmeshclient, protocol version 2 requests: hello, cluster state, node metadata, async
 * put/delete/get and batches. The sync batch runs on the async core: it splits the ops
 * into parts that fit max_batch and one socket message, submits every part, then pumps
 * until each part's results were copied into the caller's array (or gives up at the
 * timeout and forgets the parts still in flight).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_client_internal.h"

#define BATCH_BYTES (192 * 1024)  /* a part's ops stay under this (one socket message) */
#define BATCH_DEFAULT_MAX 1024    /* ops per part when the node did not say */
#define OP_OVERHEAD 16            /* per-op encoding overhead, generous */

int
mesh_client_hello(struct mesh_client *c, struct mesh_client_hello *out)
{
	Mesh__Client__Request req = MESH__CLIENT__REQUEST__INIT;
	Mesh__Client__HelloReq hr = MESH__CLIENT__HELLO_REQ__INIT;
	Mesh__Client__Response *r;
	struct mesh_client_hello *h = &c->hello;
	int ret;

	hr.version = 2;
	hr.client = (char *)"libmeshclient " MESH_VERSION;
	req.op_case = MESH__CLIENT__REQUEST__OP_HELLO;
	req.hello = &hr;
	ret = mc_call(c, &req, &r);
	if (ret < 0)
		return ret;
	memset(h, 0, sizeof(*h));
	if (r->result_case == MESH__CLIENT__RESPONSE__RESULT_HELLO) {
		const Mesh__Client__HelloResp *p = r->hello;

		h->version = p->version;
		snprintf(h->node, sizeof(h->node), "%s", p->node ? p->node : "");
		h->generation = p->generation;
		h->max_message = p->max_message;
		h->max_batch = p->max_batch;
		for (size_t i = 0; i < p->n_features && h->n_features < MESH_CLIENT_MAX_FEATURES;
		     i++)
			snprintf(h->features[h->n_features++], sizeof(h->features[0]), "%s",
				 p->features[i]);
	} else {
		ret = -EPROTO;
	}
	mesh__client__response__free_unpacked(r, NULL);
	c->hello_done = ret == 0;
	if (ret == 0 && out != NULL)
		*out = *h;
	return ret;
}

bool
mesh_client_has_feature(const struct mesh_client_hello *h, const char *feature)
{
	for (size_t i = 0; i < h->n_features; i++)
		if (strcmp(h->features[i], feature) == 0)
			return true;
	return false;
}

int
mesh_client_cluster(struct mesh_client *c, struct mesh_client_cluster *out)
{
	Mesh__Client__Request req = MESH__CLIENT__REQUEST__INIT;
	Mesh__Client__ClusterReq cr = MESH__CLIENT__CLUSTER_REQ__INIT;
	Mesh__Client__Response *r;
	int ret;

	memset(out, 0, sizeof(*out));
	req.op_case = MESH__CLIENT__REQUEST__OP_CLUSTER;
	req.cluster = &cr;
	ret = mc_call(c, &req, &r);
	if (ret < 0)
		return ret;
	if (r->result_case == MESH__CLIENT__RESPONSE__RESULT_CLUSTER) {
		const Mesh__Client__ClusterResp *p = r->cluster;

		*out = (struct mesh_client_cluster){
			.alive = p->alive, .suspect = p->suspect, .dead = p->dead, .left = p->left,
			.known = p->known, .reachable = p->reachable,
			.reachable_fraction = p->reachable_fraction, .quorum = p->quorum,
			.should_serve = p->should_serve,
		};
	} else {
		ret = -EPROTO;
	}
	mesh__client__response__free_unpacked(r, NULL);
	return ret;
}

int
mesh_client_metadata_set(struct mesh_client *c, const void *data, size_t len)
{
	Mesh__Client__Request req = MESH__CLIENT__REQUEST__INIT;
	Mesh__Client__SetMetadataReq mr = MESH__CLIENT__SET_METADATA_REQ__INIT;

	mr.metadata = mc_bin(data, len);
	req.op_case = MESH__CLIENT__REQUEST__OP_SET_METADATA;
	req.set_metadata = &mr;
	return mc_call_simple(c, &req);
}

/* ---- async */

static void
op_fill(Mesh__Client__BatchOp *b, const struct mesh_client_op *op)
{
	mesh__client__batch_op__init(b);
	b->kind = op->kind == MESH_CLIENT_OP_DELETE ? MESH__CLIENT__BATCH_OP__KIND__DELETE
		  : op->kind == MESH_CLIENT_OP_GET  ? MESH__CLIENT__BATCH_OP__KIND__GET
						    : MESH__CLIENT__BATCH_OP__KIND__PUT;
	b->key = mc_bin(op->key, op->key_len);
	if (op->kind == MESH_CLIENT_OP_PUT) {
		b->value = mc_bin(op->value, op->value_len);
		b->owned = op->owned;
	}
}

static int64_t
submit(struct mesh_client *c, Mesh__Client__Request *req, mesh_client_cb cb, void *arg)
{
	uint64_t id = c->next_id++;
	int ret;

	if (c->dead)
		return c->dead;
	req->id = id;
	ret = mc_pending_add(c, id, cb, arg);
	if (ret < 0)
		return ret;
	ret = mc_send(c, req);
	if (ret < 0) {
		mc_pending_remove(c, id);
		return ret;
	}
	/* take in what the node answered so far (when the socket is full, and every 64
	 * requests), so that its bounded output queue for us never fills while the caller
	 * only submits; callbacks still run only in mesh_client_process */
	if (c->out_head != NULL || (id & 63) == 0)
		(void)mc_pump(c, 0);
	return (int64_t)id;
}

int64_t
mesh_client_submit(struct mesh_client *c, const struct mesh_client_op *op, mesh_client_cb cb,
		   void *arg)
{
	Mesh__Client__Request req = MESH__CLIENT__REQUEST__INIT;
	Mesh__Client__PutReq put = MESH__CLIENT__PUT_REQ__INIT;
	Mesh__Client__GetReq get = MESH__CLIENT__GET_REQ__INIT;
	Mesh__Client__DeleteReq del = MESH__CLIENT__DELETE_REQ__INIT;

	switch (op->kind) {
	case MESH_CLIENT_OP_PUT:
		put.key = mc_bin(op->key, op->key_len);
		put.value = mc_bin(op->value, op->value_len);
		put.owned = op->owned;
		req.op_case = MESH__CLIENT__REQUEST__OP_PUT;
		req.put = &put;
		break;
	case MESH_CLIENT_OP_GET:
		get.key = mc_bin(op->key, op->key_len);
		req.op_case = MESH__CLIENT__REQUEST__OP_GET;
		req.get = &get;
		break;
	case MESH_CLIENT_OP_DELETE:
		del.key = mc_bin(op->key, op->key_len);
		req.op_case = MESH__CLIENT__REQUEST__OP_DEL;
		req.del = &del;
		break;
	default:
		return -EINVAL;
	}
	return submit(c, &req, cb, arg);
}

int64_t
mesh_client_submit_batch(struct mesh_client *c, const struct mesh_client_op *ops, size_t n,
			 mesh_client_cb cb, void *arg)
{
	Mesh__Client__Request req = MESH__CLIENT__REQUEST__INIT;
	Mesh__Client__BatchReq br = MESH__CLIENT__BATCH_REQ__INIT;
	Mesh__Client__BatchOp *bo = calloc(n ? n : 1, sizeof(*bo));
	Mesh__Client__BatchOp **bp = calloc(n ? n : 1, sizeof(*bp));
	int64_t ret = -ENOMEM;

	if (bo != NULL && bp != NULL) {
		for (size_t i = 0; i < n; i++) {
			op_fill(&bo[i], &ops[i]);
			bp[i] = &bo[i];
		}
		br.n_ops = n;
		br.ops = bp;
		req.op_case = MESH__CLIENT__REQUEST__OP_BATCH;
		req.batch = &br;
		ret = submit(c, &req, cb, arg);
	}
	free(bo);
	free(bp);
	return ret;
}

/* ---- sync batch */

struct batch_part {
	struct mesh_client_result *results; /* the caller's, at this part's first op */
	size_t n;
	uint64_t id;
	bool done;
	int status;
	int code;
	char error[128];
};

static void
part_done(struct mesh_client *c, const struct mesh_client_reply *r, void *arg)
{
	struct batch_part *p = arg;

	(void)c;
	p->done = true;
	p->status = r->status;
	p->code = r->code;
	snprintf(p->error, sizeof(p->error), "%s", r->error ? r->error : "");
	if (r->status == 0 && r->n_results != p->n) {
		p->status = -EPROTO;
		snprintf(p->error, sizeof(p->error), "%zu results for %zu ops", r->n_results, p->n);
		return;
	}
	for (size_t i = 0; r->status == 0 && i < p->n; i++) {
		struct mesh_client_result *o = &p->results[i];

		*o = r->results[i];
		o->value = NULL;
		if (r->results[i].found) {
			o->value = malloc(o->value_len + 1);
			if (o->value == NULL) {
				o->status = -ENOMEM;
				o->value_len = 0;
				continue;
			}
			memcpy(o->value, r->results[i].value, o->value_len);
			o->value[o->value_len] = '\0';
		}
	}
}

void
mesh_client_results_free(struct mesh_client_result *results, size_t n)
{
	for (size_t i = 0; results != NULL && i < n; i++) {
		free(results[i].value);
		results[i].value = NULL;
	}
}

static int
batch_once(struct mesh_client *c, const struct mesh_client_op *ops, size_t n,
	   struct mesh_client_result *results)
{
	size_t max_ops = BATCH_DEFAULT_MAX, n_parts = 0, cap = 0, i = 0, done = 0;
	struct batch_part *parts = NULL;
	int64_t deadline;
	int ret = 0;

	memset(results, 0, n * sizeof(*results));
	c->error[0] = '\0';
	c->code = MESH_CLIENT_OK;
	if (!c->hello_done && (ret = mesh_client_hello(c, NULL)) < 0)
		return ret;
	if (c->hello.max_batch > 0)
		max_ops = c->hello.max_batch;
	/* split and send every part */
	while (i < n) {
		size_t start = i, bytes = 0;
		int64_t id;

		while (i < n && i - start < max_ops) {
			size_t sz = ops[i].key_len + OP_OVERHEAD +
				    (ops[i].kind == MESH_CLIENT_OP_PUT ? ops[i].value_len : 0);
			if (i > start && bytes + sz > BATCH_BYTES)
				break;
			bytes += sz;
			i++;
		}
		if (n_parts == cap) {
			struct batch_part *t;

			cap = cap ? cap * 2 : 16;
			t = realloc(parts, cap * sizeof(*parts));
			if (t == NULL) {
				ret = -ENOMEM;
				break;
			}
			parts = t;
			/* callbacks hold pointers into parts: nothing is in flight yet when it
			 * moves only if we pump between submits; submit may pump (socket full)
			 * but callbacks run only in dispatch, below */
		}
		parts[n_parts] = (struct batch_part){ .results = results + start, .n = i - start };
		id = mesh_client_submit_batch(c, ops + start, i - start, part_done, NULL);
		if (id < 0) {
			ret = (int)id;
			break;
		}
		parts[n_parts++].id = (uint64_t)id;
	}
	/* the parts array no longer moves: point each pending callback at its part */
	for (size_t k = 0; k < n_parts; k++) {
		struct mc_pending *p = &c->pend[parts[k].id & (c->pend_cap - 1)];
		if (p->id == parts[k].id)
			p->arg = &parts[k];
	}
	deadline = mc_now_ms() + c->timeout_ms;
	while (done < n_parts) {
		int64_t left = deadline - mc_now_ms();
		int r;

		mc_dispatch(c);
		for (done = 0; done < n_parts && parts[done].done; done++)
			;
		if (done == n_parts)
			break;
		if (c->timeout_ms >= 0 && left <= 0) {
			ret = ret ? ret : -ETIMEDOUT;
			break;
		}
		r = mc_pump(c, c->timeout_ms < 0 ? -1 : (int)left);
		if (r < 0 && r != -ETIMEDOUT) {
			/* the replies read before the connection ended still count */
			mc_dispatch(c);
			for (done = 0; done < n_parts && parts[done].done; done++)
				;
			if (done < n_parts)
				ret = ret ? ret : r;
			break;
		}
	}
	for (size_t k = 0; k < n_parts; k++) {
		if (!parts[k].done) {
			mc_pending_remove(c, parts[k].id);
			continue;
		}
		if (parts[k].status < 0 && ret == 0) {
			ret = parts[k].status;
			c->code = parts[k].code;
			snprintf(c->error, sizeof(c->error), "%s", parts[k].error);
		}
	}
	free(parts);
	return ret;
}

/* GETs the node refused because their values did not fit the reply (TOO_LARGE): asked
 * again on their own, until each one is answered or refused alone */
static int
batch_reask(struct mesh_client *c, const struct mesh_client_op *ops, size_t n,
	    struct mesh_client_result *results)
{
	struct mesh_client_op *again = NULL;
	struct mesh_client_result *res = NULL;
	size_t *at = NULL, k = 0;
	int ret = 0;

	for (size_t i = 0; i < n; i++)
		k += ops[i].kind == MESH_CLIENT_OP_GET && results[i].status == -EMSGSIZE;
	if (k == 0 || k == n) /* none, or no progress: each stays refused */
		return 0;
	again = calloc(k, sizeof(*again));
	res = calloc(k, sizeof(*res));
	at = calloc(k, sizeof(*at));
	if (again == NULL || res == NULL || at == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	k = 0;
	for (size_t i = 0; i < n; i++)
		if (ops[i].kind == MESH_CLIENT_OP_GET && results[i].status == -EMSGSIZE) {
			at[k] = i;
			again[k++] = ops[i];
		}
	ret = mesh_client_batch(c, again, k, res);
	for (size_t j = 0; ret == 0 && j < k; j++)
		results[at[j]] = res[j]; /* the value moves to the caller's result */
	if (ret < 0)
		mesh_client_results_free(res, k);
out:
	free(again);
	free(res);
	free(at);
	return ret;
}

int
mesh_client_batch(struct mesh_client *c, const struct mesh_client_op *ops, size_t n,
		  struct mesh_client_result *results)
{
	int ret = batch_once(c, ops, n, results);

	return ret < 0 ? ret : batch_reask(c, ops, n, results);
}
