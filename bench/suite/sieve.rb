count = 0
3.times do
  n = 2000000
  composite = Array.new(n + 1, false)
  count = 0
  i = 2
  while i <= n
    unless composite[i]
      count += 1
      j = i * i
      while j <= n
        composite[j] = true
        j += i
      end
    end
    i += 1
  end
end
puts count
