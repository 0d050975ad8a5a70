use strict; use warnings;
# A node is [left, right]; a leaf has no children.
sub make { my $d = shift; return $d == 0 ? [undef, undef] : [make($d - 1), make($d - 1)]; }
sub check { my $t = shift; return defined $t->[0] ? 1 + check($t->[0]) + check($t->[1]) : 1; }
my $total = 0;
my $long_lived = make(14);
for (my $d = 4; $d <= 14; $d += 2) {
  my $iterations = 1 << (14 - $d + 4);
  for my $i (1 .. $iterations) { $total += check(make($d)); }
}
print $total + check($long_lived), "\n";
