// SPDX-License-Identifier: GPL-2.0-only
/* Growing arrays: the rule-set compilers' element vectors. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cgfw/core.h>

int cgfw_array_add(void **p, size_t *n, size_t *cap, size_t size, size_t k, size_t first,
		   size_t max, const char *what, size_t *ret_at)
{
	if (k > max || *n > max - k)
		return cgfw_seterr(E2BIG, "the %s would exceed %zu elements", what, max);
	if (*n + k > *cap) {
		size_t c = *cap ? *cap : first;
		void *m;

		while (c < *n + k)
			c *= 2;
		m = reallocarray(*p, c, size);
		if (!m)
			return cgfw_seterr(ENOMEM, "out of memory");
		*p = m;
		*cap = c;
	}
	memset((char *)*p + *n * size, 0, k * size);
	*ret_at = *n;
	*n += k;
	return 0;
}
