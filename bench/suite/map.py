def main():
    m = {}
    for i in range(200000):
        m[(i * 7919) % 1000003] = i
    total = 0
    for _ in range(5):
        for i in range(200000):
            total += m[(i * 7919) % 1000003] + m.get(i + 2000000, 0)
    print(total + len(m))

main()
