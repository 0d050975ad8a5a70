use strict; use warnings;
my $sum = 0;
for my $i (0 .. 20000000 - 1) { $sum += ($i * $i) % 7 + ($i ^ 3); }
print "$sum\n";
