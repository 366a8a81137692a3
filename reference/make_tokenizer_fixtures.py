"""Writes the tokenizer fixtures under Tests/Fixtures/tokenizers/ (run from the repository root).

    .venv-reference/bin/python reference/make_tokenizer_fixtures.py

Made with Python 3, transformers 5.23.0, tokenizers 0.23.3, gguf 0.19.0 (and torch 2.15, which
transformers loads). Deterministic: the training text and the corpus are committed, the BPE
trainer is deterministic, and every JSON file is written with sorted keys.

What it writes:
- corpus.json: the hard strings every flavour is checked on.
- <flavour>/tokenizer.json + tokenizer_config.json + expected.json for small tokenizers trained on
  training_text.txt: gpt2, llama3, qwen2, neox and smollm (byte-level BPE with each pre-tokenizer), and
  spm-prepend, spm-metaspace, spm-metaspace-split (Llama-2-style BPE with byte fallback).
  expected.json holds transformers' ids without and with special tokens, and its decode.
- offsets_corpus.json: the corpus and a few more strings (ICL prompts, text NFC changes), and in
  each flavour folder offsets.json: transformers' ids with the model's own special tokens and
  their offset_mapping, turned from character offsets into UTF-8 byte offsets.
- gguf-llama/: a tokenizer-only GGUF (model "llama", scores) made from the spm vocabulary, its
  metadata as JSON (the Swift tests do not parse GGUF), and transformers' ids for that GGUF.
- gguf-llama-bpe/: a GGUF (model "gpt2", pre "llama-bpe") made from the llama3 flavour, with its
  metadata as JSON; the expected ids are the llama3 flavour's tokenizer.json (see below).
- smollm2/: SmolLM2-135M-Instruct's tokenizer.ggml.* metadata as JSON and its expected ids.

SmolLM2: transformers builds a GGUF "gpt2" tokenizer with GPT2Tokenizer's plain ByteLevel
pre-tokenizer and has no entry for tokenizer.ggml.pre == "smollm", so it does NOT split digits one
by one. The real HuggingFaceTB/SmolLM2-135M-Instruct tokenizer.json has
    pre_tokenizer = Sequence[Digits(individual_digits=true),
                             ByteLevel(add_prefix_space=false, trim_offsets=true, use_regex=true)]
with no normalizer, so the reference here is that faithful tokenizer, built with the tokenizers
library from the GGUF vocabulary and merges. The script prints on which corpus strings the two
differ.

Llama-3-style GGUF ("llama-bpe"): transformers' GGUF conversion does not set ignore_merges, which
Llama 3's own tokenizer.json (and llama.cpp) do; the reference is the tokenizer.json behaviour.
"""

import json
import os
from collections import Counter
import sys
from pathlib import Path

import numpy as np
import tokenizers
import transformers
from gguf import GGUFReader, GGUFWriter
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerFast

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "Fixtures" / "tokenizers"
MODEL = ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"

GPT2_SPLIT = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
                r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
               r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

CORPUS = [
    "",
    "Hello world",
    "Hello, world!",
    "The capital of France is Paris.",
    " leading space",
    "trailing space ",
    "   three leading spaces",
    "trailing spaces   ",
    "runs  of   spaces    between     words",
    " ",
    "     ",
    "\t",
    "tabs\tbetween\t\twords",
    "\tindented with a tab",
    "line one\nline two",
    "windows\r\nline\r\nendings\r\n",
    "\n\n\n",
    "paragraph one\n\n\nparagraph two",
    "  \n  mixed \t \r\n whitespace \n",
    "Q: hot\nA: cold\n\nQ: big\nA: small\n\nQ: fast\nA:",
    "Q: hot\nA: cold\n\n",
    "sea otter => loutre de mer\ncheese =>",
    "don't can't won't shouldn't",
    "I'M HERE, YOU'RE THERE, WE'VE GONE, HE'LL GO, SHE'D KNOW, IT'S, DON'T",
    "they'll we're you've I'd it's",
    "'s 't 're 've 'm 'll 'd",
    "''quoted'' and 'single' and \"double\"",
    "rock'n'roll o'clock",
    "x'ſt long s folds to s",
    "0",
    "7 8 9",
    "12345678901234567890",
    "3.14159 2.71828 1,000,000 -42 +7 1e-5",
    "In 2024, 17 of 20 (85%) passed; costs $19.99.",
    "phone 555-0123, date 2023-03-07, time 12:30:45",
    "x1y22z333w4444",
    "Café déjà vu, naïve résumé, façade, Ångström, crème brûlée",
    "e\u0301 combining acute (decomposed)",
    "Straße Grüße Öl Übung",
    "Ελληνικά: Καλημέρα κόσμε",
    "Русский: Привет, мир! Как дела?",
    "العربية: مرحبا بالعالم",
    "हिन्दी: नमस्ते दुनिया",
    "中文：你好，世界！",
    "日本語：こんにちは世界。カタカナ",
    "한국어: 안녕하세요 세계",
    "ไทย: สวัสดีชาวโลก",
    "emoji 😀😃😄 and 🎉🚀",
    "👍🏽 👋🏿 skin tones",
    "👨‍👩‍👧‍👦 family, 🏳️‍🌈 flag, 👩🏽‍💻 coder",
    "flags 🇫🇷🇩🇪🇯🇵",
    "❤️ ☕ ✓ ★ ∑ ∞ ≠ ≤ → ←",
    "digits in other scripts: ٣٤٥ १२३ １２３ ² ½ Ⅻ",
    "nbsp\u00a0here, x \u00a0y, zero\u200bwidth, bom\ufeff, nel\u0085, ideographic\u3000space",
    "control \u001c chars \u0001 and nul \u0000 end",
    "def f(x):\n    return x ** 2  # square\n",
    "for i in range(10):\n\tprint(f\"{i}: {i*i}\")\n",
    "int main(void) {\n    printf(\"%d\\n\", 42);\n    return 0;\n}\n",
    "{\"name\": \"example\", \"values\": [1, 2, 3], \"ok\": true, \"nested\": {\"a\": null}}",
    "if (a && b || !c) { x += 1; } else { y -= 2; }",
    "https://example.com/path/to/page?query=value&lang=en#section",
    "mail me at someone@example.org or see www.example.net/index.html",
    "<html><body><p class=\"x\">Hi</p></body></html>",
    "!!! ??? ... --- *** ### @@@ $$$ %%% ^^^ &&& ((( ))) ___",
    "...leading punctuation and trailing...",
    "(parenthesised) [bracketed] {braced} <angled>",
    "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|>",
    "text<|im_end|>more text",
    " <|im_start|> spaced special ",
    "<|endoftext|>",
    "<s>",
    "<s> hello </s>",
    "a<s>b</s>c",
    "<|begin_of_text|>Hello",
    "<|im_start|<|im_end|>",
    "<unk> and <pad> as text",
    "<0x41> looks like a byte token",
    "▁ already has a metaspace ▁▁ twice",
    "HelloWorld camelCase snake_case kebab-case SCREAMING_CASE",
    "The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the lazy dog.",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "abababababababababababababababababababab",
    "Translate English to French: sea otter => loutre de mer, cheese =>",
    "Once upon a time, there was a little girl who lived in a village near the forest.",
    "mixed Ελλάδα and Россия and 中国 in one line",
]

# Offsets are checked on the corpus and on these: ICL prompts, and text that NFC changes (composed,
# decomposed, reordered and Hangul characters), where HF aligns through the normalization.
OFFSETS_EXTRA = [
    "Q: hot\nA: cold\n\nQ: big\nA:",
    "Q: hot\r\nA: cold\r\n\r\nQ: big\r\nA:",
    "<|im_start|>user\nQ: hot\nA: cold\n\nQ: big\nA:<|im_end|>\n<|im_start|>assistant\n",
    "<s>Q: 東京\nA: 日本\n\nQ: París\nA:",
    "Input: 😀 happy\nOutput: 😢 sad\n\nInput: 🎉 party\nOutput:",
    "word: été → summer; mot: café →",
    "Q: e\u0301te\u0301\nA: été\n\nQ: \u1100\u1161\u11a8\nA:",
    " \u0958 a\u0328\u0301 a\u0301\u0328 \u1100\u1161 \u1e0b\u0323 \u00c5\u0301 \u212b x\u0344 \u0f73 q\u0307\u0323 ",
    "x \u0f73\u0334 y \u0301 z\n\u0301",
    "tabs\tand\u00a0nbsp: x\t\u00a0y",
]
OFFSETS_CORPUS = CORPUS + OFFSETS_EXTRA

SPECIAL_BYTE_LEVEL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
SPECIAL_NEOX = ["<|endoftext|>", "<|padding|>", "<|im_start|>", "<|im_end|>"]
SPECIAL_LLAMA3 = ["<|begin_of_text|>", "<|end_of_text|>", "<|im_start|>", "<|im_end|>"]
SPECIAL_SPM = ["<unk>", "<s>", "</s>"]
SPM_ADDED = ["<|im_start|>", "<|im_end|>"]


def write_json(path: Path, value, compact_lists=False):
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(value, ensure_ascii=False, indent=None if compact_lists else 2, sort_keys=True)
    path.write_text(text + "\n", encoding="utf-8")


def training_lines():
    return (OUT / "training_text.txt").read_text(encoding="utf-8").splitlines(keepends=True)


def train_byte_level(pre_tokenizer, specials, vocab_size=900, normalizer=None):
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(training_lines(), trainer=trainer)
    return tok


def save_hf_folder(folder: Path, tok: Tokenizer, config: dict, tokenizer_json_edit=None):
    folder.mkdir(parents=True, exist_ok=True)
    data = json.loads(tok.to_str())
    if tokenizer_json_edit:
        tokenizer_json_edit(data)
    write_json(folder / "tokenizer.json", data)
    write_json(folder / "tokenizer_config.json", config)


def expected_for(tokenizer, bos_id, eos_id, add_bos):
    cases = []
    for text in CORPUS:
        plain = tokenizer(text, add_special_tokens=False)["input_ids"]
        special = tokenizer(text, add_special_tokens=True)["input_ids"]
        cases.append({"ids": plain, "ids_with_special": special,
                      "decoded": tokenizer.decode(plain, skip_special_tokens=False)})
    return {"bos_id": bos_id, "eos_id": eos_id, "add_bos": add_bos, "cases": cases}


def write_offsets(folder: Path, tokenizer):
    """transformers' ids and offset_mapping for OFFSETS_CORPUS, one case per line, in UTF-8 bytes."""
    lines = []
    for text in OFFSETS_CORPUS:
        encoding = tokenizer(text, add_special_tokens=True, return_offsets_mapping=True)
        byte_at = [0]
        for char in text:
            byte_at.append(byte_at[-1] + len(char.encode("utf-8")))
        offsets = [[byte_at[start], byte_at[end]] for start, end in encoding["offset_mapping"]]
        lines.append(json.dumps({"ids": encoding["input_ids"], "offsets": offsets}, sort_keys=True))
    (folder / "offsets.json").write_text('{"cases": [\n' + ",\n".join(lines) + "\n]}\n", encoding="utf-8")


def adds_bos(tokenizer, bos_id):
    """Whether transformers puts BOS in front when asked for special tokens."""
    ids = tokenizer("x", add_special_tokens=True)["input_ids"]
    return bos_id is not None and len(ids) > 1 and ids[0] == bos_id


def write_expected(folder: Path, tokenizer, bos_id, eos_id, add_bos):
    value = expected_for(tokenizer, bos_id, eos_id, add_bos)
    for case in value["cases"]:
        expected_with = ([bos_id] if add_bos else []) + case["ids"]
        assert case["ids_with_special"] == expected_with, (folder.name, case)
    write_json(folder / "expected.json", value)
    return value


def byte_level_flavours():
    split = lambda pattern: pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(pattern), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    flavours = {
        # GPT-2: the regex lives inside ByteLevel; no BOS.
        "gpt2": dict(pre=pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
                     specials=SPECIAL_BYTE_LEVEL, bos="<|endoftext|>", eos="<|endoftext|>",
                     config_add_bos=None, template=False),
        # Llama 3: Split + ByteLevel, ignore_merges, BOS from a TemplateProcessing post-processor.
        "llama3": dict(pre=split(LLAMA3_SPLIT), specials=SPECIAL_LLAMA3, bos="<|begin_of_text|>",
                       eos="<|end_of_text|>", config_add_bos=None, template=True, ignore_merges=True),
        # Qwen2: NFC normalizer, single digits, no BOS token at all.
        "qwen2": dict(pre=split(QWEN2_SPLIT), specials=SPECIAL_BYTE_LEVEL, bos=None, eos="<|im_end|>",
                      config_add_bos=False, template=False, normalizer=normalizers.NFC()),
        # GPT-NeoX / Pythia: GPT-2's ByteLevel regex after an NFC normalizer, <|endoftext|> and <|padding|>
        # first (ids 0 and 1), no BOS added.
        "neox": dict(pre=pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
                     specials=SPECIAL_NEOX, bos="<|endoftext|>", eos="<|endoftext|>",
                     config_add_bos=None, template=False, normalizer=normalizers.NFC()),
        # SmolLM2's pre-tokenizer. tokenizer_config says add_bos_token, but transformers 5 ignores
        # that key when a tokenizer.json is present: the post-processor (none here) decides.
        "smollm": dict(pre=pre_tokenizers.Sequence([
                           pre_tokenizers.Digits(individual_digits=True),
                           pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)]),
                       specials=SPECIAL_BYTE_LEVEL, bos="<|im_start|>", eos="<|im_end|>",
                       config_add_bos=True, template=False),
    }
    results = {}
    for name, spec in flavours.items():
        tok = train_byte_level(spec["pre"], spec["specials"], normalizer=spec.get("normalizer"))
        bos_id = tok.token_to_id(spec["bos"]) if spec["bos"] else None
        eos_id = tok.token_to_id(spec["eos"])
        if spec["template"]:
            tok.post_processor = processors.TemplateProcessing(
                single=f"{spec['bos']} $A", pair=f"{spec['bos']} $A {spec['bos']} $B",
                special_tokens=[(spec["bos"], bos_id)])
        config = {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": spec["bos"],
                  "eos_token": spec["eos"], "clean_up_tokenization_spaces": False,
                  "model_max_length": 8192}
        if spec["config_add_bos"] is not None:
            config["add_bos_token"] = spec["config_add_bos"]

        def edit(data, spec=spec):
            if spec.get("ignore_merges"):
                data["model"]["ignore_merges"] = True
        folder = OUT / name
        save_hf_folder(folder, tok, config, edit)
        hf = AutoTokenizer.from_pretrained(str(folder))
        write_expected(folder, hf, bos_id, eos_id, adds_bos(hf, bos_id))
        write_offsets(folder, hf)
        results[name] = (tok, folder)
        print(f"{name}: vocab {tok.get_vocab_size()}")
    return results


def train_spm():
    """A Llama-2-style vocabulary: <unk> <s> </s>, then <0x00>..<0xFF>, then BPE pieces over ▁-words."""
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="never", split=True)
    # Characters seen fewer than three times stay out of the vocabulary, so byte fallback gets
    # exercised. (The trainer's own limit_alphabet breaks ties between equally rare characters
    # in hash order, which would make the fixtures differ from run to run.)
    lines = training_lines()
    counts = Counter(ch for line in lines for ch in line)
    lines = ["".join(ch for ch in line if counts[ch] >= 3) for line in lines]
    trainer = trainers.BpeTrainer(vocab_size=700, special_tokens=SPECIAL_SPM, show_progress=False)
    tok.train_from_iterator(lines, trainer=trainer)
    data = json.loads(tok.to_str())
    trained = data["model"]["vocab"]
    vocab = {piece: index for index, piece in enumerate(SPECIAL_SPM)}
    for byte in range(256):
        vocab[f"<0x{byte:02X}>"] = len(vocab)
    for piece, _ in sorted(trained.items(), key=lambda item: item[1]):
        if piece not in vocab:
            vocab[piece] = len(vocab)
    for piece in SPM_ADDED:
        vocab[piece] = len(vocab)
    return vocab, data["model"]["merges"]


def spm_tokenizer(vocab, merges, form):
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[tuple(m) if isinstance(m, list) else tuple(m.split(" "))
                                                    for m in merges],
                               unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    if form == "prepend":
        tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
        tok.pre_tokenizer = None
    else:
        tok.normalizer = None
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first",
                                                     split=(form == "metaspace-split"))
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)])
    tok.add_special_tokens([tokenizers.AddedToken(t, normalized=False, special=True) for t in SPECIAL_SPM + SPM_ADDED])
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                       special_tokens=[("<s>", 1)])
    return tok


def spm_flavours():
    vocab, merges = train_spm()
    for form in ["prepend", "metaspace", "metaspace-split"]:
        tok = spm_tokenizer(vocab, merges, form)
        folder = OUT / f"spm-{form}"
        config = {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<s>", "eos_token": "</s>",
                  "unk_token": "<unk>", "add_bos_token": True, "add_eos_token": False,
                  "clean_up_tokenization_spaces": False, "model_max_length": 4096}
        save_hf_folder(folder, tok, config)
        hf = AutoTokenizer.from_pretrained(str(folder))
        write_expected(folder, hf, 1, 2, True)
        write_offsets(folder, hf)
        print(f"spm-{form}: vocab {tok.get_vocab_size()}")
    return vocab, merges


def gguf_metadata(path: Path):
    """tokenizer.ggml.* of a GGUF file as the JSON the Swift tests turn into GGUFTokenizerData."""
    reader = GGUFReader(str(path))
    names = {"model": "tokenizer.ggml.model", "pre": "tokenizer.ggml.pre", "tokens": "tokenizer.ggml.tokens",
             "tokenTypes": "tokenizer.ggml.token_type", "merges": "tokenizer.ggml.merges",
             "scores": "tokenizer.ggml.scores", "bosID": "tokenizer.ggml.bos_token_id",
             "eosID": "tokenizer.ggml.eos_token_id", "unknownID": "tokenizer.ggml.unknown_token_id",
             "paddingID": "tokenizer.ggml.padding_token_id", "addBOS": "tokenizer.ggml.add_bos_token",
             "addEOS": "tokenizer.ggml.add_eos_token", "addSpacePrefix": "tokenizer.ggml.add_space_prefix"}
    result = {}
    for name, key in names.items():
        field = reader.fields.get(key)
        if field is None:
            continue
        value = field.contents()
        if name == "scores":
            value = [float(np.float32(v)) for v in value]
        result[name] = value
    return result


def write_tiny_gguf(path: Path, fill_tokenizer):
    """A GGUF holding tokenizer metadata, the llama hyper-parameters transformers reads, and one tiny tensor."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = GGUFWriter(str(path), "llama")
    writer.add_context_length(64)
    writer.add_embedding_length(8)
    writer.add_block_count(1)
    writer.add_feed_forward_length(16)
    writer.add_head_count(2)
    writer.add_head_count_kv(2)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_dimension_count(4)
    fill_tokenizer(writer)
    writer.add_tensor("token_embd.weight", np.zeros((4, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def gguf_llama(vocab):
    tokens = [piece for piece, _ in sorted(vocab.items(), key=lambda item: item[1])]
    types = []
    for index, piece in enumerate(tokens):
        if piece == "<unk>":
            types.append(2)
        elif piece in ("<s>", "</s>", "<|im_start|>"):
            types.append(3)
        elif piece == "<|im_end|>":
            types.append(4)
        elif piece.startswith("<0x") and len(piece) == 6:
            types.append(6)
        else:
            types.append(1)
    # Pieces learned later score lower, as sentencepiece scores do: score-based merging then
    # follows the trained merge order.
    scores = [0.0 if types[i] != 1 else -float(i) for i in range(len(tokens))]

    def fill(writer):
        writer.add_tokenizer_model("llama")
        writer.add_token_list(tokens)
        writer.add_token_scores(scores)
        writer.add_token_types(types)
        writer.add_bos_token_id(1)
        writer.add_eos_token_id(2)
        writer.add_unk_token_id(0)
        writer.add_add_bos_token(True)
        writer.add_add_eos_token(False)
        writer.add_add_space_prefix(True)

    folder = OUT / "gguf-llama"
    path = folder / "tokenizer.gguf"
    write_tiny_gguf(path, fill)
    write_json(folder / "metadata.json", gguf_metadata(path), compact_lists=True)
    hf = AutoTokenizer.from_pretrained(str(folder), gguf_file="tokenizer.gguf")
    write_expected(folder, hf, 1, 2, True)
    write_offsets(folder, hf)
    print(f"gguf-llama: {type(hf).__name__}, pre_tokenizer {hf.backend_tokenizer.pre_tokenizer}")


def gguf_llama_bpe(llama3_tok: Tokenizer, llama3_folder: Path):
    data = json.loads(llama3_tok.to_str())
    vocab = data["model"]["vocab"]
    tokens = [piece for piece, _ in sorted(vocab.items(), key=lambda item: item[1])]
    merges = [" ".join(m) if isinstance(m, list) else m for m in data["model"]["merges"]]
    types = [3 if piece in SPECIAL_LLAMA3 else 1 for piece in tokens]

    def fill(writer):
        writer.add_tokenizer_model("gpt2")
        writer.add_tokenizer_pre("llama-bpe")
        writer.add_token_list(tokens)
        writer.add_token_types(types)
        writer.add_token_merges(merges)
        writer.add_bos_token_id(vocab["<|begin_of_text|>"])
        writer.add_eos_token_id(vocab["<|end_of_text|>"])
        writer.add_add_bos_token(True)

    folder = OUT / "gguf-llama-bpe"
    path = folder / "tokenizer.gguf"
    write_tiny_gguf(path, fill)
    write_json(folder / "metadata.json", gguf_metadata(path), compact_lists=True)
    reference = AutoTokenizer.from_pretrained(str(llama3_folder))
    write_expected(folder, reference, vocab["<|begin_of_text|>"], vocab["<|end_of_text|>"], True)
    write_offsets(folder, reference)
    converted = AutoTokenizer.from_pretrained(str(folder), gguf_file="tokenizer.gguf")
    differing = [t for t in CORPUS if converted(t, add_special_tokens=False)["input_ids"]
                 != reference(t, add_special_tokens=False)["input_ids"]]
    print(f"gguf-llama-bpe: transformers' GGUF conversion differs from tokenizer.json on {len(differing)} strings")


def smollm2():
    if not MODEL.exists():
        print(f"skipping SmolLM2: {MODEL} is missing (scripts/setup-model)", file=sys.stderr)
        return
    meta = gguf_metadata(MODEL)
    assert meta["model"] == "gpt2" and meta["pre"] == "smollm", meta["pre"]
    write_json(OUT / "smollm2" / "metadata.json", meta, compact_lists=True)

    converted = AutoTokenizer.from_pretrained(str(MODEL.parent), gguf_file=MODEL.name)
    print(f"SmolLM2 via transformers GGUF: {type(converted).__name__}, "
          f"pre_tokenizer {converted.backend_tokenizer.pre_tokenizer}")

    vocab = {piece: index for index, piece in enumerate(meta["tokens"])}
    merges = [tuple(m.split(" ")) for m in meta["merges"]]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tok.normalizer = None
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)])
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([tokenizers.AddedToken(piece, normalized=False, special=True)
                            for piece, kind in zip(meta["tokens"], meta["tokenTypes"]) if kind == 3])
    faithful = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=meta["tokens"][meta["bosID"]],
                                       eos_token=meta["tokens"][meta["eosID"]], add_bos_token=meta["addBOS"],
                                       clean_up_tokenization_spaces=False)
    differing = [t for t in CORPUS if converted(t, add_special_tokens=False)["input_ids"]
                 != faithful(t, add_special_tokens=False)["input_ids"]]
    print(f"SmolLM2: transformers' GGUF conversion differs from the faithful tokenizer on "
          f"{len(differing)} of {len(CORPUS)} strings, e.g. {differing[:3]!r}")
    write_expected(OUT / "smollm2", faithful, meta["bosID"], meta["eosID"], meta["addBOS"])
    write_offsets(OUT / "smollm2", faithful)


def main():
    os.chdir(ROOT)
    print(f"transformers {transformers.__version__}, tokenizers {tokenizers.__version__}")
    write_json(OUT / "corpus.json", CORPUS)
    write_json(OUT / "offsets_corpus.json", OFFSETS_CORPUS)
    flavours = byte_level_flavours()
    spm_vocab, _ = spm_flavours()
    gguf_llama(spm_vocab)
    gguf_llama_bpe(*flavours["llama3"])
    smollm2()


if __name__ == "__main__":
    main()
