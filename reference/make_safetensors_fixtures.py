"""Writes the safetensors and config.json fixtures under Tests/Fixtures/safetensors/.

Run from the repository root:  .venv-reference/bin/python reference/make_safetensors_fixtures.py
Written with Python 3.11, torch 2.15.0, safetensors 0.8.0, transformers 5.23.0, numpy 2.4.6.
The output is deterministic (fixed seeds, sorted JSON); rerunning rewrites identical files.

dtypes/model.safetensors   F32/F16/BF16/I32/I64 tensors of several shapes, special values
                           (+-0, subnormals, +-inf, nan, extremes), a scalar and an empty tensor.
dtypes/expected.json       each tensor's shape and dtype, floats as float32 bit patterns
                           (torch's own widening), integers as values.
sharded/                   a tiny Llama saved by save_pretrained in two BF16 shards with
                           model.safetensors.index.json and config.json; expected.json as above.
configs/*.json             config.json files: written by transformers' config classes
                           (save_pretrained), hand-written in the 4.x hub format, and minimal ones
                           that leave fields to the class defaults.
configs/expected.json      for each config, the ModelConfig (Swift property names) that transformers
                           itself implies: the config object after loading the file, plus a model
                           built on the meta device for head_dim, biases and weight tying.
"""

import json
import math
import os
import shutil
import tempfile

import torch
import transformers
from safetensors.torch import load_file, save_file
from transformers import AutoConfig, AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM, MistralConfig, Qwen2Config

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "safetensors")


def write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f, indent=2, sort_keys=True)
        f.write("\n")


def expected_entry(tensor):
    entry = {"shape": list(tensor.shape), "dtype": str(tensor.dtype).removeprefix("torch.")}
    if tensor.is_floating_point():
        bits = tensor.to(torch.float32).contiguous().view(torch.int32).flatten().tolist()
        entry["float32_bits"] = [b & 0xFFFFFFFF for b in bits]
    else:
        entry["values"] = tensor.flatten().tolist()
    return entry


def half_from_bits(bits, dtype):
    return torch.tensor(bits, dtype=torch.int32).to(torch.int16).view(dtype)


def dtype_tensors():
    generator = torch.Generator().manual_seed(1234)
    f32_special = torch.tensor(
        [0.0, -0.0, 1.0, -1.0, 1.5, math.pi, 1e-7, 65504.0, float("inf"), float("-inf"), float("nan")],
        dtype=torch.float32)
    f32_extremes = torch.tensor([0x00000001, 0x007FFFFF, 0x00800000, 0x7F7FFFFF, 0xFF7FFFFF, 0x80000001],
                                dtype=torch.int64).to(torch.int32).view(torch.float32)
    f16_special_bits = [
        0x0000, 0x8000, 0x3C00, 0xBC00, 0x3800,  # 0, -0, 1, -1, 0.5
        0x0001, 0x03FF, 0x8001, 0x0400,          # subnormals: min, max, -min; min normal
        0x7BFF, 0xFBFF,                          # +-65504
        0x7C00, 0xFC00, 0x7E00, 0xFE00,          # +-inf, +-nan
        0x3555, 0x2E66, 0xC100,                  # ~1/3, ~0.1, -2.5
    ]
    bf16_special_bits = [
        0x0000, 0x8000, 0x3F80, 0xBF80,          # 0, -0, 1, -1
        0x0001, 0x007F, 0x8001, 0x0080,          # subnormals: min, max, -min; min normal
        0x7F7F, 0xFF7F,                          # +-max
        0x7F80, 0xFF80, 0x7FC0,                  # +-inf, nan
        0x4049, 0x3DCD,                          # ~pi, ~0.1
    ]
    return {
        "f32_special": f32_special,
        "f32_extremes": f32_extremes,
        "f32_matrix": torch.randn(3, 4, generator=generator),
        "f32_scalar": torch.tensor(3.25, dtype=torch.float32),
        "f32_empty": torch.zeros(0, 3, dtype=torch.float32),
        "f16_special": half_from_bits(f16_special_bits, torch.float16),
        "f16_3d": torch.randn(2, 3, 4, generator=generator).to(torch.float16),
        "bf16_special": half_from_bits(bf16_special_bits, torch.bfloat16),
        "bf16_matrix": torch.randn(5, 7, generator=generator).to(torch.bfloat16),
        "i32_vector": torch.tensor([-(2**31), -1, 0, 1, 2**31 - 1], dtype=torch.int32),
        "i32_matrix": torch.arange(6, dtype=torch.int32).reshape(2, 3) - 3,
        "i64_in_range": torch.tensor([-(2**31), 0, 42, 2**31 - 1], dtype=torch.int64),
        "i64_out_of_range": torch.tensor([7, 2**31], dtype=torch.int64),
    }


def write_dtypes():
    directory = os.path.join(ROOT, "dtypes")
    os.makedirs(directory, exist_ok=True)
    tensors = dtype_tensors()
    save_file(tensors, os.path.join(directory, "model.safetensors"),
              metadata={"format": "pt"})  # one key: safetensors orders several by hash
    write_json(os.path.join(directory, "expected.json"), {k: expected_entry(v) for k, v in tensors.items()})


def write_sharded():
    directory = os.path.join(ROOT, "sharded")
    shutil.rmtree(directory, ignore_errors=True)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=16, hidden_size=8, num_hidden_layers=2, num_attention_heads=2,
                         num_key_value_heads=1, head_dim=4, intermediate_size=12, max_position_embeddings=64,
                         rms_norm_eps=1e-5, dtype="bfloat16")
    model = LlamaForCausalLM(config).to(torch.bfloat16)
    model.save_pretrained(directory, max_shard_size="2KB")
    os.remove(os.path.join(directory, "generation_config.json"))
    shards = sorted(f for f in os.listdir(directory) if f.endswith(".safetensors"))
    assert shards == ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"], shards
    expected = {}
    for shard in shards:
        for name, tensor in load_file(os.path.join(directory, shard)).items():
            expected[name] = expected_entry(tensor)
    write_json(os.path.join(directory, "expected.json"), expected)


def saved_config(config):
    """The config.json text that save_pretrained writes for `config`."""
    with tempfile.TemporaryDirectory() as directory:
        config.save_pretrained(directory)
        with open(os.path.join(directory, "config.json")) as f:
            return json.load(f)


# Hand-written in the format of transformers 4.x hub configs (top-level rope_theta, rope_scaling,
# torch_dtype): the published config.json of Llama-3.2-1B and of Qwen2.5-0.5B.
LEGACY_CONFIGS = {
    "legacy_llama3_2_1b": {
        "architectures": ["LlamaForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
        "bos_token_id": 128000, "eos_token_id": 128001, "head_dim": 64, "hidden_act": "silu",
        "hidden_size": 2048, "initializer_range": 0.02, "intermediate_size": 8192,
        "max_position_embeddings": 131072, "mlp_bias": False, "model_type": "llama",
        "num_attention_heads": 32, "num_hidden_layers": 16, "num_key_value_heads": 8, "pretraining_tp": 1,
        "rms_norm_eps": 1e-05,
        "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                         "original_max_position_embeddings": 8192, "rope_type": "llama3"},
        "rope_theta": 500000.0, "tie_word_embeddings": True, "torch_dtype": "bfloat16",
        "transformers_version": "4.45.0.dev0", "use_cache": True, "vocab_size": 128256,
    },
    "legacy_qwen2_5_0_5b": {
        "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643,
        "eos_token_id": 151643, "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02,
        "intermediate_size": 4864, "max_position_embeddings": 32768, "max_window_layers": 24,
        "model_type": "qwen2", "num_attention_heads": 14, "num_hidden_layers": 24, "num_key_value_heads": 2,
        "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "sliding_window": 32768, "tie_word_embeddings": True,
        "torch_dtype": "bfloat16", "transformers_version": "4.40.1", "use_cache": True, "use_mrope": False,
        "use_sliding_window": False, "vocab_size": 151936,
    },
    # Only the sizes: everything else takes the config class's defaults.
    "minimal_llama": {"model_type": "llama", "vocab_size": 100, "hidden_size": 64, "num_hidden_layers": 2,
                      "num_attention_heads": 4, "intermediate_size": 128},
    "minimal_mistral": {"model_type": "mistral", "vocab_size": 100, "hidden_size": 256, "num_hidden_layers": 2,
                        "num_attention_heads": 16, "intermediate_size": 512},
    "minimal_qwen2": {"model_type": "qwen2", "vocab_size": 100, "hidden_size": 512, "num_hidden_layers": 2,
                      "num_attention_heads": 64, "intermediate_size": 512},
    # Both spellings at once: a non-empty rope_scaling replaces rope_parameters, and a rope_theta
    # inside the rope dictionary wins over the top-level one.
    "precedence_llama": {"model_type": "llama", "vocab_size": 100, "hidden_size": 64, "num_hidden_layers": 2,
                         "num_attention_heads": 4, "intermediate_size": 128, "rope_theta": 1234.0,
                         "rope_parameters": {"rope_type": "default", "rope_theta": 99.0},
                         "rope_scaling": {"type": "llama3", "factor": 4.0, "low_freq_factor": 2.0,
                                          "high_freq_factor": 8.0, "rope_theta": 4321.0}},
}


def generated_configs():
    return {
        "llama3_gqa": LlamaConfig(
            vocab_size=128, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
            head_dim=32, intermediate_size=96, rms_norm_eps=1e-5, max_position_embeddings=1024,
            rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
                             "high_freq_factor": 4.0, "original_max_position_embeddings": 256}),
        "llama2_like": LlamaConfig(
            vocab_size=32000, hidden_size=4096, num_hidden_layers=32, num_attention_heads=32,
            intermediate_size=11008, max_position_embeddings=4096, rms_norm_eps=1e-5),
        "llama_attention_bias": LlamaConfig(
            vocab_size=50, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
            attention_bias=True, tie_word_embeddings=True),
        "mistral": MistralConfig(
            vocab_size=200, hidden_size=64, num_hidden_layers=2, num_attention_heads=8, num_key_value_heads=2,
            intermediate_size=160, sliding_window=32, rope_parameters={"rope_type": "default", "rope_theta": 1e6}),
        "qwen2_tied": Qwen2Config(
            vocab_size=300, hidden_size=96, num_hidden_layers=2, num_attention_heads=6, num_key_value_heads=2,
            intermediate_size=192, tie_word_embeddings=True, rms_norm_eps=1e-6,
            rope_parameters={"rope_type": "default", "rope_theta": 1e6}),
    }


def expected_model_config(path):
    """The ModelConfig that transformers implies for a config.json file, in Swift's Codable form."""
    with tempfile.TemporaryDirectory() as directory:
        shutil.copy(path, os.path.join(directory, "config.json"))
        config = AutoConfig.from_pretrained(directory)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    attention = model.model.layers[0].self_attn
    rope = config.rope_parameters
    scaling = None
    if rope["rope_type"] == "llama3":
        scaling = {"factor": rope["factor"], "lowFrequencyFactor": rope["low_freq_factor"],
                   "highFrequencyFactor": rope["high_freq_factor"],
                   "originalMaxPositionEmbeddings": rope["original_max_position_embeddings"]}
    else:
        assert rope["rope_type"] == "default", rope
    expected = {
        "architecture": "qwen2" if config.model_type == "qwen2" else "llama",
        "vocabularySize": config.vocab_size,
        "hiddenSize": config.hidden_size,
        "layerCount": config.num_hidden_layers,
        "headCount": config.num_attention_heads,
        "kvHeadCount": config.num_key_value_heads,
        "headDim": attention.head_dim,
        "intermediateSize": config.intermediate_size,
        "rmsNormEpsilon": config.rms_norm_eps,
        "ropeTheta": rope["rope_theta"],
        "contextLength": config.max_position_embeddings,
        "attentionQKVBias": attention.q_proj.bias is not None,
        "attentionOutputBias": attention.o_proj.bias is not None,
        "tiedEmbeddings": model.lm_head.weight is model.model.embed_tokens.weight,
    }
    if scaling is not None:
        expected["ropeScaling"] = scaling
    assert (attention.k_proj.bias is not None) == expected["attentionQKVBias"]
    sliding = getattr(config, "sliding_window", None) if config.model_type == "mistral" else None
    return {"modelConfig": expected, "slidingWindow": sliding}


def write_configs():
    directory = os.path.join(ROOT, "configs")
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    texts = {name: saved_config(config) for name, config in generated_configs().items()}
    texts.update(LEGACY_CONFIGS)
    expected = {}
    for name, config_json in texts.items():
        path = os.path.join(directory, name + ".json")
        write_json(path, config_json)
        expected[name] = expected_model_config(path)
    write_json(os.path.join(directory, "expected.json"), expected)


if __name__ == "__main__":
    assert transformers.__version__ == "5.23.0", transformers.__version__
    write_dtypes()
    write_sharded()
    write_configs()
