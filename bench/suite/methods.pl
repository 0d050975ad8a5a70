use strict; use warnings;
package Acc;
sub new { my $class = shift; return bless { value => 0 }, $class; }
sub add { my ($self, $x) = @_; $self->{value} += $x; }
sub get { my $self = shift; return $self->{value}; }
package main;
my $a = Acc->new();
for my $i (0 .. 5000000 - 1) { $a->add($i % 10); }
print $a->get(), "\n";
