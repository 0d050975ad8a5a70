class Tree
  def initialize(left, right)
    @left = left
    @right = right
  end

  def check
    @left.nil? ? 1 : 1 + @left.check + @right.check
  end
end

def make(d)
  d == 0 ? Tree.new(nil, nil) : Tree.new(make(d - 1), make(d - 1))
end

total = 0
long_lived = make(14)
d = 4
while d <= 14
  iterations = 1 << (14 - d + 4)
  i = 0
  while i < iterations
    total += make(d).check
    i += 1
  end
  d += 2
end
puts total + long_lived.check
