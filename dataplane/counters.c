/* SPDX-License-Identifier: MIT */
/* Names of the drop reasons, as the API and the metrics show them. */
#include "dataplane/counters.h"

const char *const wg_drop_names[WG_DROP_MAX] = {
#define WG_X_NAME(e, name) [WG_DROP_##e] = name,
	WG_DROP_REASONS(WG_X_NAME)
#undef WG_X_NAME
};
