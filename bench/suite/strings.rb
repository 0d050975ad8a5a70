total = 0
20.times do |round|
  parts = []
  i = 0
  while i < 20000
    parts << (i * 7 + round).to_s
    i += 1
  end
  text = parts.join(",")
  sevens = 0
  at = text.index("7")
  while at
    sevens += 1
    at = text.index("7", at + 1)
  end
  total += sevens + text.split(",").size
end
puts total
