use strict; use warnings;
my $total = 0;
for my $round (0 .. 19) {
  my @parts;
  for my $i (0 .. 19999) { push @parts, "" . ($i * 7 + $round); }
  my $text = join(",", @parts);
  my $sevens = 0;
  my $at = index($text, "7");
  while ($at >= 0) { $sevens++; $at = index($text, "7", $at + 1); }
  my @fields = split(/,/, $text);
  $total += $sevens + scalar(@fields);
}
print "$total\n";
