m = {}
i = 0
while i < 200000
  m[(i * 7919) % 1000003] = i
  i += 1
end
sum = 0
5.times do
  i = 0
  while i < 200000
    sum += m[(i * 7919) % 1000003] + (m[i + 2000000] || 0)
    i += 1
  end
end
puts sum + m.size
