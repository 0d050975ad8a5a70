class Tree:
    __slots__ = ("left", "right")

    def __init__(self, left, right):
        self.left = left
        self.right = right

    def check(self):
        return 1 if self.left is None else 1 + self.left.check() + self.right.check()


def make(d):
    return Tree(None, None) if d == 0 else Tree(make(d - 1), make(d - 1))


def main():
    total = 0
    long_lived = make(14)
    for d in range(4, 15, 2):
        for _ in range(1 << (14 - d + 4)):
            total += make(d).check()
    print(total + long_lived.check())

main()
