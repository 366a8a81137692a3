"""Tokenizers for the tiny fixture models, trained with the `tokenizers` library on CORPUS.

Five styles, mirroring the real tokenizer.json files of the model families:

- llama3: byte-level BPE, pre-tokenizer Sequence[Split(LLAMA3_REGEX, isolated), ByteLevel(use_regex=False)],
  post-processor Sequence[ByteLevel, TemplateProcessing("<|begin_of_text|> $A")] (BOS added),
  special tokens appended after the trained vocabulary (as in Llama 3, where they are ids 128000+).
- qwen2: NFC normalizer, byte-level BPE with QWEN2_REGEX (single digits), post-processor ByteLevel only
  (no BOS), special tokens appended after the trained vocabulary.
- gpt2: GPT-2's own pipeline: no normalizer, pre-tokenizer ByteLevel(add_prefix_space=False, use_regex=True) (its
  built-in GPT-2 regex), post-processor ByteLevel only (no BOS added), one special token <|endoftext|> appended
  after the trained vocabulary that is BOS, EOS and UNK at once (as id 50256 in GPT-2).
- neox: GPT-NeoX-20B's (Pythia's) pipeline: NFC normalizer, ByteLevel(add_prefix_space=False, use_regex=True),
  post-processor ByteLevel only (no BOS added), <|endoftext|> = 0 and <|padding|> = 1 ahead of the trained vocabulary.
- llama2: SentencePiece-style BPE: normalizer Sequence[Prepend("▁"), Replace(" ", "▁")], no pre-tokenizer,
  BPE(byte_fallback=True, fuse_unk=True) with <unk>=0, <s>=1, </s>=2, <0x00>..<0xFF>=3..258 in the model
  vocabulary (not added tokens), post-processor TemplateProcessing("<s> $A") (BOS added). "\n" is kept out
  of the vocabulary (training is done line by line), so newlines and rare characters use byte fallback.

Training is deterministic (tokenizers' BPE trainer orders merges by count, then by pair).
"""

import json

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

LLAMA3_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
QWEN2_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

CORPUS = """\
Q: hot
A: cold

Q: big
A: small

Q: fast
A: slow

Q: up
A: down

Q: light
A: dark

Q: happy
A: sad
The quick brown fox jumps over the lazy dog. The dog sleeps in the sun all day long.
The capital of France is Paris, and the capital of Italy is Rome. The capital of Spain is Madrid.
In the morning the small bird sings; in the evening the old cat sits by the warm fire.
We count: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 100, 1000, 2024, 3.14, 42.
She said, "It's a nice day, isn't it?" and he replied, "Yes, we'll go for a walk."
Translation: cat -> chat, dog -> chien, house -> maison, water -> eau, café -> café.
Prices went up by 12% in 2023; a cup of coffee now costs $4.50 or about 4 euros.
Attention heads copy tokens from earlier in the context: if A B ... A, then predict B.
Induction heads find the previous occurrence of the current token and attend to the token after it.
The model reads the prompt, computes the residual stream, and writes the next token.
Large language models learn in context from a few examples of input and output pairs.
Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday.
January February March April May June July August September October November December
red green blue yellow orange purple black white brown grey pink
one two three four five six seven eight nine ten eleven twelve
"""


def _lines():
    return [line for line in CORPUS.split("\n") if line]


def _byte_level_bpe(regex: str, vocab_size: int, nfc: bool) -> Tokenizer:
    tok = Tokenizer(models.BPE(unk_token=None, fuse_unk=False, byte_fallback=False))
    if nfc:
        tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(regex), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel(add_prefix_space=True, trim_offsets=True, use_regex=True)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=1,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=[],
    )
    # Train on the whole corpus (newlines included) so "\n", "\n\n" are learnt as in real byte-level BPEs.
    tok.train_from_iterator([CORPUS], trainer=trainer)
    return tok


def build_llama3(trained_vocab: int = 500):
    """Returns (tokenizer, info). Special tokens are appended: <|begin_of_text|>, <|end_of_text|>, <|eot_id|>."""
    tok = _byte_level_bpe(LLAMA3_REGEX, trained_vocab, nfc=False)
    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"]
    tok.add_special_tokens(specials)
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.Sequence(
        [
            processors.ByteLevel(add_prefix_space=True, trim_offsets=False, use_regex=True),
            processors.TemplateProcessing(
                single="<|begin_of_text|> $A",
                pair="<|begin_of_text|> $A <|begin_of_text|> $B:1",
                special_tokens=[("<|begin_of_text|>", bos)],
            ),
        ]
    )
    info = dict(bos_token="<|begin_of_text|>", eos_token="<|end_of_text|>", pad_token=None, unk_token=None)
    return tok, info


def build_qwen2(trained_vocab: int = 480):
    """Returns (tokenizer, info). Special tokens appended: <|endoftext|>, <|im_start|>, <|im_end|>. No BOS."""
    tok = _byte_level_bpe(QWEN2_REGEX, trained_vocab, nfc=True)
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok.add_special_tokens(specials)
    tok.post_processor = processors.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    info = dict(bos_token=None, eos_token="<|endoftext|>", pad_token="<|endoftext|>", unk_token=None)
    return tok, info


def build_gpt2(trained_vocab: int = 490):
    """Returns (tokenizer, info): GPT-2's byte-level BPE, <|endoftext|> as bos = eos = unk, no BOS added."""
    tok = Tokenizer(models.BPE(unk_token=None, fuse_unk=False, byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)
    tok.decoder = decoders.ByteLevel(add_prefix_space=True, trim_offsets=True, use_regex=True)
    trainer = trainers.BpeTrainer(vocab_size=trained_vocab, min_frequency=1, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=[])
    tok.train_from_iterator([CORPUS], trainer=trainer)
    tok.add_special_tokens(["<|endoftext|>"])
    tok.post_processor = processors.ByteLevel(add_prefix_space=True, trim_offsets=False, use_regex=True)
    info = dict(bos_token="<|endoftext|>", eos_token="<|endoftext|>", pad_token=None, unk_token="<|endoftext|>")
    return tok, info


def build_neox(trained_vocab: int = 490):
    """Returns (tokenizer, info): GPT-NeoX-20B's (Pythia's) pipeline: NFC normalizer, ByteLevel(add_prefix_space=False,
    use_regex=True), post-processor ByteLevel only (no BOS added), <|endoftext|> = 0 (bos = eos = unk) and
    <|padding|> = 1 before the trained vocabulary, as in Pythia."""
    tok = Tokenizer(models.BPE(unk_token=None, fuse_unk=False, byte_fallback=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)
    tok.decoder = decoders.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)
    trainer = trainers.BpeTrainer(vocab_size=trained_vocab, min_frequency=1, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=["<|endoftext|>", "<|padding|>"])
    tok.train_from_iterator([CORPUS], trainer=trainer)
    assert tok.token_to_id("<|endoftext|>") == 0 and tok.token_to_id("<|padding|>") == 1
    tok.post_processor = processors.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)
    info = dict(bos_token="<|endoftext|>", eos_token="<|endoftext|>", pad_token=None, unk_token="<|endoftext|>")
    return tok, info


def build_llama2(final_vocab: int = 512):
    """SentencePiece-style BPE with byte fallback, vocabulary exactly `final_vocab` entries."""
    specials = ["<unk>", "<s>", "</s>"]
    byte_tokens = [f"<0x{b:02X}>" for b in range(256)]
    n_fixed = len(specials) + len(byte_tokens)

    # 1. Learn pieces and merges on "▁"-prefixed words (SentencePiece never merges across "▁" boundaries).
    train = Tokenizer(models.BPE())
    train.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    train.pre_tokenizer = pre_tokenizers.Split("▁", behavior="merged_with_next")
    trainer = trainers.BpeTrainer(vocab_size=final_vocab - n_fixed, min_frequency=1, show_progress=False,
                                  special_tokens=[])
    train.train_from_iterator(_lines(), trainer=trainer)
    learnt = json.loads(train.to_str())["model"]
    pieces = sorted(learnt["vocab"].items(), key=lambda kv: kv[1])
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in learnt["merges"]]

    # 2. Final vocabulary in Llama-2 layout.
    vocab = {}
    for t in specials + byte_tokens:
        vocab[t] = len(vocab)
    for piece, _ in pieces:
        assert piece not in vocab, piece
        vocab[piece] = len(vocab)
    assert "\n" not in vocab

    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tok.pre_tokenizer = None
    tok.decoder = decoders.Sequence(
        [decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)]
    )
    tok.add_special_tokens(specials)  # already in vocab: marks them special, ids unchanged
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B:1", special_tokens=[("<s>", vocab["<s>"])]
    )
    info = dict(bos_token="<s>", eos_token="</s>", pad_token=None, unk_token="<unk>")
    return tok, info


BUILDERS = {"llama3": build_llama3, "qwen2": build_qwen2, "llama2": build_llama2, "gpt2": build_gpt2,
            "neox": build_neox}
