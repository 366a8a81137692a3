"""Prints the values that the Swift prompt tests pin, computed by an independent pure-Python
implementation of the derivation that tasks/README.md ("How prompts are drawn") documents:
SplitMix64 and its seed derivation, the query/demonstration split, the prompt builder with its
label variants, and the induction probe.

Tests/CaptureTests/Prompts/SplitMix64Tests.swift, PromptBuilderTests.swift and
ShardAndInductionProbeTests.swift pin these numbers and texts; if this script and a test
disagree, one of the two implementations does not follow the documentation.

usage: python3 reference/make_prompt_pins.py   (standard library only)
"""

MASK = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15

# Stream numbers of tasks/README.md.
SPLIT, QUERY_ORDER, DEMONSTRATIONS, VARIANT, ABSTRACT_SYMBOLS, INDUCTION = 1, 2, 3, 4, 5, 6


def finalize(z):
    """SplitMix64's output function (Vigna's splitmix64.c)."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def mix(z):
    """SplitMix64's output for state z + gamma."""
    return finalize((z + GAMMA) & MASK)


def derive(seed, *path):
    h = mix(seed)
    for c in path:
        h = mix(h ^ mix(c))
    return h


def fnv1a(text):
    h = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x100000001B3) & MASK
    return h


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + GAMMA) & MASK
        return finalize(self.state)

    def uniform(self, bound):
        """An integer below `bound`: reject r < 2^64 mod bound, then r mod bound."""
        reject_below = (1 << 64) % bound
        while True:
            r = self.next()
            if r >= reject_below:
                return r % bound

    def shuffle(self, values):
        """Fisher-Yates from the end, in place."""
        for i in range(len(values) - 1, 0, -1):
            j = self.uniform(i + 1)
            values[i], values[j] = values[j], values[i]

    def sample(self, count, population):
        """Partial Fisher-Yates from the front over range(population), in draw order."""
        pool = list(range(population))
        for j in range(count):
            k = j + self.uniform(population - j)
            pool[j], pool[k] = pool[k], pool[j]
        return pool[:count]


# Built-in templates used by the pinned cases: (input, output, separator).
TEMPLATES = {"qa": ("Q: {x}\nA:", " {y}", "\n\n"), "arrow": ("{x} ->", " {y}", "\n")}


def affixes(form, placeholder):
    before, after = form.split(placeholder)
    return before, after


def split(task):
    """Query pool and demonstration pool: per label group (one group for open tasks), shuffled
    with derive(fnv1a(name), 1); even positions are queries, odd ones demonstrations."""
    rng = SplitMix64(derive(fnv1a(task["name"]), SPLIT))
    pairs = task["pairs"]
    if task["kind"] == "classification":
        groups = [[i for i, (_, y) in enumerate(pairs) if y == label] for label in task["labels"]]
    else:
        groups = [list(range(len(pairs)))]
    queries, demonstrations = [], []
    for group in groups:
        rng.shuffle(group)
        queries += group[0::2]
        demonstrations += group[1::2]
    return sorted(queries), sorted(demonstrations)


def build(task, variant, shots, count, seed, template=None):
    """(prompt texts, gold outputs) of a prompt set."""
    x_prefix, x_suffix = affixes(TEMPLATES[template or task["template"]][0], "{x}")
    y_prefix, y_suffix = affixes(TEMPLATES[template or task["template"]][1], "{y}")
    separator = TEMPLATES[template or task["template"]][2]
    pairs, labels = task["pairs"], task.get("labels", [])
    queries, demonstrations = split(task)
    shown_labels = list(labels)
    if variant == "abstract_labels":
        shown_labels = [chr(ord("A") + j) for j in range(len(labels))]
        SplitMix64(derive(seed, ABSTRACT_SYMBOLS)).shuffle(shown_labels)
    distinct_outputs = []
    for i in demonstrations:
        if pairs[i][1] not in distinct_outputs:
            distinct_outputs.append(pairs[i][1])
    shots = 0 if variant == "zero_shot" else shots
    texts, golds = [], []
    for i in range(count):
        if i % len(queries) == 0:
            order = list(queries)
            SplitMix64(derive(seed, QUERY_ORDER, i // len(queries))).shuffle(order)
        query = order[i % len(queries)]
        drawn = SplitMix64(derive(seed, DEMONSTRATIONS, i)).sample(shots, len(demonstrations))
        demos = [demonstrations[j] for j in drawn]
        outputs = [pairs[j][1] for j in demos]
        rng = SplitMix64(derive(seed, VARIANT, i))
        if variant == "shuffled_labels" and len(set(outputs)) > 1:
            shuffled = list(outputs)
            while shuffled == outputs:
                shuffled = list(outputs)
                rng.shuffle(shuffled)
            outputs = shuffled
        elif variant == "random_labels":
            choices = shown_labels if task["kind"] == "classification" else distinct_outputs
            outputs = [choices[rng.uniform(len(choices))] for _ in outputs]
        elif variant == "abstract_labels":
            outputs = [shown_labels[labels.index(y)] for y in outputs]
        text = "".join(x_prefix + pairs[j][0] + x_suffix + y_prefix + y + y_suffix + separator
                       for j, y in zip(demos, outputs))
        texts.append(text + x_prefix + pairs[query][0] + x_suffix)
        answer = pairs[query][1]
        if answer in labels:
            answer = shown_labels[labels.index(answer)]
        golds.append(y_prefix + answer + y_suffix)
    return texts, golds


def induction_sequences(vocabulary_size, sequence_count, repeat_length, seed, is_special):
    ordinary = [t for t in range(vocabulary_size) if not is_special(t)]
    result = []
    for s in range(sequence_count):
        half = [ordinary[j] for j in SplitMix64(derive(seed, INDUCTION, s)).sample(repeat_length, len(ordinary))]
        result.append(half + half)
    return result


# The toy tasks of Tests/CaptureTests/Prompts/PromptTestTasks.swift.
TOY_CLASSIFICATION = {"name": "toy_classification", "kind": "classification", "template": "qa",
                      "labels": ["yes", "no", "maybe"],
                      "pairs": [(f"w{i}", ["yes", "no", "maybe"][i % 3]) for i in range(40)]}
TOY_OPEN = {"name": "toy_open", "kind": "open", "template": "qa",
            "pairs": [(f"\u00e9{i}\u00df" if i % 3 == 0 else f"in{i}", f"out{i}") for i in range(40)]}


def swift(value):
    """A Swift literal for strings and lists (non-ASCII written as itself, as the tests do)."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return "[" + ", ".join(swift(v) if not isinstance(v, int) else str(v) for v in value) + "]"


def main():
    print("SplitMix64Tests")
    rng = SplitMix64(1234567)
    print("  seed 1234567, first 5 outputs:", [rng.next() for _ in range(5)])
    print(f"  mix(0) = 0x{mix(0):016X}")
    print(f"  fnv1a(\"\") = 0x{fnv1a(''):016X}, fnv1a(\"a\") = 0x{fnv1a('a'):016X}")
    values = list(range(10))
    SplitMix64(5).shuffle(values)
    print("  shuffle of 0..<10, seed 5:", values)
    print("  sample(12, from: 30), seed 11:", SplitMix64(11).sample(12, 30))

    print("PromptBuilderTests (pinnedCases)")
    for variant in ["clean", "shuffled_labels", "random_labels"]:
        texts, golds = build(TOY_OPEN, variant, shots=3, count=2, seed=2024)
        print(f"  open {variant}:\n    texts: {swift(texts)}\n    gold: {swift(golds)}")
    for variant in ["shuffled_labels", "random_labels", "abstract_labels"]:
        texts, golds = build(TOY_CLASSIFICATION, variant, shots=4, count=2, seed=99, template="arrow")
        print(f"  classification {variant}:\n    texts: {swift(texts)}\n    gold: {swift(golds)}")

    print("ShardAndInductionProbeTests")
    print("  vocabulary 100, 2 sequences, R 5, seed 1, ids < 3 special:",
          induction_sequences(100, 2, 5, 1, lambda t: t < 3))


if __name__ == "__main__":
    main()
