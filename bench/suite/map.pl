use strict; use warnings;
my %m;
for my $i (0 .. 199999) { $m{($i * 7919) % 1000003} = $i; }
my $sum = 0;
for my $round (1 .. 5) {
  for my $i (0 .. 199999) { $sum += $m{($i * 7919) % 1000003} + ($m{$i + 2000000} // 0); }
}
print $sum + scalar(keys %m), "\n";
