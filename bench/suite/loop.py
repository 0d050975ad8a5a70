def main():
    total = 0
    for i in range(20000000):
        total += (i * i) % 7 + (i ^ 3)
    print(total)

main()
