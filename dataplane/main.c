/* SPDX-License-Identifier: MIT */
/*
 * wgdp: a WireGuard concentrator on DPDK.
 *
 *   wgdp [EAL options] -- --config FILE [--check] [--help]
 *
 * Reads the configuration, builds the device (ports, tables, rings), starts
 * one worker lcore per Workers entry (every EAL lcore but the main one by
 * default), runs the control thread on the main
 * lcore until SIGINT or SIGTERM, then stops the workers, stops the ports,
 * wipes every secret and exits 0. The only place that calls rte_exit.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>

#include <jansson.h>

#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "conf/config.h"
#include "crypto/secure.h"
#include "dataplane/wgdp.h"
#include "dataplane/worker.h"
#include "control/api.h"
#include "control/control.h"
#include "control/scale.h"
#include "control/state.h"
#include "control/telemetry.h"
#include "control/uapi_server.h"

#define VERSION "0.1.0"

static struct wgdp dev;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: wgdp [EAL options] -- --config FILE [--check]\n"
		"\n"
		"A WireGuard concentrator on DPDK. EAL options come first (for example\n"
		"-l 0-1 --in-memory --file-prefix NAME --vdev ...), then `--', then:\n"
		"\n"
		"  -c, --config FILE  the configuration: wg(8)'s [Interface] and [Peer]\n"
		"                     sections, wg-quick's Address and MTU, and an\n"
		"                     [Appliance] section (see docs/config.md)\n"
		"      --check        parse and validate FILE, print a summary, exit\n"
		"  -h, --help         this text\n"
		"  -V, --version      print the version\n"
		"\n"
		"Exit status: 0 after a clean stop (SIGINT or SIGTERM) or a good --check;\n"
		"1 when the configuration or the set-up fails (the reason is printed);\n"
		"2 on bad usage.\n");
}

/* Jansson holds keys of requests and state records: wipe what it frees */
static void json_wipe_free(void *p)
{
	if (p) {
		wg_secure_wipe(p, malloc_usable_size(p));
		free(p);
	}
}

static void on_signal(int sig)
{
	(void)sig;
	dev.stop = 1;
}

struct opts {
	const char *config;
	bool check;
};

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'k':
			o->check = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("wgdp %s\n", VERSION);
			exit(0);
		case ':':
			fprintf(stderr, "wgdp: option %s needs a value\n", argv[optind - 1]);
			return -EINVAL;
		default:
			fprintf(stderr, "wgdp: unknown option `%s'\n", argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "wgdp: unexpected argument `%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (!o->config) {
		fprintf(stderr, "wgdp: --config FILE is required (after `--')\n");
		return -EINVAL;
	}
	return 0;
}

/* --help and --version work without EAL (and without root) */
static void early_args(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			exit(0);
		}
	for (i++; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			exit(0);
		}
}

int main(int argc, char **argv)
{
	struct wg_state_boot boot;
	struct opts o = { 0 };
	char err[512] = "";
	unsigned i;
	int ret;

	early_args(argc, argv);
	json_set_alloc_funcs(malloc, json_wipe_free);
	json_object_seed(0); /* before any thread uses Jansson */
	wg_call_init(&dev.call);
	if (wg_crypto_init())
		rte_exit(1, "cannot initialise the crypto library\n");
	ret = rte_eal_init(argc, argv);
	if (ret < 0)
		rte_exit(2, "EAL initialisation failed (see the messages above)\n");
	argc -= ret;
	argv += ret;
	if (parse_args(argc, argv, &o)) {
		usage(stderr);
		rte_eal_cleanup();
		return 2;
	}

	wg_conf_init(&dev.conf);
	ret = wg_conf_parse_file(o.config, &dev.conf, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "wgdp: %s\n", err);
		rte_eal_cleanup();
		return 1;
	}
	if (o.check) {
		printf("%s: OK: %zu peer(s), outside %s, inside %s\n", o.config, dev.conf.device.n_peers,
		       dev.conf.appliance.outside_device,
		       dev.conf.appliance.inside_device[0] ? dev.conf.appliance.inside_device
							  : dev.conf.appliance.inside_interface);
		wg_conf_free(&dev.conf);
		rte_eal_cleanup();
		return 0;
	}

	ret = wg_state_load(&dev.conf, &boot, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "wgdp: %s\n", err);
		wg_conf_free(&dev.conf);
		rte_eal_cleanup();
		return 1;
	}
	ret = wg_device_setup(&dev, err, sizeof(err));
	if (!ret) {
		ret = wg_state_start(&dev, &boot, err, sizeof(err));
		if (ret)
			wg_device_teardown(&dev);
	}
	if (!ret) {
		dev.start_ns = wg_now_ns();
		ret = wg_uapi_server_start(&dev, err, sizeof(err));
		if (!ret)
			ret = wg_api_start(&dev, err, sizeof(err));
		if (!ret)
			ret = wg_telemetry_register(&dev);
		if (ret) {
			wg_call_shutdown(&dev.call); /* a caller already waiting gives up */
			wg_telemetry_unregister();
			wg_api_stop(&dev);
			wg_uapi_server_stop(&dev);
			wg_state_stop(&dev);
			wg_device_teardown(&dev);
		}
	}
	if (ret) {
		fprintf(stderr, "wgdp: %s\n", err[0] ? err : strerror(-ret));
		rte_eal_cleanup();
		return 1;
	}
	if (dev.conf.appliance.state_file[0])
		printf("wgdp: state file %s: %s\n", dev.conf.appliance.state_file,
		       boot.found ? "loaded" : "new (seeded from the config file)");
	else
		printf("wgdp: no StateFile: changes made through the API are lost at exit\n");
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	wg_control_print_layout(&dev, stdout);

	for (i = 0; i < dev.n_workers; i++) {
		ret = rte_eal_remote_launch(wg_worker_main, &dev.workers[i], dev.workers[i].lcore_id);
		if (ret) {
			fprintf(stderr, "wgdp: cannot launch worker on lcore %u\n", dev.workers[i].lcore_id);
			dev.stop = 1;
			break;
		}
	}
	if (!dev.stop) {
		/* peers with a persistent keepalive and an endpoint are brought up now */
		for (struct wg_peer *p = dev.peers; p; p = p->list_next)
			if (p->conf.persistent_keepalive && p->endpoint.family)
				wg_scale_request(&dev, p, WG_REQ_KEEPALIVE);
		wg_control_run(&dev);
	}
	dev.stop = 1;
	for (i = 0; i < dev.n_workers; i++)
		wg_worker_wake(&dev.workers[i]); /* a parked one returns too */
	wg_call_shutdown(&dev.call);
	wg_telemetry_unregister();
	wg_api_stop(&dev);
	wg_uapi_server_stop(&dev);
	rte_eal_mp_wait_lcore();
	wg_control_print_counters(&dev, stdout);
	wg_state_stop(&dev);
	wg_device_teardown(&dev);
	rte_eal_cleanup();
	printf("wgdp: stopped\n");
	return 0;
}
