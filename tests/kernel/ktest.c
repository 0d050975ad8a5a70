/*
 * ktest: the kernel tests' helper for what a shell cannot do (threads,
 * userfaultfd, raw ioctls, changing credentials). Built static for the
 * guest by tools/kernel-test.sh. Each command exits 0 when the kernel
 * behaved, 1 otherwise, and says why.
 *
 *   ktest pread-race DEV THREADS ROUNDS SIZE   readers share one open file
 *   ktest uffd-read DEV SIZE                   a reader stalls inside copy_to_user
 *   ktest uffd-ctl-write                       a /dev/kscript writer stalls in copy_from_user
 *   ktest uffd-proc-unload FILE NAME           unload while a /proc reader stalls
 *   ktest ioctl-badiag FILE NAME               diagnostics pointer not writable
 *   ktest ioctl-setuid FILE NAME               root's descriptor after setuid(65534)
 *   ktest ioctl-limits FILE NAME               quota, budget and depth out of range
 *   ktest list-abi NAME OBJECT                 KS_IOC_LIST's rules; NAME's first object is OBJECT
 *   ktest udp PORT COUNT                       COUNT datagrams to 127.0.0.1:PORT; prints how many arrived
 *   ktest opens N                              N failed opens of a missing file (kprobe fodder)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "../../include/kscript_ioctl.h"

static int fail(const char *what)
{
	fprintf(stderr, "ktest: %s: %s\n", what, strerror(errno));
	return 1;
}

/* A block read from a test device is SIZE copies of one letter. */
static int block_ok(const char *buf, ssize_t n, ssize_t size)
{
	ssize_t i;

	if (n != size || buf[0] < 'a' || buf[0] > 'z')
		return 0;
	for (i = 1; i < n; i++)
		if (buf[i] != buf[0])
			return 0;
	return 1;
}

struct race {
	int fd;
	int rounds;
	ssize_t size;
	int bad;
	int errors;
};

static void *race_reader(void *arg)
{
	struct race *r = arg;
	char *buf = malloc(r->size + 1);
	int i;

	for (i = 0; i < r->rounds; i++) {
		ssize_t n = pread(r->fd, buf, r->size + 1, 0);

		if (n < 0)
			__atomic_add_fetch(&r->errors, 1, __ATOMIC_RELAXED);
		else if (!block_ok(buf, n, r->size))
			__atomic_add_fetch(&r->bad, 1, __ATOMIC_RELAXED);
	}
	free(buf);
	return NULL;
}

static int pread_race(const char *dev, int threads, int rounds, ssize_t size)
{
	struct race r = { .rounds = rounds, .size = size };
	pthread_t t[16];
	int i;

	if (threads > 16)
		threads = 16;
	r.fd = open(dev, O_RDONLY);
	if (r.fd < 0)
		return fail(dev);
	for (i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, race_reader, &r);
	for (i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	close(r.fd);
	printf("%d threads x %d preads of %zd bytes: %d inconsistent, %d errors\n", threads, rounds, size, r.bad,
	       r.errors);
	return r.bad || r.errors;
}

/* A userfaultfd over [len] bytes at [*area]: every first touch stalls. */
static int uffd_region(void **area, size_t len)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;
	int uffd = syscall(SYS_userfaultfd, O_CLOEXEC);

	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api))
		return -1;
	*area = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (*area == MAP_FAILED)
		return -1;
	reg.range.start = (unsigned long)*area;
	reg.range.len = len;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		return -1;
	return uffd;
}

/* Waits for the first fault on the region; 0 when one came. */
static int uffd_wait(int uffd, struct uffd_msg *msg)
{
	struct pollfd p = { .fd = uffd, .events = POLLIN };

	if (poll(&p, 1, 10000) != 1 || read(uffd, msg, sizeof(*msg)) != sizeof(*msg))
		return -1;
	return msg->event == UFFD_EVENT_PAGEFAULT ? 0 : -1;
}

/* Resolves every page of the region with the contents of [src]. */
static int uffd_fill(int uffd, void *area, size_t len, const void *src)
{
	struct uffdio_copy copy = {
		.dst = (unsigned long)area, .src = (unsigned long)src, .len = len, .mode = 0,
	};

	return ioctl(uffd, UFFDIO_COPY, &copy) && errno != EEXIST ? -1 : 0;
}

struct stalled {
	int fd;
	void *area;
	size_t len;
	ssize_t result;
	int err;
};

static void *stalled_read(void *arg)
{
	struct stalled *s = arg;

	s->result = pread(s->fd, s->area, s->len, 0);
	s->err = errno;
	return NULL;
}

static void *stalled_write(void *arg)
{
	struct stalled *s = arg;

	s->result = write(s->fd, s->area, s->len);
	s->err = errno;
	return NULL;
}

/*
 * Reader A stalls in copy_to_user (its buffer is a missing userfaultfd
 * page) while reader B re-reads the same file many times (each read at
 * offset 0 makes a new buffer). A's data must still be one whole block.
 */
static int uffd_read(const char *dev, ssize_t size)
{
	size_t len = (size + 4095) & ~4095UL;
	struct stalled a = { .len = size };
	struct uffd_msg msg;
	pthread_t t;
	char *buf, *zero;
	int uffd, i, bad = 0;

	a.fd = open(dev, O_RDONLY);
	if (a.fd < 0)
		return fail(dev);
	uffd = uffd_region(&a.area, len);
	if (uffd < 0)
		return fail("userfaultfd");
	pthread_create(&t, NULL, stalled_read, &a);
	if (uffd_wait(uffd, &msg))
		return fail("no fault from the stalled reader");
	buf = malloc(size + 1);
	for (i = 0; i < 50; i++)
		if (!block_ok(buf, pread(a.fd, buf, size + 1, 0), size))
			bad++;
	zero = calloc(1, len);
	if (uffd_fill(uffd, a.area, len, zero))
		return fail("UFFDIO_COPY");
	pthread_join(t, NULL);
	printf("stalled reader: %zd bytes (%s); other reader: %d of 50 blocks inconsistent\n", a.result,
	       a.result == size && block_ok(a.area, a.result, size) ? "one whole block" : "INCONSISTENT", bad);
	return bad || !block_ok(a.area, a.result, size);
}

/*
 * Writer A stalls in copy_from_user on /dev/kscript while writer B, on
 * the same open file, writes a script larger than the buffer (which used
 * to be reallocated under A, so that A's bytes went to freed memory) and
 * closes its descriptor. Then A completes and the last descriptor closes:
 * the text loaded holds both, B's then A's, each printing its line.
 */
static int uffd_ctl_write(void)
{
	static const char a_text[] = "Linux.printk(\"uffd writer A ok\")\n";
	char b_text[6000];
	struct stalled a = { .len = sizeof(a_text) - 1 };
	struct uffd_msg msg;
	char *src;
	pthread_t t;
	int uffd, fd2, rc_b, rc_a;

	memset(b_text, ' ', sizeof(b_text));
	memcpy(b_text, "Linux.printk(\"uffd writer B ok\")\n//", 35);
	b_text[sizeof(b_text) - 1] = '\n';
	a.fd = open("/dev/kscript", O_RDWR);
	if (a.fd < 0)
		return fail("/dev/kscript");
	uffd = uffd_region(&a.area, 4096);
	if (uffd < 0)
		return fail("userfaultfd");
	pthread_create(&t, NULL, stalled_write, &a);
	if (uffd_wait(uffd, &msg))
		return fail("no fault from the stalled writer");
	fd2 = dup(a.fd);
	if (write(fd2, b_text, sizeof(b_text)) != sizeof(b_text))
		return fail("writer B");
	rc_b = close(fd2);
	src = calloc(1, 4096);
	memcpy(src, a_text, sizeof(a_text) - 1);
	if (uffd_fill(uffd, a.area, 4096, src))
		return fail("UFFDIO_COPY");
	pthread_join(t, NULL);
	rc_a = close(a.fd);
	printf("B's close: %d; writer A wrote %zd; the last close (the load): %d\n", rc_b, a.result, rc_a);
	return rc_b != 0 || a.result != (ssize_t)a.len || rc_a != 0;
}

/*
 * A reader of a script's /proc file stalls in copy_to_user; meanwhile the
 * script is unloaded. Removing the /proc file waits for the reader, so the
 * unload cannot finish yet, but its wait must be killable (it used to hang
 * in D state through SIGKILL). Once the reader goes on, the file goes.
 */
static int uffd_proc_unload(const char *file, const char *name)
{
	struct stalled a = { .len = 64 };
	struct uffd_msg msg;
	pthread_t t;
	char *zero;
	pid_t child;
	int uffd, status, i, reaped = 0, gone = 0;

	a.fd = open(file, O_RDONLY);
	if (a.fd < 0)
		return fail(file);
	uffd = uffd_region(&a.area, 4096);
	if (uffd < 0)
		return fail("userfaultfd");
	pthread_create(&t, NULL, stalled_read, &a);
	if (uffd_wait(uffd, &msg))
		return fail("no fault from the stalled reader");
	child = fork();
	if (child == 0) {
		execl("/bin/kscript", "kscript", "unload", name, (char *)NULL);
		_exit(127);
	}
	sleep(1);
	kill(child, SIGKILL);
	for (i = 0; i < 30 && !reaped; i++) {
		if (waitpid(child, &status, WNOHANG) == child)
			reaped = 1;
		else
			usleep(100000);
	}
	zero = calloc(1, 4096);
	if (uffd_fill(uffd, a.area, 4096, zero))
		return fail("UFFDIO_COPY");
	pthread_join(t, NULL);
	close(a.fd);
	for (i = 0; i < 50 && !gone; i++) {
		if (access(file, F_OK))
			gone = 1;
		else
			usleep(100000);
	}
	printf("unload killed while a reader stalled: %s; %s then\n", reaped ? "ended at once" : "STILL WAITING",
	       gone ? "the file went" : "the file STAYED");
	return !reaped || !gone;
}

/* Reads FILE for a KS_IOC_LOAD request named NAME. */
static int load_request(const char *file, const char *name, struct ks_ioc_load *req, char **text)
{
	static char buf[1 << 16];
	FILE *f = fopen(file, "r");
	size_t n;

	if (!f)
		return fail(file);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	memset(req, 0, sizeof(*req));
	req->source = (uintptr_t)buf;
	req->length = n;
	snprintf(req->name, sizeof(req->name), "%s", name);
	*text = buf;
	return 0;
}

/*
 * Is a script named [name] listed? Asked as `kscript list` asks: the
 * KS_IOC_LIST records (on /proc/kscript/scripts), with more room until
 * they fit; no text parsed. -1 when the listing fails.
 */
static int listed(const char *name)
{
	struct ks_ioc_script *scripts = NULL;
	struct ks_ioc_list req;
	unsigned int room = 16, i;
	int fd = open("/proc/kscript/scripts", O_RDONLY | O_CLOEXEC), found = -1;

	while (fd >= 0) {
		free(scripts);
		scripts = calloc(room, sizeof(*scripts));
		if (!scripts)
			break;
		memset(&req, 0, sizeof(req));
		req.version = KS_LIST_VERSION;
		req.script_size = sizeof(*scripts);
		req.object_size = sizeof(struct ks_ioc_object);
		req.max_scripts = room;
		req.scripts = (uintptr_t)scripts;
		if (ioctl(fd, KS_IOC_LIST, &req) < 0) {
			perror("KS_IOC_LIST");
			break;
		}
		if (req.script_count > room) {
			room = req.script_count + 16;
			continue;
		}
		found = 0;
		for (i = 0; i < req.script_count; i++)
			if (!strncmp(scripts[i].name, name, sizeof(scripts[i].name)))
				found = 1;
		break;
	}
	free(scripts);
	if (fd >= 0)
		close(fd);
	return found;
}

/* Expects the load to fail with [want]; then the script must be absent. */
static int expect_load_error(int fd, struct ks_ioc_load *req, int want, const char *what)
{
	int rc = ioctl(fd, KS_IOC_LOAD, req);
	int err = errno;
	int present = listed(req->name);

	printf("%s: %s (%s)\n", what, rc == 0 ? "loaded" : strerror(err),
	       present < 0 ? "listing failed" : present ? "listed" : "not listed");
	return rc == 0 || err != want || present != 0;
}

static int ioctl_badiag(const char *file, const char *name)
{
	struct ks_ioc_load req;
	char *text;
	void *ro;
	int fd = open("/dev/kscript", O_RDWR), bad = 0;

	if (fd < 0 || load_request(file, name, &req, &text))
		return fail("/dev/kscript");
	req.diagnostics = 1;	/* an address nothing is mapped at */
	req.diagnostics_size = 4096;
	bad |= expect_load_error(fd, &req, EFAULT, "unmapped diagnostics");
	ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	req.diagnostics = (uintptr_t)ro;
	bad |= expect_load_error(fd, &req, EFAULT, "read-only diagnostics");
	close(fd);
	return bad;
}

static int ioctl_setuid(const char *file, const char *name)
{
	struct ks_ioc_load req;
	char *text;
	int fd = open("/dev/kscript", O_RDWR), bad = 0;
	ssize_t n;

	if (fd < 0 || load_request(file, name, &req, &text))
		return fail("/dev/kscript");
	if (setgid(65534) || setuid(65534))
		return fail("setuid");
	bad |= expect_load_error(fd, &req, EPERM, "ioctl load after setuid");
	n = write(fd, text, req.length);
	printf("write after setuid: %s\n", n < 0 ? strerror(errno) : "accepted");
	bad |= n >= 0 || errno != EPERM;
	close(fd);
	return bad;
}

static int ioctl_limits(const char *file, const char *name)
{
	struct ks_ioc_load req;
	char *text;
	int fd = open("/dev/kscript", O_RDWR), bad = 0;

	if (fd < 0 || load_request(file, name, &req, &text))
		return fail("/dev/kscript");
	req.memory_quota = ~0ULL;
	bad |= expect_load_error(fd, &req, EINVAL, "quota 2^64-1");
	req.memory_quota = 0;
	req.budget = 1LL << 62;
	bad |= expect_load_error(fd, &req, EINVAL, "budget 2^62");
	req.budget = -5;
	bad |= expect_load_error(fd, &req, EINVAL, "budget -5");
	req.budget = 0;
	req.max_depth = 4000000000u;
	bad |= expect_load_error(fd, &req, EINVAL, "depth 4e9");
	close(fd);
	return bad;
}

/* KS_IOC_LIST on [fd] with room for [ns] scripts and [no] objects of the given sizes. */
static int list_ioctl(int fd, struct ks_ioc_list *req, unsigned int version, unsigned int ssize, unsigned int osize,
		      void *scripts, unsigned int ns, void *objects, unsigned int no)
{
	memset(req, 0, sizeof(*req));
	req->version = version;
	req->script_size = ssize;
	req->object_size = osize;
	req->scripts = (unsigned long)scripts;
	req->max_scripts = ns;
	req->objects = (unsigned long)objects;
	req->max_objects = no;
	return ioctl(fd, KS_IOC_LIST, req) ? -errno : 0;
}

/*
 * The listing ioctl's rules (kscript_ioctl.h), with script [name] loaded
 * and its first object [object] (as ks_ioc_object_text shows it): bad
 * versions and sizes refused; no room gives the counts; a caller with
 * bigger records gets them at its stride and learns the kernel's sizes; a
 * user without privileges may list, as it may read the file.
 */
static int list_abi(const char *name, const char *object)
{
	struct { struct ks_ioc_script s; char more[24]; } big[64];
	static struct ks_ioc_object objs[1024];
	struct ks_ioc_list req;
	char text[KS_IOC_OBJECT_TEXT];
	int fd = open("/proc/kscript/scripts", O_RDONLY), bad = 0, found = 0, status;
	unsigned int i;
	pid_t pid;

	if (fd < 0)
		return fail("/proc/kscript/scripts");
	bad |= list_ioctl(fd, &req, 2, sizeof(big[0].s), sizeof(objs[0]), NULL, 0, NULL, 0) != -EINVAL;
	bad |= list_ioctl(fd, &req, KS_LIST_VERSION, sizeof(big[0].s) - 8, sizeof(objs[0]), NULL, 0, NULL, 0) != -EINVAL;
	bad |= list_ioctl(fd, &req, KS_LIST_VERSION, sizeof(big[0].s), sizeof(objs[0]), NULL, 3, NULL, 0) != -EINVAL;
	bad |= list_ioctl(fd, &req, KS_LIST_VERSION, sizeof(big[0].s), sizeof(objs[0]), (void *)8, 1, NULL, 0) != -EFAULT;
	if (list_ioctl(fd, &req, KS_LIST_VERSION, sizeof(big[0].s), sizeof(objs[0]), NULL, 0, NULL, 0))
		return fail("KS_IOC_LIST without room");
	printf("no room: %u scripts, %u objects, sizes %u %u\n", req.script_count, req.object_count, req.script_size,
	       req.object_size);
	bad |= req.script_count < 1 || req.object_count < 1 || req.script_size != sizeof(struct ks_ioc_script) ||
	       req.object_size != sizeof(struct ks_ioc_object);
	memset(big, 0x5a, sizeof(big));
	if (list_ioctl(fd, &req, KS_LIST_VERSION, sizeof(big[0]), sizeof(objs[0]), big, 64, objs, 1024))
		return fail("KS_IOC_LIST");
	bad |= req.script_size != sizeof(struct ks_ioc_script) || req.script_count > 64 || req.object_count > 1024;
	for (i = 0; i < req.script_count && i < 64; i++) {
		bad |= big[i].more[0] != 0x5a;	/* the kernel writes its own size only */
		if (strcmp(big[i].s.name, name) || !big[i].s.objects)
			continue;
		ks_ioc_object_text(&objs[big[i].s.first_object], text, sizeof(text));
		printf("%s: calls %llu, %u objects, the first %s\n", name, (unsigned long long)big[i].s.calls,
		       big[i].s.objects, text);
		found = !strcmp(text, object);
	}
	bad |= !found;
	pid = fork();
	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(2);
		_exit(list_ioctl(fd, &req, KS_LIST_VERSION, sizeof(big[0].s), sizeof(objs[0]), NULL, 0, NULL, 0) ||
		      req.script_count < 1);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		bad |= fail("KS_IOC_LIST without privileges");
	close(fd);
	printf("list abi: %s\n", bad ? "FAILED" : "ok");
	return bad;
}

/*
 * Sends [count] UDP datagrams over loopback to [port] and receives what
 * arrives (a receive waits at most 200 ms): "received N of COUNT". A
 * netfilter hook that drops the port makes N 0.
 */
static int udp(int port, int count)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	int rx, tx, i, received = 0;
	char buf[64];

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rx = socket(AF_INET, SOCK_DGRAM, 0);
	tx = socket(AF_INET, SOCK_DGRAM, 0);
	if (rx < 0 || tx < 0)
		return fail("socket");
	if (bind(rx, (struct sockaddr *)&to, sizeof(to)))
		return fail("bind");
	setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (i = 0; i < count; i++) {
		snprintf(buf, sizeof(buf), "datagram %d", i);
		if (sendto(tx, buf, strlen(buf), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
			return fail("sendto");
		if (recv(rx, buf, sizeof(buf), 0) > 0)
			received++;
	}
	printf("received %d of %d\n", received, count);
	close(rx);
	close(tx);
	return 0;
}

/* [n] opens of a file that does not exist: each fails with ENOENT. */
static int opens(int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (open("/no/such/file", O_RDONLY) >= 0 || errno != ENOENT)
			return fail("open of /no/such/file");
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IONBF, 0);
	if (!strcmp(cmd, "pread-race") && argc == 6)
		return pread_race(argv[2], atoi(argv[3]), atoi(argv[4]), atol(argv[5]));
	if (!strcmp(cmd, "uffd-read") && argc == 4)
		return uffd_read(argv[2], atol(argv[3]));
	if (!strcmp(cmd, "uffd-ctl-write"))
		return uffd_ctl_write();
	if (!strcmp(cmd, "uffd-proc-unload") && argc == 4)
		return uffd_proc_unload(argv[2], argv[3]);
	if (!strcmp(cmd, "ioctl-badiag") && argc == 4)
		return ioctl_badiag(argv[2], argv[3]);
	if (!strcmp(cmd, "ioctl-setuid") && argc == 4)
		return ioctl_setuid(argv[2], argv[3]);
	if (!strcmp(cmd, "ioctl-limits") && argc == 4)
		return ioctl_limits(argv[2], argv[3]);
	if (!strcmp(cmd, "list-abi") && argc == 4)
		return list_abi(argv[2], argv[3]);
	if (!strcmp(cmd, "udp") && argc == 4)
		return udp(atoi(argv[2]), atoi(argv[3]));
	if (!strcmp(cmd, "opens") && argc == 3)
		return opens(atoi(argv[2]));
	fprintf(stderr, "usage: see the comment at the top of tests/kernel/ktest.c\n");
	return 2;
}
