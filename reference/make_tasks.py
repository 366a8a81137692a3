#!/usr/bin/env python3
"""Generates the shipped in-context-learning task files, tasks/<name>.jsonl, and the task
table in tasks/README.md, from offline sources only:

  WordNet 3.0           Debian package wordnet-base (/usr/share/wordnet), WordNet 3.0 license
  SemCor sense counts   cntlist.rev in the same package: how often each sense is tagged in the
                        SemCor corpus, used to keep familiar words and rank them
  vaderSentiment 3.3.2  PyPI, MIT: the VADER sentiment lexicon
  countryinfo 1.0.1     PyPI, MIT: per-country JSON (region, capital, currencies, latlng, demonym)
  lemminflect 0.2.3     PyPI, MIT: dictionary inflections (from the SPECIALIST lexicon)
  inflect 7.6.0         PyPI, MIT: rule-based English plurals, a cross-check for lemminflect

Every choice is deterministic (sorted inputs, no randomness), so a rerun with the same
package versions rewrites byte-identical files; the script refuses other versions unless
--any-version is given. Classification labels are checked against SmolLM2's tokenizer
(transformers, loaded from the project's GGUF model): each label with its leading space must
be one token, and no two labels may share it. The script fails otherwise.

Usage (from the repository root, with the packages above installed):
  python reference/make_tasks.py [--model models/SmolLM2-135M-Instruct.Q4_1.gguf] [--any-version]
"""

import argparse
import glob
import importlib.metadata
import json
import os
import re
import subprocess
import sys
from collections import defaultdict

WORDNET_DIR = "/usr/share/wordnet"
PINNED_VERSIONS = {
    "vaderSentiment": "3.3.2",
    "countryinfo": "1.0.1",
    "lemminflect": "0.2.3",
    "inflect": "7.6.0",
}
PINNED_WORDNET_DEB = "1:3.0-37"
MAX_PAIRS = 500          # per task, most familiar first
MIN_PAIRS = 40           # a task smaller than this is a bug in its selection
ORDINARY_WORD = re.compile(r"[a-z]{3,14}")
ORDINARY_NAME = re.compile(r"[A-Z][A-Za-z]*(?:[ -][A-Z][A-Za-z]*)*")
ABSTRACT_LETTERS = [chr(c) for c in range(ord("A"), ord("Z") + 1)]

WORDNET_SOURCE = f"WordNet 3.0 (Debian wordnet-base {PINNED_WORDNET_DEB}, WordNet 3.0 license)"
SEMCOR_NOTE = "words ranked by SemCor tag counts"


def fail(message):
    sys.exit(f"make_tasks.py: {message}")


# ---------------------------------------------------------------------------------------------
# Sources


def check_versions(allow_other):
    found = {name: importlib.metadata.version(name) for name in PINNED_VERSIONS}
    deb = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "wordnet-base"],
                         capture_output=True, text=True).stdout.strip()
    found["wordnet-base"] = deb
    pinned = dict(PINNED_VERSIONS, **{"wordnet-base": PINNED_WORDNET_DEB})
    wrong = {k: v for k, v in found.items() if v != pinned[k]}
    if wrong and not allow_other:
        fail(f"versions differ from the pinned ones {pinned}: {wrong} (pass --any-version to go on)")


class WordNet:
    """The parts of the WordNet database files the tasks need."""

    POS_FILES = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}
    # cntlist.rev sense keys number the synset types: 1 noun, 2 verb, 3 adj, 4 adv, 5 satellite
    SENSE_KEY_POS = {"1": "n", "2": "v", "3": "a", "4": "r", "5": "a"}
    # Usage domains WordNet marks words with: obscenity, ethnic slur, disparagement. Words
    # with any sense so marked are left out of every task.
    OFFENSIVE_USAGE = {"07124340", "06718862", "06717170"}

    def __init__(self, root):
        self.senses = {}      # (lemma, pos) -> synset offsets, most frequent sense first
        self.synsets = {}     # (pos, offset) -> dict(lexfile, words, pointers)
        for pos, stem in self.POS_FILES.items():
            for line in open(os.path.join(root, f"index.{stem}"), encoding="utf-8"):
                if line.startswith("  "):
                    continue
                fields = line.split()
                lemma, synset_count = fields[0], int(fields[2])
                self.senses[(lemma, pos)] = fields[-synset_count:]
            for line in open(os.path.join(root, f"data.{stem}"), encoding="utf-8"):
                if line.startswith("  "):
                    continue
                self.synsets[(pos, line[:8])] = self._parse_synset(line)
        self.counts = defaultdict(int)
        for line in open(os.path.join(root, "cntlist.rev"), encoding="utf-8"):
            key, _, count = line.split()
            lemma, rest = key.split("%")
            self.counts[(lemma, self.SENSE_KEY_POS[rest[0]])] += int(count)
        self.exceptions = {}
        for pos, stem in self.POS_FILES.items():
            path = os.path.join(root, f"{stem}.exc")
            self.exceptions[pos] = [line.split() for line in open(path, encoding="utf-8")]
        self.irregular_plurals = {plural for plural, *_ in self.exceptions["n"]}
        self.offensive = {word.lower() for synset in self.synsets.values()
                          if any(symbol == ";u" and target in self.OFFENSIVE_USAGE
                                 for symbol, target, _, _ in synset["pointers"])
                          for word in synset["words"]}

    @staticmethod
    def _parse_synset(line):
        fields = line.split(" | ")[0].split()
        lexfile, word_count = int(fields[1]), int(fields[3], 16)
        words = [re.sub(r"\(.*\)$", "", fields[4 + 2 * i]) for i in range(word_count)]
        at = 4 + 2 * word_count
        pointer_count = int(fields[at])
        pointers = []
        for i in range(pointer_count):
            symbol, offset, pos, source_target = fields[at + 1 + 4 * i: at + 5 + 4 * i]
            pointers.append((symbol, offset, "a" if pos == "s" else pos, source_target))
        return {"lexfile": lexfile, "words": words, "pointers": pointers}

    def synsets_of(self, lemma, pos):
        return [self.synsets[(pos, offset)] for offset in self.senses.get((lemma, pos), [])]

    def ancestor_categories(self, offset, roots):
        """The categories of `roots` (noun synset offset -> category) that a noun synset is
        or descends from, following hypernym and instance-hypernym links."""
        found, stack, seen = set(), [offset], set()
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            if current in roots:
                found.add(roots[current])
            stack += [target for symbol, target, pos, _ in self.synsets[("n", current)]["pointers"]
                      if symbol in ("@", "@i") and pos == "n"]
        return found

    def total_count(self, lemma):
        return sum(self.counts[(lemma, pos)] for pos in self.POS_FILES)

    def lowercase(self, lemma, pos):
        """Whether the lemma's most frequent sense spells it in lower case: the index files
        lower-case every lemma, so "april" there is "April" in the synset."""
        senses = self.synsets_of(lemma, pos)
        return bool(senses) and lemma in senses[0]["words"]

    def plural_form(self, lemma):
        """Whether a noun lemma is the plural of another ("oxen", "cows"): WordNet lists a few
        plurals as lemmas of their own."""
        return lemma in self.irregular_plurals or lemma.endswith("s") and (lemma[:-1], "n") in self.senses

    def familiar(self, pos, minimum):
        """Ordinary lowercase lemmas of one part of speech tagged at least `minimum` times
        (nouns: not plurals of other nouns), none marked offensive."""
        return {lemma for (lemma, p), count in self.counts.items()
                if p == pos and count >= minimum and ORDINARY_WORD.fullmatch(lemma)
                and lemma not in self.offensive
                and self.lowercase(lemma, p) and not (p == "n" and self.plural_form(lemma))}


def load_countries():
    """countryinfo's per-country records that have a region and an ordinary English name."""
    import countryinfo
    data_dir = os.path.join(os.path.dirname(countryinfo.__file__), "data")
    countries = []
    for path in sorted(glob.glob(os.path.join(data_dir, "*.json"))):
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
        if record.get("region") and ORDINARY_NAME.fullmatch(record.get("name", "")):
            countries.append(record)
    return sorted(countries, key=lambda r: r["name"])


def load_vader():
    import vaderSentiment
    path = os.path.join(os.path.dirname(vaderSentiment.__file__), "vader_lexicon.txt")
    lexicon = {}
    for line in open(path, encoding="utf-8"):
        token, mean, std, _ = line.rstrip("\n").split("\t")
        lexicon[token] = (float(mean), float(std))
    return lexicon


# ---------------------------------------------------------------------------------------------
# Helpers


def most_familiar(pairs, rank, limit=MAX_PAIRS):
    """Dedupes by input (first pair wins), keeps the `limit` best by rank, sorts by input."""
    seen, unique = set(), []
    for pair in pairs:
        if pair[0] not in seen:
            seen.add(pair[0])
            unique.append(pair)
    unique.sort(key=lambda p: (rank(p), p[0]))
    return sorted(unique[:limit], key=lambda p: (p[0].lower(), p[0]))


def balanced(pairs, labels, rank, limit=MAX_PAIRS):
    """The same number of pairs for every label: the most familiar of each."""
    by_label = defaultdict(list)
    for pair in pairs:
        by_label[pair[1]].append(pair)
    per_label = min(limit // len(labels), *(len(by_label[label]) for label in labels))
    chosen = []
    for label in labels:
        chosen += most_familiar(by_label[label], rank, per_label)
    return sorted(chosen, key=lambda p: (p[0].lower(), p[0]))


def task(name, kind, description, source, template, pairs, labels=None):
    header = {"name": name, "kind": kind, "description": description, "source": source,
              "template": template}
    if labels is not None:
        header["labels"] = labels
    return header, pairs


# ---------------------------------------------------------------------------------------------
# Classification tasks


def sentiment(vader, wn):
    """Strongly rated VADER entries that are familiar WordNet words: mean rating at least 2
    away from neutral on the -4..4 scale, raters agreeing within a standard deviation of 1."""
    familiar = set().union(*(wn.familiar(pos, 1) for pos in "nvar"))
    pairs = [(token, "positive" if mean > 0 else "negative")
             for token, (mean, std) in vader.items()
             if token in familiar and abs(mean) >= 2.0 and std <= 1.0]
    labels = ["positive", "negative"]
    return task("sentiment", "classification",
                "Sentiment of a strongly rated word: positive or negative.",
                "vaderSentiment 3.3.2 lexicon (MIT License), entries with absolute mean >= 2 and std <= 1 "
                f"that are words of {WORDNET_SOURCE}; {SEMCOR_NOTE}",
                "sentiment", balanced(pairs, labels, lambda p: -wn.total_count(p[0])), labels)


def country_continent(countries):
    # countryinfo's regions; Oceania is left out: " Oceania" is two SmolLM2 tokens.
    labels = ["Africa", "Americas", "Asia", "Europe"]
    pairs = [(c["name"], c["region"]) for c in countries if c["region"] in labels]
    return task("country_continent", "classification",
                "The continent (countryinfo region) a country or territory is in; Oceania is "
                "left out because ' Oceania' is not one SmolLM2 token.",
                "countryinfo 1.0.1 (MIT License), field region",
                "continent", most_familiar(pairs, lambda p: 0), labels)


def country_hemisphere(countries):
    pairs = [(c["name"], "northern" if c["latlng"][0] > 0 else "southern")
             for c in countries if len(c.get("latlng", [])) == 2 and c["latlng"][0] != 0]
    return task("country_hemisphere", "classification",
                "The hemisphere (north or south of the equator) of a country's central latitude.",
                "countryinfo 1.0.1 (MIT License), field latlng",
                "hemisphere", most_familiar(pairs, lambda p: 0), ["northern", "southern"])


def part_of_speech(wn):
    """Familiar words that WordNet lists under exactly one part of speech."""
    names = {"n": "noun", "v": "verb", "a": "adjective", "r": "adverb"}
    pos_of = defaultdict(set)
    for (lemma, pos) in wn.senses:
        pos_of[lemma].add(pos)
    pairs = [(lemma, names[pos]) for pos in names for lemma in wn.familiar(pos, 3)
             if pos_of[lemma] == {pos}]
    labels = list(names.values())
    return task("part_of_speech", "classification",
                "The part of speech of a word that WordNet lists under one part of speech only.",
                f"{WORDNET_SOURCE}; {SEMCOR_NOTE}",
                "pos", balanced(pairs, labels, lambda p: -wn.total_count(p[0])), labels)


def noun_category(wn):
    """Nouns whose most frequent sense descends (through hypernym links) from WordNet's
    animal, plant, food or person synset, and none of whose senses descends from another of
    those four."""
    roots = {"00015388": "animal", "00017222": "plant", "00021265": "food", "07555863": "food",
             "00007846": "person"}
    pairs = []
    for lemma in wn.familiar("n", 1):
        categories = [wn.ancestor_categories(offset, roots) for offset in wn.senses[(lemma, "n")]]
        found = set().union(*categories)
        if len(categories[0]) == 1 and found == categories[0] and lemma not in roots.values():
            pairs.append((lemma, next(iter(found))))
    labels = ["animal", "plant", "food", "person"]
    return task("noun_category", "classification",
                "Whether a noun names an animal, a plant, a food or a person (a WordNet hypernym of "
                "its most frequent sense).",
                f"{WORDNET_SOURCE}, hypernym closure; {SEMCOR_NOTE}",
                "type", balanced(pairs, labels, lambda p: -wn.counts[(p[0], "n")]), labels)


def first_letter_vowel(wn):
    pairs = [(lemma, "vowel" if lemma[0] in "aeiou" else "consonant")
             for lemma in wn.familiar("n", 5)]
    return task("first_letter_vowel", "classification",
                "Whether a word's first letter is a vowel (a, e, i, o, u) or a consonant.",
                f"rule on nouns of {WORDNET_SOURCE}; {SEMCOR_NOTE}",
                "letter", balanced(pairs, ["vowel", "consonant"], lambda p: -wn.counts[(p[0], "n")]),
                ["vowel", "consonant"])


def number_parity():
    pairs = [(str(n), "even" if n % 2 == 0 else "odd") for n in range(1000)]
    return task("number_parity", "classification", "Whether a number from 0 to 999 is even or odd.",
                "rule", "parity", pairs, ["even", "odd"])


def number_comparison():
    pairs = [(str(n), "above" if n > 50 else "below") for n in range(101) if n != 50]
    return task("number_comparison", "classification",
                "Whether a number from 0 to 100 (50 excluded) is above or below 50.",
                "rule", "comparison", pairs, ["above", "below"])


# ---------------------------------------------------------------------------------------------
# Open-answer tasks


def antonym(wn):
    """Direct antonyms: lexical '!' pointers between head adjectives, both words familiar."""
    familiar = wn.familiar("a", 2)
    pairs = []
    for lemma in familiar:
        for synset in wn.synsets_of(lemma, "a"):
            source = synset["words"].index(lemma) + 1 if lemma in synset["words"] else 0
            for symbol, offset, pos, st in synset["pointers"]:
                if symbol != "!" or int(st[:2], 16) != source:
                    continue
                target = wn.synsets[(pos, offset)]["words"][int(st[2:], 16) - 1]
                if target in familiar:
                    pairs.append((lemma, target))
    return task("antonym", "open", "The antonym of an adjective.",
                f"{WORDNET_SOURCE}, direct adjective antonyms; {SEMCOR_NOTE}",
                "qa", most_familiar(pairs, lambda p: -wn.counts[(p[0], "a")]))


def synonym(wn):
    """Pairs of familiar adjectives or verbs that share their most frequent sense (each is in
    the other's first synset) and are not spelling variants (no shared first four letters)."""
    pairs, rank = [], {}
    for pos in ["a", "v"]:
        familiar = wn.familiar(pos, 5)
        first_synset = {lemma: wn.synsets_of(lemma, pos)[0]["words"] for lemma in familiar}
        for lemma in sorted(familiar):
            others = [w for w in first_synset[lemma] if w != lemma and w in familiar
                      and w[:4] != lemma[:4] and lemma in first_synset[w]]
            if others:
                pairs.append((lemma, others[0]))
                rank[lemma] = -wn.counts[(lemma, pos)]
    return task("synonym", "open", "A synonym of an adjective or verb (same WordNet synset).",
                f"{WORDNET_SOURCE}, words sharing their most frequent synset; {SEMCOR_NOTE}",
                "qa", most_familiar(pairs, lambda p: rank[p[0]]))


def familiar_nouns(wn, limit):
    nouns = wn.familiar("n", 5)
    return sorted(nouns, key=lambda w: (-wn.counts[(w, "n")], w))[:limit]


def capitalize(wn):
    pairs = [(w, w.capitalize()) for w in familiar_nouns(wn, MAX_PAIRS)]
    return task("capitalize", "open", "The word with its first letter upper-cased.",
                f"rule on nouns of {WORDNET_SOURCE}; {SEMCOR_NOTE}", "qa",
                most_familiar(pairs, lambda p: 0))


def lowercase_first_letter(wn):
    pairs = [(w.capitalize(), w) for w in familiar_nouns(wn, 2 * MAX_PAIRS)[MAX_PAIRS:]]
    return task("lowercase_first_letter", "open", "The word with its first letter lower-cased.",
                f"rule on nouns of {WORDNET_SOURCE} (the next {MAX_PAIRS} most familiar after "
                f"those of capitalize); {SEMCOR_NOTE}", "qa", most_familiar(pairs, lambda p: 0))


def uppercase(wn):
    pairs = [(w, w.upper()) for w in familiar_nouns(wn, MAX_PAIRS)]
    return task("uppercase", "open", "The word in capital letters.",
                f"rule on nouns of {WORDNET_SOURCE}; {SEMCOR_NOTE}", "qa",
                most_familiar(pairs, lambda p: 0))


def next_letter():
    pairs = [(chr(c), chr(c + 1)) for start in "aA" for c in range(ord(start), ord(start) + 25)]
    return task("next_letter", "open", "The next letter of the alphabet (a to y, A to Y).",
                "rule", "qa", pairs)


def dictionary_form(word, upos, tag):
    """lemminflect's dictionary form (no rules for unknown words), or None."""
    import lemminflect
    forms = lemminflect.getAllInflections(word, upos=upos).get(tag)
    return forms[0] if forms else None


def singular_plural(wn):
    """Plurals that lemminflect's dictionary and inflect agree on, or that WordNet's own
    exception list (noun.exc) gives for an irregular noun."""
    import inflect
    engine = inflect.engine()
    irregular = defaultdict(set)
    for plural, *bases in wn.exceptions["n"]:
        for base in bases:
            irregular[base].add(plural)
    pairs = []
    for noun in wn.familiar("n", 3):
        plural = dictionary_form(noun, "NOUN", "NNS")
        if plural and plural != noun and ORDINARY_WORD.fullmatch(plural) and (
                plural == engine.plural_noun(noun) or plural in irregular[noun]):
            pairs.append((noun, plural))
    rank = lambda p: (0 if p[1] in irregular[p[0]] else 1, -wn.counts[(p[0], "n")])
    return task("singular_plural", "open", "The plural of a noun.",
                f"lemminflect 0.2.3 (MIT License) plurals confirmed by inflect 7.6.0 (MIT License) or by "
                f"WordNet's noun.exc, for nouns of {WORDNET_SOURCE}; irregular plurals first, then {SEMCOR_NOTE}",
                "qa", most_familiar(pairs, rank))


def verb_form(wn, tag, name, description, exception_check):
    """A lemminflect dictionary form of familiar verbs; irregular forms must agree with
    WordNet's verb.exc (which maps inflected forms back to base forms)."""
    bases_of = defaultdict(set)
    for form, *bases in wn.exceptions["v"]:
        for base in bases:
            bases_of[form].add(base)
    pairs = []
    for verb in wn.familiar("v", 3):
        form = dictionary_form(verb, "VERB", tag)
        if not form or form == verb or not ORDINARY_WORD.fullmatch(form):
            continue
        if exception_check and form in bases_of and verb not in bases_of[form]:
            continue
        pairs.append((verb, form))
    return task(name, "open", description,
                f"lemminflect 0.2.3 (MIT License) dictionary forms of verbs of {WORDNET_SOURCE}, "
                f"irregular forms checked against WordNet's verb.exc; {SEMCOR_NOTE}",
                "qa", most_familiar(pairs, lambda p: -wn.counts[(p[0], "v")]))


def present_past(wn):
    return verb_form(wn, "VBD", "present_past", "The past tense of a verb given in its present (base) form.", True)


def verb_gerund(wn):
    return verb_form(wn, "VBG", "verb_gerund", "The -ing form of a verb.", True)


def adjective_comparative(wn):
    pairs = []
    for adjective in wn.familiar("a", 2):
        form = dictionary_form(adjective, "ADJ", "JJR")
        if form and ORDINARY_WORD.fullmatch(form) and form != adjective:
            pairs.append((adjective, form))
    return task("adjective_comparative", "open", "The one-word comparative of an adjective.",
                f"lemminflect 0.2.3 (MIT License) dictionary comparatives of adjectives of {WORDNET_SOURCE}; "
                f"{SEMCOR_NOTE}", "qa", most_familiar(pairs, lambda p: -wn.counts[(p[0], "a")]))


def country_capital(countries):
    pairs = [(c["name"], c["capital"]) for c in countries if isinstance(c.get("capital"), str)
             and ORDINARY_NAME.fullmatch(c["capital"])]
    return task("country_capital", "open", "The capital city of a country or territory.",
                "countryinfo 1.0.1 (MIT License), field capital", "qa", most_familiar(pairs, lambda p: 0))


def country_currency(countries):
    pairs = [(c["name"], c["currencies"][0]) for c in countries
             if len(c.get("currencies", [])) == 1 and re.fullmatch(r"[A-Z]{3}", c["currencies"][0])]
    return task("country_currency", "open",
                "The ISO 4217 code of the currency of a country or territory (those with one currency).",
                "countryinfo 1.0.1 (MIT License), field currencies", "qa", most_familiar(pairs, lambda p: 0))


def country_demonym(countries):
    pairs = [(c["name"], c["demonym"]) for c in countries if isinstance(c.get("demonym"), str)
             and ORDINARY_NAME.fullmatch(c["demonym"]) and c["demonym"] != c["name"]]
    return task("country_demonym", "open", "What the people of a country or territory are called.",
                "countryinfo 1.0.1 (MIT License), field demonym", "qa", most_familiar(pairs, lambda p: 0))


# ---------------------------------------------------------------------------------------------
# Checks and output


def check_labels(tasks, model_path):
    """Each classification label, with its leading space, must be one SmolLM2 token, and the
    labels of a task must be different tokens. Also reports the abstract-label alphabets."""
    from transformers import AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(os.path.dirname(os.path.abspath(model_path)),
                                              gguf_file=os.path.basename(model_path))
    encode = lambda text: tokenizer.encode(text, add_special_tokens=False)
    for header, _ in tasks:
        if header["kind"] != "classification":
            continue
        first_tokens = {}
        for label in header["labels"]:
            ids = encode(" " + label)
            if len(ids) != 1:
                fail(f"{header['name']}: label ' {label}' is {len(ids)} SmolLM2 tokens {ids}")
            if ids[0] in first_tokens:
                fail(f"{header['name']}: labels '{first_tokens[ids[0]]}' and '{label}' share token {ids[0]}")
            first_tokens[ids[0]] = label
        print(f"  {header['name']}: labels single-token " +
              ", ".join(f"' {label}'={token}" for token, label in first_tokens.items()), file=sys.stderr)
    letter_ids = [encode(" " + letter) for letter in ABSTRACT_LETTERS]
    if any(len(ids) != 1 for ids in letter_ids) or len({ids[0] for ids in letter_ids}) != 26:
        fail("abstract letter labels ' A'..' Z' are not 26 distinct single tokens")
    digit_ids = [encode(f" {d}") for d in range(10)]
    print(f"  abstract labels: ' A'..' Z' are single tokens; ' 0' is {digit_ids[0]} "
          f"({'one token' if len(digit_ids[0]) == 1 else 'a bare space then the digit'})", file=sys.stderr)


def check_pairs(header, pairs):
    name = header["name"]
    if len(pairs) < MIN_PAIRS:
        fail(f"{name}: only {len(pairs)} pairs")
    if len({p[0] for p in pairs}) != len(pairs):
        fail(f"{name}: duplicate inputs")
    for x, y in pairs:
        if not x or not y or x != x.strip() or y != y.strip() or "\n" in x + y:
            fail(f"{name}: odd pair {x!r} -> {y!r}")
        if header["kind"] == "classification" and y not in header["labels"]:
            fail(f"{name}: output {y!r} is not a label")


def write_task(directory, header, pairs):
    path = os.path.join(directory, f"{header['name']}.jsonl")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(header, ensure_ascii=False) + "\n")
        for x, y in pairs:
            f.write(json.dumps({"input": x, "output": y}, ensure_ascii=False) + "\n")


def task_table(tasks):
    rows = ["| task | kind | pairs | labels | template | source |",
            "| --- | --- | ---: | --- | --- | --- |"]
    for header, pairs in tasks:
        labels = ", ".join(header.get("labels", [])) or "—"
        rows.append(f"| {header['name']} | {header['kind']} | {len(pairs)} | {labels} | "
                    f"{header['template']} | {header['source']} |")
    return "\n".join(rows)


def update_readme(path, table):
    start, end = "<!-- task-table:start -->", "<!-- task-table:end -->"
    text = open(path, encoding="utf-8").read()
    if start not in text or end not in text:
        fail(f"{path} lacks the {start} ... {end} markers")
    before, rest = text.split(start, 1)
    after = rest.split(end, 1)[1]
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(f"{before}{start}\n{table}\n{end}{after}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="models/SmolLM2-135M-Instruct.Q4_1.gguf")
    parser.add_argument("--out", default="tasks")
    parser.add_argument("--any-version", action="store_true")
    args = parser.parse_args()

    check_versions(args.any_version)
    wn = WordNet(WORDNET_DIR)
    countries = load_countries()
    vader = load_vader()
    tasks = [
        sentiment(vader, wn), country_continent(countries), country_hemisphere(countries),
        part_of_speech(wn), noun_category(wn), first_letter_vowel(wn), number_parity(),
        number_comparison(),
        antonym(wn), synonym(wn), country_capital(countries), country_currency(countries),
        country_demonym(countries), capitalize(wn), lowercase_first_letter(wn), uppercase(wn),
        singular_plural(wn), present_past(wn), verb_gerund(wn), adjective_comparative(wn),
        next_letter(),
    ]
    for header, pairs in tasks:
        check_pairs(header, pairs)
    check_labels(tasks, args.model)

    os.makedirs(args.out, exist_ok=True)
    stale = {os.path.basename(p) for p in glob.glob(os.path.join(args.out, "*.jsonl"))}
    for header, pairs in tasks:
        write_task(args.out, header, pairs)
        stale.discard(f"{header['name']}.jsonl")
        counts = ""
        if header["kind"] == "classification":
            counts = " (" + ", ".join(f"{l} {sum(p[1] == l for p in pairs)}" for l in header["labels"]) + ")"
        print(f"{header['name']}: {len(pairs)} pairs{counts}", file=sys.stderr)
    if stale:
        print(f"note: {args.out} also holds {sorted(stale)}, not written by this script", file=sys.stderr)
    update_readme(os.path.join(args.out, "README.md"), task_table(tasks))


if __name__ == "__main__":
    main()
