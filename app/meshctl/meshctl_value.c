/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * meshctl values: how a value is read from the command line and how it is shown. Values
 * are opaque bytes to meshd, so the representation is explicit: with --hex or --base64
 * VALUE arguments are decoded and values printed in that encoding; otherwise arguments
 * are taken as they are, plain output writes the bytes, and JSON carries valid UTF-8 as a
 * string and anything else as "value_base64". Keys under an epoch_max prefix (rl: unless
 * --epoch-prefix says otherwise; the client API does not tell namespace kinds) with a
 * 16-byte value are shown decoded, as epoch and count.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "meshctl.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
meshctl_encode(const uint8_t *v, size_t n, enum meshctl_enc enc)
{
	char *out = malloc(enc == MESHCTL_ENC_HEX ? 2 * n + 1 : (n + 2) / 3 * 4 + 1), *o = out;

	if (out == NULL)
		return NULL;
	if (enc == MESHCTL_ENC_HEX) {
		for (size_t i = 0; i < n; i++)
			o += sprintf(o, "%02x", v[i]);
		*o = '\0';
		return out;
	}
	for (size_t i = 0; i < n; i += 3) {
		uint32_t w = (uint32_t)v[i] << 16 | (i + 1 < n ? (uint32_t)v[i + 1] << 8 : 0) |
			     (i + 2 < n ? v[i + 2] : 0);

		*o++ = b64[w >> 18 & 63];
		*o++ = b64[w >> 12 & 63];
		*o++ = i + 1 < n ? b64[w >> 6 & 63] : '=';
		*o++ = i + 2 < n ? b64[w & 63] : '=';
	}
	*o = '\0';
	return out;
}

static int
digit(char c, enum meshctl_enc enc)
{
	const char *p;

	if (enc == MESHCTL_ENC_HEX) {
		p = c != '\0' ? strchr("0123456789abcdef0123456789ABCDEF", c) : NULL;
		return p != NULL ? (int)((p - "0123456789abcdef0123456789ABCDEF") & 15) : -1;
	}
	p = c != '\0' ? strchr(b64, c) : NULL;
	return p != NULL ? (int)(p - b64) : -1;
}

long
meshctl_decode(const char *s, enum meshctl_enc enc, uint8_t *out)
{
	size_t len = strlen(s), bits = enc == MESHCTL_ENC_HEX ? 4 : 6;
	uint32_t acc = 0;
	unsigned have = 0;
	long n = 0;

	if (enc == MESHCTL_ENC_BASE64)
		for (int pad = 0; pad < 2 && len > 0 && s[len - 1] == '='; pad++)
			len--;
	for (size_t i = 0; i < len; i++) {
		int d = digit(s[i], enc);

		if (d < 0)
			return -EINVAL;
		acc = acc << bits | (uint32_t)d;
		have += bits;
		if (have >= 8) {
			have -= 8;
			if (out != NULL)
				out[n] = (uint8_t)(acc >> have);
			n++;
		}
	}
	/* hex: whole bytes only; base64: 2 or 4 bits left over, never a lone 6 */
	if (have >= 6 || (enc == MESHCTL_ENC_HEX && have != 0))
		return -EINVAL;
	return n;
}

bool
meshctl_epoch_key(const void *key, size_t key_len)
{
	static const char *const dflt = "rl:";
	unsigned n = meshctl.n_epoch_prefix > 0 ? meshctl.n_epoch_prefix : 1;

	for (unsigned i = 0; i < n; i++) {
		const char *p = meshctl.n_epoch_prefix > 0 ? meshctl.epoch_prefix[i] : dflt;
		size_t pl = strlen(p);

		if (key_len >= pl && memcmp(key, p, pl) == 0)
			return true;
	}
	return false;
}

void
meshctl_epoch_encode(uint8_t v[MESHCTL_EPOCH_LEN], uint64_t epoch, int64_t count)
{
	for (int i = 0; i < 8; i++) {
		v[i] = (uint8_t)(epoch >> (56 - 8 * i));
		v[8 + i] = (uint8_t)((uint64_t)count >> (56 - 8 * i));
	}
}

/* Decoded epoch_max value, when the key and value are one and no encoding was asked. */
static bool
epoch_decode(const void *key, size_t key_len, const uint8_t *v, size_t n, uint64_t *epoch,
	     int64_t *count)
{
	uint64_t c = 0;

	if (meshctl.enc != MESHCTL_ENC_TEXT || n != MESHCTL_EPOCH_LEN ||
	    !meshctl_epoch_key(key, key_len))
		return false;
	*epoch = 0;
	for (int i = 0; i < 8; i++) {
		*epoch = *epoch << 8 | v[i];
		c = c << 8 | v[8 + i];
	}
	*count = (int64_t)c;
	return true;
}

static int
read_file(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 4096, n = 0, got;
	uint8_t *buf = malloc(cap), *bigger;
	int err = 0;

	if (f == NULL || buf == NULL) {
		err = f == NULL ? errno : ENOMEM;
		goto out;
	}
	while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			bigger = realloc(buf, cap *= 2);
			if (bigger == NULL) {
				err = ENOMEM;
				goto out;
			}
			buf = bigger;
		}
	}
	if (ferror(f))
		err = EIO;
out:
	if (f != NULL)
		fclose(f);
	if (err != 0) {
		free(buf);
		return meshctl_error(MESHCTL_EXIT_USAGE, err, "%s: %s", path, strerror(err));
	}
	*out = buf;
	*len = n;
	return 0;
}

int
meshctl_value_load(const char *arg, uint8_t **out, size_t *len)
{
	long n;

	if (arg[0] == '@')
		return read_file(arg + 1, out, len);
	n = meshctl.enc == MESHCTL_ENC_TEXT ? (long)strlen(arg) : meshctl_decode(arg, meshctl.enc, NULL);
	if (n < 0)
		return meshctl_error(MESHCTL_EXIT_USAGE, EINVAL, "value '%s' is not %s", arg,
				     meshctl.enc == MESHCTL_ENC_HEX ? "hex" : "base64");
	*out = malloc((size_t)n + 1);
	if (*out == NULL)
		return meshctl_error(MESHCTL_EXIT_REFUSED, ENOMEM, "%s", strerror(ENOMEM));
	if (meshctl.enc == MESHCTL_ENC_TEXT)
		memcpy(*out, arg, (size_t)n);
	else
		meshctl_decode(arg, meshctl.enc, *out);
	*len = (size_t)n;
	return 0;
}

void
meshctl_value_print(FILE *f, const void *key, size_t key_len, const uint8_t *v, size_t n,
		    bool escape)
{
	uint64_t epoch;
	int64_t count;
	char *s;

	if (epoch_decode(key, key_len, v, n, &epoch, &count)) {
		fprintf(f, "epoch=%" PRIu64 " count=%" PRId64, epoch, count);
	} else if (meshctl.enc != MESHCTL_ENC_TEXT) {
		s = meshctl_encode(v, n, meshctl.enc);
		fputs(s != NULL ? s : "(out of memory)", f);
		free(s);
	} else if (escape) {
		meshctl_escape(f, v, n);
	} else {
		fwrite(v, 1, n, f);
	}
}

int
meshctl_value_json(json_t *obj, const void *key, size_t key_len, const uint8_t *v, size_t n)
{
	uint64_t epoch;
	int64_t count;
	char *s;
	int ret;

	if (epoch_decode(key, key_len, v, n, &epoch, &count))
		return json_object_set_new(obj, "value",
					   json_pack("{s:o, s:I}", "epoch", meshctl_json_u64(epoch),
						     "count", (json_int_t)count)) < 0 ? -ENOMEM : 0;
	if (meshctl.enc == MESHCTL_ENC_TEXT)
		return meshctl_json_bytes(obj, "value", v, n);
	s = meshctl_encode(v, n, meshctl.enc);
	ret = json_object_set_new(obj, meshctl.enc == MESHCTL_ENC_HEX ? "value_hex" : "value_base64",
				  s != NULL ? json_string(s) : NULL);
	free(s);
	return ret < 0 ? -ENOMEM : 0;
}
