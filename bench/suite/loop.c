#include <stdio.h>
int main(void) { volatile long n = 20000000; long sum = 0; for (long i = 0; i < n; i++) sum += (i * i) % 7 + (i ^ 3); printf("%ld\n", sum); return 0; }
