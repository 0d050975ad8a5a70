local Acc = {}
Acc.__index = Acc
function Acc.new() return setmetatable({ value = 0 }, Acc) end
function Acc:add(x) self.value = self.value + x end
function Acc:get() return self.value end
local a = Acc.new()
for i = 0, 4999999 do a:add(i % 10) end
print(a:get())
