-- LuaJIT (Lua 5.1): no << operator; 2^k is exact.
local function make(d) if d == 0 then return {} end return { make(d - 1), make(d - 1) } end
local function check(t) if t[1] == nil then return 1 end return 1 + check(t[1]) + check(t[2]) end
local total = 0
local long_lived = make(14)
for d = 4, 14, 2 do
  local iterations = 2 ^ (14 - d + 4)
  for i = 1, iterations do total = total + check(make(d)) end
end
print(total + check(long_lived))
