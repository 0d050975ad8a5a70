local total = 0
for round = 0, 19 do
  local parts = {}
  for i = 0, 19999 do parts[#parts + 1] = tostring(i * 7 + round) end
  local text = table.concat(parts, ",")
  local sevens = 0
  local at = string.find(text, "7", 1, true)
  while at do sevens = sevens + 1; at = string.find(text, "7", at + 1, true) end
  local n = 0
  for _ in string.gmatch(text, "[^,]+") do n = n + 1 end
  total = total + sevens + n
end
print(total)
