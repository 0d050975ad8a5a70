#include <stdio.h>
#include <stdlib.h>
int main(void) { long count = 0; for (int r = 0; r < 3; r++) { long n = 2000000; char *c = calloc(n + 1, 1); count = 0;
  for (long i = 2; i <= n; i++) if (!c[i]) { count++; for (long j = i * i; j <= n; j += i) c[j] = 1; } free(c); }
  printf("%ld\n", count); return 0; }
