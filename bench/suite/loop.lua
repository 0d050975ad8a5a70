local sum = 0
for i = 0, 20000000 - 1 do sum = sum + (i * i) % 7 + (i ~ 3) end
print(sum)
