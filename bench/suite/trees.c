/* C floor for trees.k: malloc'd nodes, freed after each check. */
#include <stdio.h>
#include <stdlib.h>
typedef struct Tree { struct Tree *left, *right; } Tree;
static Tree *make(int d) {
  Tree *t = malloc(sizeof *t);
  t->left = d ? make(d - 1) : NULL;
  t->right = d ? make(d - 1) : NULL;
  return t;
}
static long check(const Tree *t) { return t->left ? 1 + check(t->left) + check(t->right) : 1; }
static void drop(Tree *t) { if (t->left) { drop(t->left); drop(t->right); } free(t); }
int main(void) {
  long total = 0;
  Tree *long_lived = make(14);
  for (int d = 4; d <= 14; d += 2) {
    int iterations = 1 << (14 - d + 4);
    for (int i = 0; i < iterations; i++) { Tree *t = make(d); total += check(t); drop(t); }
  }
  printf("%ld\n", total + check(long_lived));
  drop(long_lived);
  return 0;
}
