class Acc:
    def __init__(self):
        self.value = 0

    def add(self, x):
        self.value += x

    def get(self):
        return self.value


def main():
    a = Acc()
    for i in range(5000000):
        a.add(i % 10)
    print(a.get())

main()
