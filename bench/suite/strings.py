def main():
    total = 0
    for rnd in range(20):
        parts = []
        for i in range(20000):
            parts.append(str(i * 7 + rnd))
        text = ",".join(parts)
        sevens = 0
        at = text.find("7")
        while at >= 0:
            sevens += 1
            at = text.find("7", at + 1)
        total += sevens + len(text.split(","))
    print(total)

main()
