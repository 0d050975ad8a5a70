sum = 0
i = 0
while i < 20000000
  sum += (i * i) % 7 + (i ^ 3)
  i += 1
end
puts sum
