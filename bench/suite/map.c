/* C floor for map.k: an open-addressing hash map of int keys, missing = 0. */
#include <stdio.h>
#include <stdlib.h>
typedef struct { long key, value; int used; } Slot;
static Slot *slots;
static unsigned long mask, size;
static Slot *find(long key) {
  unsigned long h = (unsigned long)key * 0x9E3779B97F4A7C15ul;
  for (unsigned long i = h >> 40;; i++) {
    Slot *s = &slots[i & mask];
    if (!s->used || s->key == key) return s;
  }
}
static void put(long key, long value) {
  if ((size + 1) * 2 > mask + 1) {
    Slot *old = slots; unsigned long n = mask + 1;
    mask = n * 2 - 1; slots = calloc(n * 2, sizeof(Slot)); size = 0;
    for (unsigned long i = 0; i < n; i++) if (old[i].used) put(old[i].key, old[i].value);
    free(old);
  }
  Slot *s = find(key);
  if (!s->used) { s->used = 1; s->key = key; size++; }
  s->value = value;
}
static long get(long key) { Slot *s = find(key); return s->used ? s->value : 0; }
int main(void) {
  mask = 15; slots = calloc(16, sizeof(Slot));
  for (long i = 0; i < 200000; i++) put((i * 7919) % 1000003, i);
  long sum = 0;
  for (int round = 0; round < 5; round++)
    for (long i = 0; i < 200000; i++) sum += get((i * 7919) % 1000003) + get(i + 2000000);
  printf("%ld\n", sum + (long)size);
  free(slots);
  return 0;
}
