-- LuaJIT (Lua 5.1): numbers are doubles (exact here), xor is bit.bxor.
local bxor = bit.bxor
local sum = 0
for i = 0, 20000000 - 1 do sum = sum + (i * i) % 7 + bxor(i, 3) end
print(string.format("%d", sum))
