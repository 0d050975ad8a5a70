/* Reads DEVICE N times (open, read, close) and prints ns per read cycle. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char buf[256];
	struct timespec a, b;
	long n, i;

	if (argc != 3)
		return 64;
	n = atol(argv[2]);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++) {
		int fd = open(argv[1], O_RDONLY);
		if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0)
			return 1;
		close(fd);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.0f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
	return 0;
}
