/* C floor for methods.k: the calls are kept out of line. */
#include <stdio.h>
typedef struct { long value; } Acc;
__attribute__((noinline)) static void add(Acc *a, long x) { a->value += x; }
__attribute__((noinline)) static long get(const Acc *a) { return a->value; }
int main(void) {
  Acc a = {0};
  volatile long n = 5000000;
  for (long i = 0; i < n; i++) add(&a, i % 10);
  printf("%ld\n", get(&a));
  return 0;
}
