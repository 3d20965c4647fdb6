// SPDX-License-Identifier: GPL-2.0
/* Every sink backend, once: adding one is its file in src/sink plus a line here. */
#include "sink/sink.h"

const struct ks_sink_ops *const ks_sink_backends[] = {
	&ks_table_ops,
	&ks_json_ops,
	&ks_prom_ops,
	&ks_store_ops,
	&ks_otlp_ops,
	&ks_otlp_pb_ops,
	NULL,
};
