/* C floor for strings.k: decimal formatting, joining, strstr/strchr scans. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void) {
  long total = 0;
  char *text = malloc(20000 * 24);
  for (int round = 0; round < 20; round++) {
    size_t len = 0;
    for (int i = 0; i < 20000; i++) {
      if (i) text[len++] = ',';
      len += (size_t)sprintf(text + len, "%d", i * 7 + round);
    }
    text[len] = 0;
    long sevens = 0, fields = 1;
    for (const char *at = strchr(text, '7'); at; at = strchr(at + 1, '7')) sevens++;
    for (const char *at = strchr(text, ','); at; at = strchr(at + 1, ',')) fields++;
    total += sevens + fields;
  }
  printf("%ld\n", total);
  free(text);
  return 0;
}
