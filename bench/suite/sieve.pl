use strict; use warnings;
my $count = 0;
for my $round (1 .. 3) {
  my $n = 2000000;
  my @composite = (0) x ($n + 1);
  $count = 0;
  for my $i (2 .. $n) {
    next if $composite[$i];
    $count++;
    for (my $j = $i * $i; $j <= $n; $j += $i) { $composite[$j] = 1; }
  }
}
print "$count\n";
