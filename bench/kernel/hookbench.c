/*
 * The hook benchmarks' user side (tools/kernel-bench.sh), static for the
 * guest:
 *   hookbench getppid N        ns per getppid() on CPU 0: the probed hot path
 *   hookbench bpf SYMBOL N     the same with an eBPF kprobe program on SYMBOL
 *                              counting its hits in an array map (loaded
 *                              with the bpf() syscall, attached through a
 *                              perf kprobe event on CPU 0); also prints the
 *                              count, as "ns count"
 *   hookbench udp N            ns per UDP datagram sent and received over
 *                              loopback (each passes NF_INET_LOCAL_IN once)
 * No libbpf: the program is six instructions written out below.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

/* Runs on CPU 0 only, where the eBPF event is attached. */
static void pin_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static double getppid_loop(long n)
{
	double start = now_ns();
	long i;

	for (i = 0; i < n; i++)
		syscall(SYS_getppid);
	return (now_ns() - start) / n;
}

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* The kprobe PMU's type number, from sysfs. */
static int kprobe_pmu_type(void)
{
	FILE *f = fopen("/sys/bus/event_source/devices/kprobe/type", "r");
	int type = -1;

	if (f) {
		if (fscanf(f, "%d", &type) != 1)
			type = -1;
		fclose(f);
	}
	return type;
}

static int bpf_bench(const char *symbol, long n)
{
	union bpf_attr attr;
	struct perf_event_attr pe;
	static char log[65536];
	uint32_t key = 0;
	uint64_t count = 0;
	int map, prog, event, type;
	double ns;

	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_ARRAY;
	attr.key_size = 4;
	attr.value_size = 8;
	attr.max_entries = 1;
	map = sys_bpf(BPF_MAP_CREATE, &attr);
	if (map < 0) {
		perror("bpf map");
		return 1;
	}
	/* r0 = 0 ... : *(u32 *)(fp - 4) = 0; r0 = lookup(map, fp - 4);
	 * if r0: lock *(u64 *)r0 += 1; return 0. */
	struct bpf_insn insns[] = {
		{ .code = BPF_ST | BPF_MEM | BPF_W, .dst_reg = BPF_REG_10, .off = -4, .imm = 0 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_2, .src_reg = BPF_REG_10 },
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = BPF_REG_2, .imm = -4 },
		{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = BPF_REG_1, .src_reg = BPF_PSEUDO_MAP_FD, .imm = map },
		{ .code = 0 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_map_lookup_elem },
		{ .code = BPF_JMP | BPF_JEQ | BPF_K, .dst_reg = BPF_REG_0, .off = 2, .imm = 0 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_1, .imm = 1 },
		{ .code = BPF_STX | BPF_ATOMIC | BPF_DW, .dst_reg = BPF_REG_0, .src_reg = BPF_REG_1, .imm = BPF_ADD },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_KPROBE;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = sizeof(insns) / sizeof(insns[0]);
	attr.license = (uint64_t)(uintptr_t)"GPL";
	attr.log_buf = (uint64_t)(uintptr_t)log;
	attr.log_size = sizeof(log);
	attr.log_level = 1;
	prog = sys_bpf(BPF_PROG_LOAD, &attr);
	if (prog < 0) {
		perror("bpf prog");
		fprintf(stderr, "%s\n", log);
		return 1;
	}
	type = kprobe_pmu_type();
	if (type < 0) {
		fprintf(stderr, "no kprobe PMU in sysfs\n");
		return 1;
	}
	memset(&pe, 0, sizeof(pe));
	pe.size = sizeof(pe);
	pe.type = type;
	pe.config1 = (uint64_t)(uintptr_t)symbol;
	pe.sample_period = 1;
	pe.wakeup_events = 1;
	event = syscall(__NR_perf_event_open, &pe, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (event < 0) {
		perror("perf_event_open kprobe");
		return 1;
	}
	if (ioctl(event, PERF_EVENT_IOC_SET_BPF, prog) || ioctl(event, PERF_EVENT_IOC_ENABLE, 0)) {
		perror("attach");
		return 1;
	}
	ns = getppid_loop(n);
	ioctl(event, PERF_EVENT_IOC_DISABLE, 0);
	memset(&attr, 0, sizeof(attr));
	attr.map_fd = map;
	attr.key = (uint64_t)(uintptr_t)&key;
	attr.value = (uint64_t)(uintptr_t)&count;
	if (sys_bpf(BPF_MAP_LOOKUP_ELEM, &attr)) {
		perror("bpf lookup");
		return 1;
	}
	printf("%.0f %llu\n", ns, (unsigned long long)count);
	close(event);
	close(prog);
	close(map);
	return 0;
}

static int udp_bench(long n)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9000) };
	int rx = socket(AF_INET, SOCK_DGRAM, 0), tx = socket(AF_INET, SOCK_DGRAM, 0);
	char buf[64] = "datagram";
	double start;
	long i;

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (rx < 0 || tx < 0 || bind(rx, (struct sockaddr *)&to, sizeof(to))) {
		perror("udp");
		return 1;
	}
	start = now_ns();
	for (i = 0; i < n; i++) {
		if (sendto(tx, buf, 32, 0, (struct sockaddr *)&to, sizeof(to)) != 32 || recv(rx, buf, sizeof(buf), 0) != 32) {
			perror("udp round");
			return 1;
		}
	}
	printf("%.0f\n", (now_ns() - start) / n);
	return 0;
}

int main(int argc, char **argv)
{
	pin_cpu0();
	if (argc == 3 && !strcmp(argv[1], "getppid")) {
		printf("%.0f\n", getppid_loop(atol(argv[2])));
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "bpf"))
		return bpf_bench(argv[2], atol(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "udp"))
		return udp_bench(atol(argv[2]));
	fprintf(stderr, "usage: hookbench getppid N | bpf SYMBOL N | udp N\n");
	return 64;
}
