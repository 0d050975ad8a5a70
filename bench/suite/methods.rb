class Acc
  def initialize
    @value = 0
  end

  def add(x)
    @value += x
  end

  def get
    @value
  end
end

a = Acc.new
i = 0
while i < 5000000
  a.add(i % 10)
  i += 1
end
puts a.get
