/*
 * test_config.c: lib/config reads the gateway config: the shipped files
 * load with the values they say, defaults fill what a file leaves out,
 * every error names FILE:LINE:COL and the field path and all of them come
 * at once, warnings alone keep the config, relative paths resolve against
 * the file's directory, and hostile input fails cleanly through lib/doc's
 * limits.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cunit_main.h"
#include "npgw_config.h"

#ifndef NPGW_SOURCE_ROOT
#error "NPGW_SOURCE_ROOT must name the source tree"
#endif

/* The two ports and the wire most tests start from. */
#define BASE                                                                                   \
	"ports:\n"                                                                             \
	"  - {name: a, device: net_ring0}\n"                                                   \
	"  - {name: b, device: net_ring1}\n"                                                   \
	"bridges:\n"                                                                           \
	"  - {name: w, ports: [a, b]}\n"

/* "FILE:LINE:COL: PATH: MESSAGE" of one diagnostic, as npgw_diags_print
 * writes it but without the severity. */
static void format(const struct npgw_diag *m, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%u:%u: %s%s%s", m->file, m->line, m->col, m->path,
		 m->path[0] ? ": " : "", m->message);
}

/* True when d holds exactly this line with this severity. */
static bool has_sev(const struct npgw_diags *d, enum npgw_severity sev, const char *line)
{
	char buf[2048];

	for (size_t i = 0; i < d->n; i++) {
		format(&d->v[i], buf, sizeof(buf));
		if (d->v[i].severity == sev && strcmp(buf, line) == 0)
			return true;
	}
	fprintf(stderr, "\nmissing %s: %s\nhave:\n",
		sev == NPGW_SEV_ERROR ? "error" : "warning", line);
	npgw_diags_print(d, stderr);
	return false;
}

static bool has(const struct npgw_diags *d, const char *line)
{
	return has_sev(d, NPGW_SEV_ERROR, line);
}

/* True when some message contains frag. */
static bool mentions(const struct npgw_diags *d, const char *frag)
{
	for (size_t i = 0; i < d->n; i++)
		if (strstr(d->v[i].message, frag) != NULL)
			return true;
	fprintf(stderr, "\nno message contains \"%s\"; have:\n", frag);
	npgw_diags_print(d, stderr);
	return false;
}

/* Load text that must be refused; the diagnostics stay in *d. */
static void refuse(const char *name, const char *text, struct npgw_diags *d)
{
	int err = 0;
	struct npgw_config *c = npgw_config_load_buffer(name, text, strlen(text), d, &err);

	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_EQUAL(err, -EINVAL);
	CU_ASSERT_TRUE(d->n_errors >= 1);
	npgw_config_free(c);
}

/* Text that must be refused with exactly this one error line. */
static void refused_with(const char *text, const char *line)
{
	struct npgw_diags d = {0};

	refuse("t.yaml", text, &d);
	CU_ASSERT_TRUE(has(&d, line));
	if (d.n_errors != 1) {
		fprintf(stderr, "\nwant 1 error (%s), have %zu:\n", line, d.n_errors);
		npgw_diags_print(&d, stderr);
	}
	CU_ASSERT_EQUAL(d.n_errors, 1);
	npgw_diags_free(&d);
}

/* Text that must load without an error; warnings counted in *warnings. */
static struct npgw_config *accept(const char *name, const char *text, size_t *warnings)
{
	struct npgw_diags d = {0};
	int err = 1;
	struct npgw_config *c = npgw_config_load_buffer(name, text, strlen(text), &d, &err);

	if (c == NULL)
		npgw_diags_print(&d, stderr);
	CU_ASSERT_PTR_NOT_NULL(c);
	CU_ASSERT_EQUAL(err, 0);
	CU_ASSERT_EQUAL(d.n_errors, 0);
	if (warnings != NULL)
		*warnings = d.n_warnings;
	else if (d.n_warnings)
		npgw_diags_print(&d, stderr);
	npgw_diags_free(&d);
	return c;
}

/* ---- the shipped files ---- */

static void test_shipped_npgw_yaml_is_the_demo(void)
{
	const char *path = NPGW_SOURCE_ROOT "/config/npgw.yaml";
	struct npgw_diags d = {0};
	int err = 1;
	struct npgw_config *c = npgw_config_load(path, &d, &err);

	if (d.n)
		npgw_diags_print(&d, stderr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(err, 0);
	CU_ASSERT_EQUAL(d.n, 0); /* no warning either */
	CU_ASSERT_STRING_EQUAL(c->file, path);
	CU_ASSERT_EQUAL_FATAL(c->n_policy_paths, 1);
	CU_ASSERT_STRING_EQUAL(c->policy_paths[0], NPGW_SOURCE_ROOT "/config/examples");
	CU_ASSERT_STRING_EQUAL(c->control_socket, "/run/npgw/npgw.sock");
	CU_ASSERT_STRING_EQUAL(c->state_dir, "/var/lib/npgw");
	CU_ASSERT_EQUAL(c->posture, NPGW_POSTURE_FAIL_CLOSED);
	CU_ASSERT_TRUE(c->non_ip_pass);
	CU_ASSERT_EQUAL_FATAL(c->n_ports, 2);
	CU_ASSERT_STRING_EQUAL(c->ports[0].name, "uplink");
	CU_ASSERT_STRING_EQUAL(c->ports[0].device, "net_af_packet0,iface=npgw-up");
	CU_ASSERT_STRING_EQUAL(c->ports[1].name, "pods");
	CU_ASSERT_STRING_EQUAL(c->ports[1].device, "net_af_packet1,iface=npgw-pods");
	for (size_t i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(c->ports[i].rx_queues, 0);
		CU_ASSERT_EQUAL(c->ports[i].tx_queues, 0);
		CU_ASSERT_EQUAL(c->ports[i].rx_descriptors, 1024);
		CU_ASSERT_EQUAL(c->ports[i].tx_descriptors, 1024);
		CU_ASSERT_TRUE(c->ports[i].promiscuous);
	}
	CU_ASSERT_EQUAL_FATAL(c->n_bridges, 1);
	CU_ASSERT_STRING_EQUAL(c->bridges[0].name, "wire");
	CU_ASSERT_EQUAL_FATAL(c->bridges[0].n_ports, 2);
	CU_ASSERT_EQUAL(c->bridges[0].ports[0], 0);
	CU_ASSERT_EQUAL(c->bridges[0].ports[1], 1);
	CU_ASSERT_EQUAL(c->bridges[0].mac_age_seconds, 300);
	CU_ASSERT_EQUAL_FATAL(c->n_workers, 1);
	CU_ASSERT_EQUAL(c->workers[0].lcore, 1);
	CU_ASSERT_EQUAL(c->workers[0].n_queues, 0);
	CU_ASSERT_EQUAL(c->main_lcore, 0);
	CU_ASSERT_EQUAL(c->mbufs, 8191);
	CU_ASSERT_EQUAL(c->mbuf_cache, 256);
	CU_ASSERT_EQUAL(c->burst, 32);
	CU_ASSERT_EQUAL(c->acl_max_mib, 0);
	CU_ASSERT_EQUAL_FATAL(c->n_eal_args, 4);
	CU_ASSERT_STRING_EQUAL(c->eal_args[0], "--no-huge");
	CU_ASSERT_STRING_EQUAL(c->eal_args[1], "-m");
	CU_ASSERT_STRING_EQUAL(c->eal_args[2], "512");
	CU_ASSERT_STRING_EQUAL(c->eal_args[3], "--no-pci");
	CU_ASSERT_STRING_EQUAL(c->log_level, "info");
	npgw_config_free(c);
	npgw_diags_free(&d);
}

static void test_shipped_pcap_variant_reads_and_writes_captures(void)
{
	const char *path = NPGW_SOURCE_ROOT "/config/npgw-pcap.yaml";
	struct npgw_diags d = {0};
	int err = 1;
	struct npgw_config *c = npgw_config_load(path, &d, &err);

	if (d.n)
		npgw_diags_print(&d, stderr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(d.n, 0);
	CU_ASSERT_EQUAL_FATAL(c->n_ports, 2);
	CU_ASSERT_STRING_EQUAL(c->ports[0].device,
			       "net_pcap0,rx_pcap=/tmp/npgw-in.pcap,tx_pcap=/tmp/npgw-out.pcap");
	CU_ASSERT_STRING_EQUAL(c->ports[1].device, "net_pcap1,tx_pcap=/tmp/npgw-fwd.pcap");
	CU_ASSERT_EQUAL_FATAL(c->n_bridges, 1);
	CU_ASSERT_EQUAL(c->bridges[0].ports[0], 0);
	CU_ASSERT_EQUAL(c->bridges[0].ports[1], 1);
	CU_ASSERT_EQUAL_FATAL(c->n_workers, 1);
	CU_ASSERT_EQUAL(c->workers[0].lcore, 1);
	CU_ASSERT_EQUAL_FATAL(c->n_policy_paths, 1);
	CU_ASSERT_STRING_EQUAL(c->policy_paths[0], NPGW_SOURCE_ROOT "/config/examples");
	CU_ASSERT_EQUAL_FATAL(c->n_eal_args, 4);
	CU_ASSERT_STRING_EQUAL(c->eal_args[3], "--no-pci");
	npgw_config_free(c);
	npgw_diags_free(&d);
}

/* ---- values and defaults ---- */

static void test_defaults_fill_what_the_file_leaves_out(void)
{
	struct npgw_config *c = accept("npgw.yaml", BASE, NULL);

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->file, "npgw.yaml");
	CU_ASSERT_EQUAL(c->n_policy_paths, 0);
	CU_ASSERT_STRING_EQUAL(c->control_socket, "/run/npgw/npgw.sock");
	CU_ASSERT_STRING_EQUAL(c->state_dir, "/var/lib/npgw");
	CU_ASSERT_EQUAL(c->posture, NPGW_POSTURE_FAIL_CLOSED);
	CU_ASSERT_TRUE(c->non_ip_pass);
	CU_ASSERT_EQUAL(c->ports[1].rx_queues, 0);
	CU_ASSERT_EQUAL(c->ports[1].tx_queues, 0);
	CU_ASSERT_EQUAL(c->ports[1].rx_descriptors, 1024);
	CU_ASSERT_EQUAL(c->ports[1].tx_descriptors, 1024);
	CU_ASSERT_TRUE(c->ports[1].promiscuous);
	CU_ASSERT_EQUAL(c->bridges[0].mac_age_seconds, 300);
	CU_ASSERT_EQUAL_FATAL(c->n_workers, 1);
	CU_ASSERT_EQUAL(c->workers[0].lcore, 1);
	CU_ASSERT_EQUAL(c->workers[0].n_queues, 0);
	CU_ASSERT_PTR_NULL(c->workers[0].queues);
	CU_ASSERT_EQUAL(c->main_lcore, 0);
	CU_ASSERT_EQUAL(c->mbufs, 8191);
	CU_ASSERT_EQUAL(c->mbuf_cache, 256);
	CU_ASSERT_EQUAL(c->burst, 32);
	CU_ASSERT_EQUAL(c->n_eal_args, 0);
	CU_ASSERT_STRING_EQUAL(c->log_level, "info");
	npgw_config_free(c);
}

static void test_every_field_is_read(void)
{
	static const char text[] =
		"policies: [/etc/npgw/policies, extra.yaml]\n"
		"control: {socket: /tmp/n.sock}\n"
		"state_dir: /tmp/state\n"
		"posture: fail-open\n"
		"non_ip: drop\n"
		"ports:\n"
		"  - name: up-1.x_y\n"
		"    device: \"0000:3b:00.1\"\n"
		"    rx_queues: 2\n"
		"    tx_queues: 2\n"
		"    rx_descriptors: 64\n"
		"    tx_descriptors: 16384\n"
		"    promiscuous: false\n"
		"  - {name: down, device: \"3b:00.0,rx_low_latency=1\", rx_queues: 2}\n"
		"  - {name: m1, device: net_memif0}\n"
		"  - {name: m2, device: net_memif1}\n"
		"  - {name: m3, device: net_memif2}\n"
		"bridges:\n"
		"  - {name: wire, ports: [up-1.x_y, down]}\n"
		"  - {name: lan, ports: [m1, m2, m3], mac_age_seconds: 86400}\n"
		"workers:\n"
		"  - lcore: 2\n"
		"    queues:\n"
		"      - {port: up-1.x_y, queue: 0}\n"
		"      - {port: down, queue: 0}\n"
		"      - {port: m1, queue: 0}\n"
		"      - {port: m2, queue: 0}\n"
		"      - {port: m3, queue: 0}\n"
		"  - lcore: 1023\n"
		"    queues: [{port: up-1.x_y, queue: 1}, {port: down, queue: 1}]\n"
		"main_lcore: 5\n"
		"mempool: {mbufs: 16777216, cache: 0}\n"
		"burst: 64\n"
		"acl_max_mib: 1024\n"
		"eal: [--file-prefix=gw, -n, '4', --log-level=lib.eal:debug]\n"
		"log_level: debug\n";
	struct npgw_config *c = accept("/etc/npgw/npgw.yaml", text, NULL);

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL_FATAL(c->n_policy_paths, 2);
	CU_ASSERT_STRING_EQUAL(c->policy_paths[0], "/etc/npgw/policies");
	CU_ASSERT_STRING_EQUAL(c->policy_paths[1], "/etc/npgw/extra.yaml");
	CU_ASSERT_STRING_EQUAL(c->control_socket, "/tmp/n.sock");
	CU_ASSERT_STRING_EQUAL(c->state_dir, "/tmp/state");
	CU_ASSERT_EQUAL(c->posture, NPGW_POSTURE_FAIL_OPEN);
	CU_ASSERT_FALSE(c->non_ip_pass);
	CU_ASSERT_EQUAL_FATAL(c->n_ports, 5);
	CU_ASSERT_STRING_EQUAL(c->ports[0].name, "up-1.x_y");
	CU_ASSERT_STRING_EQUAL(c->ports[0].device, "0000:3b:00.1");
	CU_ASSERT_EQUAL(c->ports[0].rx_queues, 2);
	CU_ASSERT_EQUAL(c->ports[0].tx_queues, 2);
	CU_ASSERT_EQUAL(c->ports[0].rx_descriptors, 64);
	CU_ASSERT_EQUAL(c->ports[0].tx_descriptors, 16384);
	CU_ASSERT_FALSE(c->ports[0].promiscuous);
	CU_ASSERT_STRING_EQUAL(c->ports[1].device, "3b:00.0,rx_low_latency=1");
	CU_ASSERT_EQUAL_FATAL(c->n_bridges, 2);
	CU_ASSERT_EQUAL_FATAL(c->bridges[1].n_ports, 3);
	CU_ASSERT_EQUAL(c->bridges[1].ports[0], 2);
	CU_ASSERT_EQUAL(c->bridges[1].ports[1], 3);
	CU_ASSERT_EQUAL(c->bridges[1].ports[2], 4);
	CU_ASSERT_EQUAL(c->bridges[1].mac_age_seconds, 86400);
	CU_ASSERT_EQUAL_FATAL(c->n_workers, 2);
	CU_ASSERT_EQUAL(c->workers[0].lcore, 2);
	CU_ASSERT_EQUAL_FATAL(c->workers[0].n_queues, 5);
	CU_ASSERT_EQUAL(c->workers[0].queues[4].port, 4);
	CU_ASSERT_EQUAL(c->workers[0].queues[4].queue, 0);
	CU_ASSERT_EQUAL(c->workers[1].lcore, 1023);
	CU_ASSERT_EQUAL_FATAL(c->workers[1].n_queues, 2);
	CU_ASSERT_EQUAL(c->workers[1].queues[1].port, 1);
	CU_ASSERT_EQUAL(c->workers[1].queues[1].queue, 1);
	CU_ASSERT_EQUAL(c->main_lcore, 5);
	CU_ASSERT_EQUAL(c->mbufs, 16777216);
	CU_ASSERT_EQUAL(c->mbuf_cache, 0);
	CU_ASSERT_EQUAL(c->burst, 64);
	CU_ASSERT_EQUAL(c->acl_max_mib, 1024);
	CU_ASSERT_EQUAL_FATAL(c->n_eal_args, 4);
	CU_ASSERT_STRING_EQUAL(c->eal_args[2], "4");
	CU_ASSERT_STRING_EQUAL(c->log_level, "debug");
	npgw_config_free(c);
}

static void test_null_values_read_as_left_out(void)
{
	struct npgw_config *c = accept("n.yaml",
				       "policies:\ncontrol:\nstate_dir: ~\nworkers:\n" BASE
				       "mempool: {mbufs: null}\n",
				       NULL);

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->control_socket, "/run/npgw/npgw.sock");
	CU_ASSERT_STRING_EQUAL(c->state_dir, "/var/lib/npgw");
	CU_ASSERT_EQUAL(c->n_workers, 1);
	CU_ASSERT_EQUAL(c->mbufs, 8191);
	npgw_config_free(c);
}

static void test_json_config_reads_too(void)
{
	static const char text[] =
		"{\"ports\": [{\"name\": \"a\", \"device\": \"net_ring0\"},\n"
		"            {\"name\": \"b\", \"device\": \"net_ring1\"}],\n"
		" \"bridges\": [{\"name\": \"w\", \"ports\": [\"a\", \"b\"]}],\n"
		" \"burst\": 16}\n";
	struct npgw_config *c = accept("npgw.json", text, NULL);

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->burst, 16);
	npgw_config_free(c);
	refused_with("{\"ports\": [], \"burst\": 16}",
		     "t.yaml:1:11: ports: 0 ports: npgw needs 1 to 32");
	refused_with(BASE "burst: 16.0\n", "t.yaml:6:8: burst: expected an integer, got 16.0");
}

/* ---- relative paths ---- */

static void test_relative_paths_resolve_against_the_config_directory(void)
{
	static const char text[] = "policies: [pol, /abs/p.yaml, ../up, ./here]\n"
				   "control: {socket: run/s.sock}\n"
				   "state_dir: state\n" BASE;
	struct npgw_config *c;

	c = accept("/etc/npgw/npgw.yaml", text, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL_FATAL(c->n_policy_paths, 4);
	CU_ASSERT_STRING_EQUAL(c->policy_paths[0], "/etc/npgw/pol");
	CU_ASSERT_STRING_EQUAL(c->policy_paths[1], "/abs/p.yaml");
	CU_ASSERT_STRING_EQUAL(c->policy_paths[2], "/etc/npgw/../up");
	CU_ASSERT_STRING_EQUAL(c->policy_paths[3], "/etc/npgw/./here");
	CU_ASSERT_STRING_EQUAL(c->control_socket, "/etc/npgw/run/s.sock");
	CU_ASSERT_STRING_EQUAL(c->state_dir, "/etc/npgw/state");
	npgw_config_free(c);

	/* a file in the working directory: paths stay relative to it */
	c = accept("npgw.yaml", text, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->policy_paths[0], "pol");
	CU_ASSERT_STRING_EQUAL(c->state_dir, "state");
	npgw_config_free(c);

	c = accept("/npgw.yaml", text, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->policy_paths[0], "/pol");
	npgw_config_free(c);

	c = accept("conf/npgw.yaml", text, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->policy_paths[0], "conf/pol");
	npgw_config_free(c);
}

/* ---- errors, one at a time, with exact positions ---- */

static void test_type_errors_name_position_and_path(void)
{
	refused_with(BASE "burst: \"32\"\n", "t.yaml:6:8: burst: expected an integer, got a string");
	refused_with("ports:\n  - name: a\n    device: net_ring0\n  - name: b\n"
		     "    device: net_ring1\n    rx_descriptors: \"1024\"\n"
		     "bridges: [{name: w, ports: [a, b]}]\n",
		     "t.yaml:6:21: ports[1].rx_descriptors: expected an integer, got a string");
	refused_with(BASE "eal: [--no-huge, 512]\n",
		     "t.yaml:6:18: eal[1]: expected a string, got an integer (quote it: \"512\")");
	refused_with(BASE "burst: 32.0\n", "t.yaml:6:8: burst: expected an integer, got 32.0");
	refused_with(BASE "burst: 010\n",
		     "t.yaml:6:8: burst: 010 is not a plain decimal integer (YAML 1.1 reads a "
		     "leading 0 as octal, 0x as hex, 0b as binary): write it in decimal");
	refused_with("ports:\n  - {name: a, device: net_ring0, promiscuous: \"yes\"}\n"
		     "  - {name: b, device: net_ring1}\nbridges: [{name: w, ports: [a, b]}]\n",
		     "t.yaml:2:47: ports[0].promiscuous: expected a boolean, got a string (write "
		     "true or false without quotes)");
	refused_with(BASE "mempool: [1]\n", "t.yaml:6:10: mempool: expected a mapping, got a list");
	refused_with(BASE "policies: examples\n",
		     "t.yaml:6:11: policies: expected a list, got a string");
	refused_with("- a\n", "t.yaml:1:1: expected a mapping, got a list");
}

static void test_conntrack_section(void)
{
	struct npgw_config *c = accept("npgw.yaml", BASE, NULL);

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_TRUE(c->conntrack.enabled);
	CU_ASSERT_EQUAL(c->conntrack.capacity, 262144);
	CU_ASSERT_EQUAL(c->conntrack.revoke, NPGW_CONNTRACK_REVOKE_DROP);
	CU_ASSERT_EQUAL(c->conntrack.timeouts.tcp_established, 86400);
	CU_ASSERT_TRUE(c->conntrack.tcp_seq_check);
	npgw_config_free(c);
	c = accept("npgw.yaml",
		   BASE "conntrack: {enabled: false, capacity: 1024, revoke: keep, tcp_loose: true,\n"
			"  tcp_seq_check: false, frag_hold: 0, denied_capacity: 0,\n"
			"  timeouts: {udp: 5, tcp_syn: 7, denied: 9}}\n",
		   NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_FALSE(c->conntrack.enabled);
	CU_ASSERT_EQUAL(c->conntrack.capacity, 1024);
	CU_ASSERT_EQUAL(c->conntrack.revoke, NPGW_CONNTRACK_REVOKE_KEEP);
	CU_ASSERT_TRUE(c->conntrack.tcp_loose);
	CU_ASSERT_FALSE(c->conntrack.tcp_seq_check);
	CU_ASSERT_EQUAL(c->conntrack.frag_hold, 0);
	CU_ASSERT_EQUAL(c->conntrack.timeouts.udp, 5);
	CU_ASSERT_EQUAL(c->conntrack.timeouts.tcp_syn, 7);
	CU_ASSERT_EQUAL(c->conntrack.denied_capacity, 0);
	CU_ASSERT_EQUAL(c->conntrack.timeouts.denied, 9);
	CU_ASSERT_EQUAL(c->conntrack.timeouts.icmp, 30);
	npgw_config_free(c);
	refused_with(BASE "conntrack: {revoke: rst}\n",
		     "t.yaml:6:21: conntrack.revoke: unknown revoke mode \"rst\" (drop, keep or reset)");
	refused_with(BASE "conntrack: {timeouts: {tcp: 5}}\n",
		     "t.yaml:6:24: conntrack.timeouts.tcp: unknown field \"tcp\" (timeouts are "
		     "tcp_syn, tcp_established, tcp_closing, tcp_closed, udp, udp_stream, icmp, "
		     "sctp, other, frag and denied (seconds))");
	refused_with(BASE "conntrack: {capacity: 4}\n",
		     "t.yaml:6:23: conntrack.capacity: 4 is outside 8..67108864");
	refused_with(BASE "acl_method: avx9\n",
		     "t.yaml:6:13: acl_method: unknown rte_acl method \"avx9\" (auto, scalar, sse, "
		     "avx2, avx512x16 or avx512x32)");
	refused_with(BASE "acl_max_mib: 65537\n",
		     "t.yaml:6:14: acl_max_mib: 65537 is outside 0..65536");
	/* the table's own bound: a config --check passes starts */
	refused_with(BASE "conntrack: {frag_hold: 65536}\n",
		     "t.yaml:6:24: conntrack.frag_hold: 65536 is outside 0..65535");
	refused_with(BASE "conntrack: {denied_capacity: -1}\n",
		     "t.yaml:6:30: conntrack.denied_capacity: -1 is outside 0..16777216");
}

/* desired_state: said, or derived from policies; socket with files is
 * refused */
static void test_desired_state_owner(void)
{
	struct npgw_diags d = {0};
	struct npgw_config *c;
	int err = 0;

	c = npgw_config_load_buffer("t.yaml", BASE, strlen(BASE), &d, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->owner, NPGW_OWNER_SOCKET); /* no policy files */
	npgw_config_free(c);
	c = npgw_config_load_buffer("t.yaml", BASE "policies: [p]\n",
				    strlen(BASE "policies: [p]\n"), &d, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->owner, NPGW_OWNER_FILES);
	npgw_config_free(c);
	c = npgw_config_load_buffer("t.yaml", BASE "desired_state: files\n",
				    strlen(BASE "desired_state: files\n"), &d, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->owner, NPGW_OWNER_FILES);
	npgw_config_free(c);
	CU_ASSERT_EQUAL(d.n_errors, 0);
	npgw_diags_free(&d);
	refused_with(BASE "policies: [p]\ndesired_state: socket\n",
		     "t.yaml:7:16: desired_state: socket: the control socket owns the desired "
		     "state, so the policy files would never be read; remove policies or say files");
	refused_with(BASE "desired_state: agent\n",
		     "t.yaml:6:16: desired_state: unknown owner of the desired state \"agent\" "
		     "(files or socket)");
}

static void test_unknown_keys_are_errors_at_every_level(void)
{
	refused_with(BASE "workerz: []\n",
		     "t.yaml:6:1: workerz: unknown field \"workerz\" (the config has policies, "
		     "control, state_dir, desired_state, posture, non_ip, ports, bridges, conntrack, "
		     "metrics, events, workers, main_lcore, mempool, burst, acl_method, acl_max_mib, eal and log_level)");
	refused_with("ports:\n  - {name: a, device: net_ring0, rx_descriptor: 512}\n"
		     "  - {name: b, device: net_ring1}\nbridges: [{name: w, ports: [a, b]}]\n",
		     "t.yaml:2:34: ports[0].rx_descriptor: unknown field \"rx_descriptor\" (a port "
		     "has name, device, rx_queues, tx_queues, rx_descriptors, tx_descriptors and "
		     "promiscuous)");
	refused_with(BASE "control: {path: /x}\n",
		     "t.yaml:6:11: control.path: unknown field \"path\" (control has socket)");
	refused_with("ports:\n  - {name: a, device: net_ring0}\n  - {name: b, device: net_ring1}\n"
		     "bridges: [{name: w, ports: [a, b], age: 3}]\n",
		     "t.yaml:4:36: bridges[0].age: unknown field \"age\" (a bridge has name, ports "
		     "and mac_age_seconds)");
	refused_with(BASE "workers: [{lcore: 1, queue: 0}]\n",
		     "t.yaml:6:22: workers[0].queue: unknown field \"queue\" (a worker has lcore and "
		     "queues)");
	refused_with(BASE "workers: [{lcore: 1, queues: [{port: a, queue: 0, q: 1}]}]\n",
		     "t.yaml:6:51: workers[0].queues[0].q: unknown field \"q\" (a queue has port and "
		     "queue)");
	refused_with(BASE "mempool: {size: 1}\n",
		     "t.yaml:6:11: mempool.size: unknown field \"size\" (mempool has mbufs and "
		     "cache)");
	refused_with(BASE "\"a.b\": 1\n",
		     "t.yaml:6:1: [\"a.b\"]: unknown field \"a.b\" (the config has policies, control, "
		     "state_dir, desired_state, posture, non_ip, ports, bridges, conntrack, metrics, "
		     "events, workers, main_lcore, mempool, burst, acl_method, acl_max_mib, eal and log_level)");
}

static void test_metrics_and_events_sections(void)
{
	struct npgw_config *c = accept("t.yaml", BASE, NULL);

	/* left out: no listener, events at their defaults */
	CU_ASSERT_PTR_NULL(c->metrics_listen);
	CU_ASSERT_EQUAL(c->events_rate, 1000);
	CU_ASSERT_EQUAL(c->events_burst, 256);
	npgw_config_free(c);
	c = accept("t.yaml",
		   BASE "metrics: {listen: \"[::1]:9469\"}\nevents: {rate: 0, burst: 1024}\n", NULL);
	CU_ASSERT_STRING_EQUAL(c->metrics_listen, "[::1]:9469");
	CU_ASSERT_EQUAL(c->events_rate, 0);
	CU_ASSERT_EQUAL(c->events_burst, 1024);
	npgw_config_free(c);
	refused_with(BASE "metrics: {listen: \"9469\"}\n",
		     "t.yaml:6:19: metrics.listen: \"9469\" is not ADDR:PORT (127.0.0.1:9469, "
		     "[::1]:9469, localhost:9469; port 1..65535)");
	refused_with(BASE "metrics: {listen: \"127.0.0.1:0\"}\n",
		     "t.yaml:6:19: metrics.listen: \"127.0.0.1:0\" is not ADDR:PORT (127.0.0.1:9469, "
		     "[::1]:9469, localhost:9469; port 1..65535)");
	refused_with(BASE "metrics: {port: 1}\n",
		     "t.yaml:6:11: metrics.port: unknown field \"port\" (metrics has listen)");
	refused_with(BASE "metrics: \"127.0.0.1:9\"\n",
		     "t.yaml:6:10: metrics: expected a mapping, got a string");
	refused_with(BASE "events: {rate: -1}\n",
		     "t.yaml:6:16: events.rate: -1 is outside 0..1000000");
	refused_with(BASE "events: {burst: 0}\n",
		     "t.yaml:6:17: events.burst: 0 is outside 1..1024");
	refused_with(BASE "events: {ring: 4}\n",
		     "t.yaml:6:10: events.ring: unknown field \"ring\" (events has rate and burst)");
}

static void test_required_fields_and_ranges(void)
{
	refused_with("burst: 32\n", "t.yaml:1:1: ports: missing required field");
	refused_with("", "t.yaml:1:1: ports: missing required field");
	refused_with("ports:\n  - {device: net_ring0}\n  - {name: b, device: net_ring1}\n",
		     "t.yaml:2:5: ports[0].name: missing required field");
	refused_with("ports:\n  - {name: a}\n  - {name: b, device: net_ring1}\n",
		     "t.yaml:2:5: ports[0].device: missing required field");
	refused_with("ports: []\n", "t.yaml:1:8: ports: 0 ports: npgw needs 1 to 32");
	refused_with("ports:\n  - {name: a, device: net_ring0}\n  - {name: b, device: net_ring1}\n"
		     "bridges: [{ports: [a, b]}]\n",
		     "t.yaml:4:11: bridges[0].name: missing required field");
	refused_with(BASE "workers: [{queues: [{port: a, queue: 0}]}]\n",
		     "t.yaml:6:11: workers[0].lcore: missing required field");
	refused_with(BASE "workers: [{lcore: 1, queues: [{port: a}]}]\n",
		     "t.yaml:6:31: workers[0].queues[0].queue: missing required field");
	refused_with("ports:\n  - {name: a, device: net_ring0, rx_descriptors: 63}\n"
		     "  - {name: b, device: net_ring1}\nbridges: [{name: w, ports: [a, b]}]\n",
		     "t.yaml:2:50: ports[0].rx_descriptors: 63 is outside 64..16384");
	refused_with("ports:\n  - {name: a, device: net_ring0, tx_descriptors: 16385}\n"
		     "  - {name: b, device: net_ring1}\nbridges: [{name: w, ports: [a, b]}]\n",
		     "t.yaml:2:50: ports[0].tx_descriptors: 16385 is outside 64..16384");
	refused_with("ports:\n  - {name: a, device: net_ring0, rx_queues: 65}\n"
		     "  - {name: b, device: net_ring1}\nbridges: [{name: w, ports: [a, b]}]\n",
		     "t.yaml:2:45: ports[0].rx_queues: 65 is outside 0..64");
	refused_with("ports:\n  - {name: a, device: net_ring0}\n  - {name: b, device: net_ring1}\n"
		     "bridges: [{name: w, ports: [a, b], mac_age_seconds: 86401}]\n",
		     "t.yaml:4:53: bridges[0].mac_age_seconds: 86401 is outside 1..86400");
	refused_with(BASE "workers: [{lcore: 1024}]\n",
		     "t.yaml:6:19: workers[0].lcore: 1024 is outside 0..1023");
	refused_with(BASE "workers: [{lcore: 1, queues: [{port: a, queue: 64}]}]\n",
		     "t.yaml:6:48: workers[0].queues[0].queue: 64 is outside 0..63");
	refused_with(BASE "main_lcore: -1\n", "t.yaml:6:13: main_lcore: -1 is outside 0..1023");
	refused_with(BASE "burst: 0\n", "t.yaml:6:8: burst: 0 is outside 1..64");
	refused_with(BASE "burst: 65\n", "t.yaml:6:8: burst: 65 is outside 1..64");
	refused_with(BASE "mempool: {mbufs: 1022}\n",
		     "t.yaml:6:18: mempool.mbufs: 1022 is outside 1023..16777216");
	refused_with(BASE "mempool: {mbufs: 16777217}\n",
		     "t.yaml:6:18: mempool.mbufs: 16777217 is outside 1023..16777216");
	refused_with(BASE "mempool: {cache: 513}\n",
		     "t.yaml:6:18: mempool.cache: 513 is outside 0..512");
	refused_with(BASE "mempool: {mbufs: 1023, cache: 683}\n",
		     "t.yaml:6:31: mempool.cache: 683 is outside 0..512");
}

static void test_enums_names_devices_and_strings(void)
{
	refused_with(BASE "posture: open\n",
		     "t.yaml:6:10: posture: unknown posture \"open\" (fail-closed or fail-open)");
	refused_with(BASE "non_ip: yes\n",
		     "t.yaml:6:9: non_ip: unknown non_ip mode \"yes\" (pass or drop)");
	refused_with(BASE "log_level: warn\n",
		     "t.yaml:6:12: log_level: unknown log level \"warn\" (error, warning, info or "
		     "debug)");
	refused_with("ports:\n  - {name: Up, device: net_ring0}\n",
		     "t.yaml:2:12: ports[0].name: invalid port name \"Up\": use only a-z, 0-9, '-', "
		     "'_' and '.'");
	refused_with("ports:\n  - {name: a234567890123456789012345678901x, device: net_ring0}\n",
		     "t.yaml:2:12: ports[0].name: invalid port name "
		     "\"a234567890123456789012345678901x\": longer than 31 characters");
	refused_with("ports:\n  - {name: \"\", device: net_ring0}\n",
		     "t.yaml:2:12: ports[0].name: invalid port name \"\": must not be empty");
	refused_with("ports:\n  - {name: a, device: eth0}\n",
		     "t.yaml:2:23: ports[0].device: invalid device \"eth0\": expected a virtual "
		     "device (net_ring0, net_af_packet0,iface=eth0, net_pcap0,...) or a PCI address "
		     "(0000:01:00.0 or 01:00.0)");
	refused_with("ports:\n  - {name: a, device: \"00:20.0\"}\n",
		     "t.yaml:2:23: ports[0].device: invalid device \"00:20.0\": expected a virtual "
		     "device (net_ring0, net_af_packet0,iface=eth0, net_pcap0,...) or a PCI address "
		     "(0000:01:00.0 or 01:00.0)");
	refused_with("ports:\n  - {name: a, device: \"net_ring0,\"}\n",
		     "t.yaml:2:23: ports[0].device: invalid device \"net_ring0,\": nothing after ','");
	refused_with("ports:\n  - {name: a, device: \"net_af_packet0, iface=x\"}\n",
		     "t.yaml:2:23: ports[0].device: invalid device \"net_af_packet0, iface=x\": white "
		     "space in a device string");
	refused_with("ports:\n  - {name: a, device: net_}\n",
		     "t.yaml:2:23: ports[0].device: invalid device \"net_\": a virtual device needs a "
		     "driver name after net_");
	refused_with(BASE "state_dir: \"\"\n", "t.yaml:6:12: state_dir: must not be empty");
	refused_with(BASE "control: {socket: /run/"
			  "a123456789a123456789a123456789a123456789a123456789a123456789a123456789"
			  "a123456789a123456789a123456789.sock}\n",
		     "t.yaml:6:19: control.socket: a path of 110 bytes is longer than the limit of "
		     "107");
	/* 97 bytes in the file, 118 once resolved */
	struct npgw_diags d = {0};
	static const char sock[] =
		BASE "control: {socket: s/"
		     "a123456789a123456789a123456789a123456789a123456789a123456789a123456789"
		     "a123456789a123456789.sock}\n";

	refuse("/etc/npgw-config-dir/t.yaml", sock, &d);
	CU_ASSERT_TRUE(has(&d, "/etc/npgw-config-dir/t.yaml:6:19: control.socket: a path of 118 "
			       "bytes (resolved against the config's directory) is longer than the "
			       "limit of 107"));
	npgw_diags_free(&d);
}

static void test_cross_checks_of_ports_and_bridges(void)
{
	refused_with("ports:\n  - {name: a, device: net_ring0}\n  - {name: a, device: net_ring1}\n",
		     "t.yaml:3:12: ports[1].name: duplicate port name \"a\" (first at line 2)");
	refused_with("ports:\n  - {name: a, device: \"0000:01:00.0\"}\n"
		     "  - {name: b, device: \"01:00.0,x=1\"}\nbridges: [{name: w, ports: [a, b]}]\n",
		     "t.yaml:3:23: ports[1].device: device 0000:01:00.0 is also the device of "
		     "ports[0] (line 2): one device backs one port");
	refused_with("ports:\n  - {name: a, device: net_ring0}\n  - {name: b, device: net_ring1}\n"
		     "  - {name: c, device: net_ring2}\n  - {name: d, device: net_ring3}\n"
		     "bridges: [{name: w, ports: [a, b]}, {name: w, ports: [c, d]}]\n",
		     "t.yaml:6:44: bridges[1].name: duplicate bridge name \"w\" (first at line 6)");
	refused_with("ports:\n  - {name: a, device: net_ring0}\n  - {name: b, device: net_ring1}\n"
		     "bridges:\n  - {name: w, ports: [a, c]}\n",
		     "t.yaml:5:26: bridges[0].ports[1]: unknown port \"c\": no port has that name");
	refused_with("ports:\n  - {name: a, device: net_ring0}\n  - {name: b, device: net_ring1}\n"
		     "  - {name: c, device: net_ring2}\n"
		     "bridges:\n  - {name: w, ports: [a, b]}\n  - {name: v, ports: [c, a]}\n",
		     "t.yaml:7:26: bridges[1].ports[1]: port \"a\" is already in bridge \"w\" (line 6): "
		     "a port is in at most one bridge");
	refused_with("ports:\n  - {name: a, device: net_ring0}\n  - {name: b, device: net_ring1}\n"
		     "bridges:\n  - {name: w, ports: [a, b, a]}\n",
		     "t.yaml:5:29: bridges[0].ports[2]: port \"a\" is listed twice in this bridge");
	refused_with("ports:\n  - {name: a, device: net_ring0}\n"
		     "bridges:\n  - {name: w, ports: [a]}\n",
		     "t.yaml:4:22: bridges[0].ports: a bridge joins at least 2 ports, this one has 1");
}

static void test_cross_checks_of_workers_and_queues(void)
{
	refused_with(BASE "workers: [{lcore: 3}, {lcore: 3}]\n",
		     "t.yaml:6:31: workers[1].lcore: lcore 3 is already the lcore of workers[0] "
		     "(line 6)");
	refused_with(BASE "workers: [{lcore: 2}]\nmain_lcore: 2\n",
		     "t.yaml:6:19: workers[0].lcore: lcore 2 is main_lcore: the main lcore runs the "
		     "control thread, a worker needs an lcore of its own");
	refused_with(BASE "main_lcore: 1\n",
		     "t.yaml:6:13: main_lcore: main_lcore 1 is the lcore of the default worker: "
		     "choose another or list workers");
	refused_with(BASE "workers: [{lcore: 1, queues: [{port: z, queue: 0}]}]\n",
		     "t.yaml:6:38: workers[0].queues[0].port: unknown port \"z\": no port has that "
		     "name");
	refused_with(BASE "workers:\n  - {lcore: 1, queues: [{port: a, queue: 0}, {port: b, queue: 0}]}\n"
			  "  - {lcore: 2, queues: [{port: b, queue: 0}]}\n",
		     "t.yaml:8:25: workers[1].queues[0]: queue 0 of port \"b\" is also polled by "
		     "workers[0] (lcore 1)");
	refused_with(BASE "workers:\n  - {lcore: 1, queues: [{port: a, queue: 0}, {port: a, queue: 0},"
			  " {port: b, queue: 0}]}\n",
		     "t.yaml:7:46: workers[0].queues[1]: queue 0 of port \"a\" is listed twice");
	/* a worker without queues polls queue <its index> of every port */
	refused_with(BASE "workers:\n  - {lcore: 1, queues: [{port: a, queue: 1}, {port: b, queue: 0}]}\n"
			  "  - {lcore: 2}\n",
		     "t.yaml:8:5: workers[1]: queue 1 of port \"a\" is also polled by workers[0] "
		     "(lcore 1) (this worker lists no queues, so it polls queue 1 of every port: "
		     "list them)");
	refused_with("ports:\n  - {name: a, device: net_ring0, rx_queues: 1}\n"
		     "  - {name: b, device: net_ring1}\nbridges: [{name: w, ports: [a, b]}]\n"
		     "workers:\n  - {lcore: 1, queues: [{port: a, queue: 1}, {port: b, queue: 0}]}\n",
		     "t.yaml:6:25: workers[0].queues[0]: queue 1 of port \"a\" is beyond the port's "
		     "rx_queues: 1");
	refused_with("ports:\n  - {name: a, device: net_ring0, tx_queues: 1}\n"
		     "  - {name: b, device: net_ring1}\nbridges: [{name: w, ports: [a, b]}]\n"
		     "workers: [{lcore: 1}, {lcore: 2}]\n",
		     "t.yaml:2:45: ports[0].tx_queues: 1 is fewer than the 2 workers: each worker "
		     "sends on a tx queue of its own (leave tx_queues out for one per worker)");
	refused_with(BASE "workers: []\n",
		     "t.yaml:6:10: workers: 0 workers: npgw needs 1 to 64 (leave workers out for one "
		     "worker on lcore 1)");
	refused_with(BASE "workers: [{lcore: 1, queues: []}]\n",
		     "t.yaml:6:30: workers[0].queues: an empty list polls nothing: list queues, or "
		     "leave queues out for queue <worker index> of every port");
}

static void test_eal_options_npgw_derives_are_refused(void)
{
	static const struct {
		const char *arg, *col, *says;
	} cases[] = {
		{"-l", "7", "the lcore list itself, derived from main_lcore and workers"},
		{"-l0-3", "7", "the lcore list itself, derived from main_lcore and workers"},
		{"--lcores", "7", "the lcore list itself, derived from main_lcore and workers"},
		{"--lcores=1@2", "7", "the lcore list itself, derived from main_lcore and workers"},
		{"-c", "7", "the lcore list itself, derived from main_lcore and workers"},
		{"--main-lcore=0", "7", "the main lcore itself, derived from main_lcore"},
		{"--vdev", "7", "the devices itself, derived from ports"},
		{"--vdev=net_ring0", "7", "the devices itself, derived from ports"},
		{"-a", "7", "the devices itself, derived from ports"},
		{"--allow", "7", "the devices itself, derived from ports"},
	};
	char text[256], line[512];

	for (size_t i = 0; i < NPGW_ARRAY_SIZE(cases); i++) {
		snprintf(text, sizeof(text), BASE "eal: [%s]\n", cases[i].arg);
		snprintf(line, sizeof(line),
			 "t.yaml:6:%s: eal[0]: \"%s\" is not allowed here: npgw gives the EAL %s",
			 cases[i].col, cases[i].arg, cases[i].says);
		refused_with(text, line);
	}
	/* look-alikes pass */
	struct npgw_config *c = accept("t.yaml", BASE "eal: [--log-level=8, --legacy-mem, --allow-x]\n",
				       NULL);

	CU_ASSERT_PTR_NOT_NULL(c);
	npgw_config_free(c);
}

/* ---- several errors, warnings ---- */

static void test_every_error_of_the_file_is_reported(void)
{
	static const char text[] = "posture: open\n"                           /* 1 */
				   "ports:\n"                                   /* 2 */
				   "  - name: a\n"                              /* 3 */
				   "    device: net_ring0\n"                    /* 4 */
				   "    rx_descriptors: \"1024\"\n"             /* 5 */
				   "  - name: a\n"                              /* 6 */
				   "    device: net_ring1\n"                    /* 7 */
				   "bridges:\n"                                 /* 8 */
				   "  - {name: w, ports: [a, ghost]}\n"         /* 9 */
				   "workers: [{lcore: 0}]\n"                    /* 10 */
				   "eal: [-l, '1']\n"                           /* 11 */
				   "burst: 0\n";                                /* 12 */
	struct npgw_diags d = {0};

	refuse("npgw.yaml", text, &d);
	CU_ASSERT_TRUE(has(&d, "npgw.yaml:1:10: posture: unknown posture \"open\" (fail-closed or "
			       "fail-open)"));
	CU_ASSERT_TRUE(has(&d, "npgw.yaml:5:21: ports[0].rx_descriptors: expected an integer, got "
			       "a string"));
	CU_ASSERT_TRUE(has(&d, "npgw.yaml:6:11: ports[1].name: duplicate port name \"a\" (first at "
			       "line 3)"));
	CU_ASSERT_TRUE(has(&d, "npgw.yaml:9:26: bridges[0].ports[1]: unknown port \"ghost\": no "
			       "port has that name"));
	CU_ASSERT_TRUE(has(&d, "npgw.yaml:10:19: workers[0].lcore: lcore 0 is main_lcore: the main "
			       "lcore runs the control thread, a worker needs an lcore of its own"));
	CU_ASSERT_TRUE(mentions(&d, "\"-l\" is not allowed here"));
	CU_ASSERT_TRUE(has(&d, "npgw.yaml:12:8: burst: 0 is outside 1..64"));
	CU_ASSERT_EQUAL(d.n_errors, 7);
	npgw_diags_free(&d);
}

static void test_warnings_alone_keep_the_config(void)
{
	static const char text[] = "ports:\n"
				   "  - {name: a, device: net_ring0}\n"
				   "  - {name: b, device: net_ring1}\n"
				   "  - {name: lonely, device: net_ring2}\n"
				   "bridges: [{name: w, ports: [a, b]}]\n";
	struct npgw_diags d = {0};
	int err = 1;
	struct npgw_config *c = npgw_config_load_buffer("w.yaml", text, strlen(text), &d, &err);

	CU_ASSERT_PTR_NOT_NULL(c);
	CU_ASSERT_EQUAL(err, 0);
	CU_ASSERT_EQUAL(d.n_errors, 0);
	CU_ASSERT_EQUAL(d.n_warnings, 1);
	CU_ASSERT_TRUE(has_sev(&d, NPGW_SEV_WARNING,
			       "w.yaml:4:12: ports[2].name: port \"lonely\" is in no bridge: frames it "
			       "receives will be dropped (no-route)"));
	npgw_config_free(c);
	npgw_diags_free(&d);

	/* no bridges at all: every port warns */
	size_t warnings = 0;

	c = accept("w.yaml", "ports: [{name: a, device: net_ring0}]\n", &warnings);
	CU_ASSERT_PTR_NOT_NULL(c);
	CU_ASSERT_EQUAL(warnings, 1);
	npgw_config_free(c);

	/* a port no worker polls, rx queues nobody reads, rings over the pool */
	memset(&d, 0, sizeof(d));
	c = npgw_config_load_buffer(
		"w.yaml",
		"ports:\n  - {name: a, device: net_ring0, rx_queues: 4}\n"
		"  - {name: b, device: net_ring1}\nbridges: [{name: w, ports: [a, b]}]\n"
		"workers: [{lcore: 1, queues: [{port: a, queue: 0}]}]\n",
		strlen("ports:\n  - {name: a, device: net_ring0, rx_queues: 4}\n"
		       "  - {name: b, device: net_ring1}\nbridges: [{name: w, ports: [a, b]}]\n"
		       "workers: [{lcore: 1, queues: [{port: a, queue: 0}]}]\n"),
		&d, &err);
	CU_ASSERT_PTR_NOT_NULL(c);
	CU_ASSERT_TRUE(has_sev(&d, NPGW_SEV_WARNING,
			       "w.yaml:2:45: ports[0].rx_queues: 4 rx queues but workers poll only "
			       "queues 0..0: RSS spreads frames over every queue, and those on the "
			       "others are never read"));
	CU_ASSERT_TRUE(has_sev(&d, NPGW_SEV_WARNING,
			       "w.yaml:3:12: ports[1].name: port \"b\" is polled by no worker: frames "
			       "it receives are never read"));
	CU_ASSERT_EQUAL(d.n_warnings, 2);
	npgw_config_free(c);
	npgw_diags_free(&d);

	memset(&d, 0, sizeof(d));
	c = npgw_config_load_buffer("w.yaml", BASE "mempool: {mbufs: 2047, cache: 32}\n",
				    strlen(BASE "mempool: {mbufs: 2047, cache: 32}\n"), &d, &err);
	CU_ASSERT_PTR_NOT_NULL(c);
	CU_ASSERT_TRUE(has_sev(&d, NPGW_SEV_WARNING,
			       "w.yaml:6:18: mempool.mbufs: the ports' rx and tx rings hold up to 4096 "
			       "mbufs, more than the pool's 2047: ports may fail to start, or stall "
			       "when the rings fill (raise mempool.mbufs or lower the descriptors)"));
	npgw_config_free(c);
	npgw_diags_free(&d);
}

/* ---- files and hostile input ---- */

static void test_unreadable_and_oversized_files(void)
{
	struct npgw_diags d = {0};
	char path[] = "/tmp/npgw-config-XXXXXX";
	size_t len = 17u * 1024 * 1024;
	char *buf;
	int err = 0, fd;

	CU_ASSERT_PTR_NULL(npgw_config_load("/no/such/npgw.yaml", &d, &err));
	CU_ASSERT_EQUAL(err, -ENOENT);
	CU_ASSERT_TRUE(has(&d, "/no/such/npgw.yaml:0:0: cannot read: No such file or directory"));
	npgw_diags_free(&d);

	buf = malloc(len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	memset(buf, ' ', len);
	memcpy(buf, BASE, strlen(BASE));
	fd = mkstemp(path);
	CU_ASSERT_TRUE_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, buf, len), (ssize_t)len);
	close(fd);
	CU_ASSERT_PTR_NULL(npgw_config_load(path, &d, &err));
	CU_ASSERT_EQUAL(err, -EINVAL);
	CU_ASSERT_TRUE(mentions(&d, "larger than the limit of 16 MiB"));
	npgw_diags_free(&d);
	CU_ASSERT_PTR_NULL(npgw_config_load_buffer("big.yaml", buf, len, &d, &err));
	CU_ASSERT_EQUAL(err, -EINVAL);
	CU_ASSERT_TRUE(has(&d, "big.yaml:0:0: larger than the limit of 16 MiB"));
	npgw_diags_free(&d);
	unlink(path);
	free(buf);

	npgw_config_free(NULL);
}

static void test_hostile_input_fails_cleanly(void)
{
	struct npgw_diags d = {0};
	size_t n = 100000;
	char *deep = malloc(2 * n + 64), *p = deep;

	refuse("t.yaml", BASE "x: &a [1]\ny: *a\n", &d);
	CU_ASSERT_TRUE(has(&d, "t.yaml:6:4: YAML anchors and aliases are not supported (npgw "
			       "config files never need them; they are how alias bombs are built)"));
	npgw_diags_free(&d);

	refuse("t.yaml", BASE "burst: !!python/object 1\n", &d);
	CU_ASSERT_TRUE(mentions(&d, "is not allowed: npgw config files use only plain YAML"));
	npgw_diags_free(&d);

	refuse("t.yaml", BASE "---\n" BASE, &d);
	CU_ASSERT_TRUE(has(&d, "t.yaml:7:1: a config file holds one document; this is document 2"));
	npgw_diags_free(&d);

	refuse("t.yaml", "ports:\n  - {name: a, device: net_ring0}\nports: []\n", &d);
	CU_ASSERT_TRUE(has(&d, "t.yaml:3:1: duplicate key \"ports\" (first at line 1)"));
	npgw_diags_free(&d);

	refuse("t.yaml", "ports: [\n", &d);
	CU_ASSERT_TRUE(mentions(&d, "YAML: "));
	npgw_diags_free(&d);

	/* not UTF-8; a NUL */
	CU_ASSERT_PTR_NULL(npgw_config_load_buffer("t.yaml", "burst: \xff\n", 9, &d, NULL));
	CU_ASSERT_TRUE(has(&d, "t.yaml:1:8: invalid UTF-8 byte: input must be UTF-8 text"));
	npgw_diags_free(&d);
	CU_ASSERT_PTR_NULL(npgw_config_load_buffer("t.yaml", "burst: \"a\\0b\"\n", 14, &d, NULL));
	CU_ASSERT_TRUE(mentions(&d, "NUL character in a string"));
	npgw_diags_free(&d);

	/* nesting beyond the limit, in YAML and JSON */
	CU_ASSERT_PTR_NOT_NULL_FATAL(deep);
	p += sprintf(p, "eal: ");
	for (size_t i = 0; i < n; i++)
		*p++ = '[';
	*p = '\0';
	refuse("t.yaml", deep, &d);
	CU_ASSERT_TRUE(mentions(&d, "nesting deeper than 64 levels"));
	npgw_diags_free(&d);
	refuse("t.json", deep + 5, &d);
	CU_ASSERT_TRUE(mentions(&d, "nesting deeper than 64 levels"));
	npgw_diags_free(&d);
	free(deep);

	/* a long string is refused by the config's own bound */
	char *big = malloc(8192);

	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	p = big + sprintf(big, BASE "eal: [\"");
	memset(p, 'x', 5000);
	strcpy(p + 5000, "\"]\n");
	refuse("t.yaml", big, &d);
	CU_ASSERT_TRUE(has(&d, "t.yaml:6:7: eal[0]: 5000 bytes is longer than the limit of 4096"));
	npgw_diags_free(&d);
	free(big);
}

/* Issue 18: what rte_eal_init would refuse at start is refused by the
 * config (so by npgw --check too), at the argument's line and column. */
static void test_eal_arguments_are_checked_as_start_does(void)
{
	refused_with("ports: [{name: a, device: net_ring0}]\neal: [--no-huge, --bogus]\n",
		     "t.yaml:2:18: eal[1]: unknown EAL option \"--bogus\" (DPDK 22.11)");
	refused_with("ports: [{name: a, device: net_ring0}]\neal: [-z]\n",
		     "t.yaml:2:7: eal[0]: unknown EAL option \"-z\" (DPDK 22.11)");
	refused_with("ports: [{name: a, device: net_ring0}]\neal: [--no-pci=1]\n",
		     "t.yaml:2:7: eal[0]: EAL option --no-pci takes no value");
	refused_with("ports: [{name: a, device: net_ring0}]\neal: [--no-pci, --file-prefix]\n",
		     "t.yaml:2:17: eal[1]: EAL option --file-prefix needs a value");
	refused_with("ports: [{name: a, device: net_ring0}]\neal: [--no-pci, '512']\n",
		     "t.yaml:2:17: eal[1]: \"512\" is not an EAL option, nor the value of one "
		     "(write a value right after its option)");
	refused_with("ports: [{name: a, device: net_ring0}]\neal: [--help]\n",
		     "t.yaml:2:7: eal[0]: \"--help\" is not allowed here: it prints the EAL usage "
		     "and exits");
	refused_with("ports: [{name: a, device: net_ring0}]\neal: [--no-huge, --in-memory]\n",
		     "t.yaml:2:18: eal: --in-memory cannot go with --no-huge (the EAL refuses both; "
		     "--no-shconf gives what --in-memory would)");

	/* what the shipped configs and the tests use is fine */
	static const char ok[] = "ports: [{name: a, device: net_ring0}]\n"
				 "eal: [--no-huge, -m, '256', --no-pci, --file-prefix, x, --log-level, "
				 "error, --force-max-simd-bitwidth=512, --huge-unlink, -n4, --syslog]\n";
	struct npgw_diags d = {0};
	int err = 0;
	struct npgw_config *c = npgw_config_load_buffer("ok.yaml", ok, strlen(ok), &d, &err);
	CU_ASSERT_PTR_NOT_NULL(c);
	if (c == NULL)
		npgw_diags_print(&d, stderr);
	npgw_config_free(c);
	npgw_diags_free(&d);
}

/* Issue 18: a device string's arguments are key=value with keys its driver
 * takes: an option smuggled into them is refused before start. */
static void test_device_arguments_are_checked_as_start_does(void)
{
	refused_with("ports: [{name: a, device: 'net_ring0,--vdev=net_tap0'}]\n",
		     "t.yaml:1:27: ports[0].device: invalid device \"net_ring0,--vdev=net_tap0\": "
		     "the argument \"--vdev=net_tap0\" is not key=value with a key of letters, "
		     "digits, '_' and '-'");
	refused_with("ports: [{name: a, device: 'net_af_packet0,iface=eth0,ifcae=x'}]\n",
		     "t.yaml:1:27: ports[0].device: invalid device "
		     "\"net_af_packet0,iface=eth0,ifcae=x\": net_af_packet takes no argument "
		     "\"ifcae\" (it takes iface, qpairs, blocksz, framesz, framecnt, qdisc_bypass, "
		     "fanout_mode)");
	refused_with("ports: [{name: a, device: '0000:01:00.0,=x'}]\n",
		     "t.yaml:1:27: ports[0].device: invalid device \"0000:01:00.0,=x\": the "
		     "argument \"=x\" is not key=value with a key of letters, digits, '_' and '-'");

	static const char ok[] =
		"ports:\n"
		"  - {name: a, device: 'net_af_packet0,iface=veth0,qpairs=2'}\n"
		"  - {name: b, device: 'net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap'}\n"
		"  - {name: c, device: 'net_null0,no-rx=1'}\n"
		"  - {name: d, device: 'net_memif0,role=server,socket=/run/m.sock'}\n"
		"  - {name: e, device: 'net_foo0,anything=goes'}\n"
		"  - {name: f, device: '0000:01:00.0,rxq_pkt_pad_en=1'}\n"
		"bridges: [{name: w, ports: [a, b]}, {name: v, ports: [c, d]}, {name: u, ports: [e, f]}]\n";
	struct npgw_diags d = {0};
	int err = 0;
	struct npgw_config *c = npgw_config_load_buffer("ok.yaml", ok, strlen(ok), &d, &err);
	CU_ASSERT_PTR_NOT_NULL(c);
	if (c == NULL)
		npgw_diags_print(&d, stderr);
	npgw_config_free(c);
	npgw_diags_free(&d);
}

int npgw_test_register(void)
{
	static const CU_TestInfo shipped[] = {
		{"shipped_npgw_yaml_is_the_demo", test_shipped_npgw_yaml_is_the_demo},
		{"shipped_pcap_variant_reads_and_writes_captures",
		 test_shipped_pcap_variant_reads_and_writes_captures},
		{NULL, NULL},
	};
	static const CU_TestInfo values[] = {
		{"defaults_fill_what_the_file_leaves_out", test_defaults_fill_what_the_file_leaves_out},
		{"every_field_is_read", test_every_field_is_read},
		{"null_values_read_as_left_out", test_null_values_read_as_left_out},
		{"json_config_reads_too", test_json_config_reads_too},
		{"relative_paths_resolve_against_the_config_directory",
		 test_relative_paths_resolve_against_the_config_directory},
		{NULL, NULL},
	};
	static const CU_TestInfo errors[] = {
		{"type_errors_name_position_and_path", test_type_errors_name_position_and_path},
		{"unknown_keys_are_errors_at_every_level", test_unknown_keys_are_errors_at_every_level},
		{"desired_state_owner", test_desired_state_owner},
		{"conntrack_section", test_conntrack_section},
		{"metrics_and_events_sections", test_metrics_and_events_sections},
		{"required_fields_and_ranges", test_required_fields_and_ranges},
		{"enums_names_devices_and_strings", test_enums_names_devices_and_strings},
		{"cross_checks_of_ports_and_bridges", test_cross_checks_of_ports_and_bridges},
		{"cross_checks_of_workers_and_queues", test_cross_checks_of_workers_and_queues},
		{"eal_options_npgw_derives_are_refused", test_eal_options_npgw_derives_are_refused},
		{"every_error_of_the_file_is_reported", test_every_error_of_the_file_is_reported},
		{"eal_arguments_are_checked_as_start_does",
		 test_eal_arguments_are_checked_as_start_does},
		{"device_arguments_are_checked_as_start_does",
		 test_device_arguments_are_checked_as_start_does},
		{"warnings_alone_keep_the_config", test_warnings_alone_keep_the_config},
		{NULL, NULL},
	};
	static const CU_TestInfo hostile[] = {
		{"unreadable_and_oversized_files", test_unreadable_and_oversized_files},
		{"hostile_input_fails_cleanly", test_hostile_input_fails_cleanly},
		{NULL, NULL},
	};

	if (npgw_test_add_suite("config_shipped", shipped) != 0 ||
	    npgw_test_add_suite("config_values", values) != 0 ||
	    npgw_test_add_suite("config_errors", errors) != 0 ||
	    npgw_test_add_suite("config_hostile", hostile) != 0)
		return -1;
	return 0;
}
