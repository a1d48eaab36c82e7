/* SPDX-License-Identifier: MIT */
/*
 * Reading a config file: the whole file into memory (at most
 * WG_CONF_MAX_FILE bytes, so a wrong path such as /dev/zero cannot exhaust
 * memory), then the buffer parser. Every buffer that held the text is wiped
 * before it is freed: it contains the private key.
 */
#include "conf/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/secure.h"

/* whole file into *buf (NUL-terminated); 0 or -errno */
static int read_all(const char *path, char **buf, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *b = NULL, *nb;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t r;

		if (!b || n + 1 >= cap) {
			if (b)
				cap *= 2;
			nb = malloc(cap);
			if (!nb) {
				ret = -ENOMEM;
				break;
			}
			if (b) {
				memcpy(nb, b, n);
				wg_secure_wipe(b, n);
				free(b);
			}
			b = nb;
		}
		r = read(fd, b + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > WG_CONF_MAX_FILE) {
			ret = -EFBIG;
			break;
		}
	}
	close(fd);
	if (ret) {
		if (b)
			wg_secure_wipe(b, n);
		free(b);
		return ret;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

int wg_conf_parse_file_opts(const char *path, const struct wg_conf_parse_opts *opts,
			    struct wg_conf *out, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	int ret = read_all(path, &text, &len);

	if (ret) {
		if (errlen) {
			if (ret == -EFBIG)
				snprintf(err, errlen, "%s: larger than %u MiB", path,
					 WG_CONF_MAX_FILE >> 20);
			else
				snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		}
		return ret;
	}
	ret = wg_conf_parse_buffer_opts(path, text, len, opts, out, err, errlen);
	wg_secure_wipe(text, len);
	free(text);
	return ret;
}

int wg_conf_parse_file(const char *path, struct wg_conf *out, char *err, size_t errlen)
{
	return wg_conf_parse_file_opts(path, NULL, out, err, errlen);
}
