local m = {}
local size = 0
for i = 0, 199999 do local k = (i * 7919) % 1000003; if m[k] == nil then size = size + 1 end; m[k] = i end
local sum = 0
for round = 1, 5 do
  for i = 0, 199999 do sum = sum + m[(i * 7919) % 1000003] + (m[i + 2000000] or 0) end
end
print(sum + size)
