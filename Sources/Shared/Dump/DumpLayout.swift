/// The dump format, defined once: the capture writer creates exactly these groups and datasets,
/// the analyzer reads them by these names, and schemas/ is generated from (and tested against)
/// this description. Changing a name, a dimension or a type here is a format change: bump
/// `DumpFormat.version` and say so in schemas/CHANGELOG.md.
public enum DumpFormat {
    public static let name = "icl-heads-dump"
    /// major.minor: readers accept their own major version; minor versions only add things.
    public static let version = "1.4"

    /// The minor part of "major.minor" (0 when there is none).
    public static func minor(of version: String) -> Int {
        let parts = version.split(separator: ".")
        return parts.count > 1 ? Int(parts[1]) ?? 0 : 0
    }
}

/// How a dataset's values are stored.
public enum DumpValueType: String, Sendable, Codable {
    /// float32, or float16 with `--dtype f16`: the large per-head and residual activations.
    case activation
    case float32
    case int32
    case uint8
    /// Variable-length UTF-8.
    case string
}

public struct DumpDimension: Sendable, Codable, Equatable {
    public let name: String
    public let meaning: String
}

public struct DumpDataset: Sendable, Codable, Equatable {
    public let name: String
    /// Dimension names, outermost first; each is a netCDF-style dimension scale in the file.
    public let dimensions: [String]
    public let type: DumpValueType
    public let meaning: String
    /// Present only when a capture option asks for it (named in `meaning`).
    public let optional: Bool
    /// The format version that added it: dumps of earlier minor versions lack it.
    public let since: String

    init(_ name: String, _ dimensions: [String], _ type: DumpValueType, _ meaning: String, optional: Bool = false,
         since: String = "1.0") {
        self.name = name
        self.dimensions = dimensions
        self.type = type
        self.meaning = meaning
        self.optional = optional
        self.since = since
    }

    /// Whether a dump of format `version` ("major.minor") must hold this dataset.
    public func isRequired(inVersion version: String) -> Bool {
        !optional && DumpFormat.minor(of: version) >= DumpFormat.minor(of: since)
    }
}

public struct DumpAttribute: Sendable, Codable, Equatable {
    public let name: String
    /// "string", "int", "float", "string[]", "int[]"
    public let type: String
    public let meaning: String
    /// The format version that added it: dumps of earlier minor versions lack it.
    public let since: String

    init(_ name: String, _ type: String, _ meaning: String, since: String = "1.0") {
        self.name = name
        self.type = type
        self.meaning = meaning
        self.since = since
    }
}

public struct DumpGroup: Sendable, Codable, Equatable {
    /// The group's path; `{set}` stands for a prompt set's name, `{probe}` for a probe set's.
    public let path: String
    public let meaning: String
    /// Dimensions whose scales live in this group (sizes differ between groups of one kind).
    public let dimensions: [DumpDimension]
    public let attributes: [DumpAttribute]
    public let datasets: [DumpDataset]

    public func dataset(_ name: String) -> DumpDataset? { datasets.first { $0.name == name } }
}

public enum DumpLayout {
    public static let root = DumpGroup(
        path: "/",
        meaning: "The dump: provenance and the model-wide dimensions, shared by every group below.",
        dimensions: [
            DumpDimension(name: "layer", meaning: "decoder layer, 0 = closest to the embedding"),
            DumpDimension(name: "head", meaning: "query head within a layer (GQA: see /model/kv_head)"),
            DumpDimension(name: "d_head", meaning: "one head's z channels (head_dim from the model config)"),
            DumpDimension(name: "d_model", meaning: "residual stream channels"),
            DumpDimension(name: "resid_layer", meaning: "resid_pre of layers 0..L-1, then resid_final (before the final norm): L + 1 entries"),
        ],
        attributes: [
            DumpAttribute("format", "string", "always \"\(DumpFormat.name)\""),
            DumpAttribute("format_version", "string", "DumpFormat.version of the writer, e.g. \"\(DumpFormat.version)\""),
            DumpAttribute("created", "string", "ISO 8601 time the capture started"),
            DumpAttribute("tool_version", "string", "icl-capture version"),
            DumpAttribute("git_commit", "string", "source commit of the build, or \"unknown\""),
            DumpAttribute("model_path", "string", "the model file or folder as given"),
            DumpAttribute("model_sha256", "string", "sha256 of the GGUF file, or of the safetensors files in name order"),
            DumpAttribute("model_format", "string", "\"GGUF\" or \"Hugging Face safetensors\""),
            DumpAttribute("model_name", "string", "the model's own name, when its files give one"),
            DumpAttribute("architecture", "string", "\"llama\", \"qwen2\", \"gpt2\", \"gpt_neox\" or \"gemma3\""),
            DumpAttribute("tokenizer", "string", "tokenizer summary (type, pre-tokenizer, vocabulary size)"),
            DumpAttribute("bos_policy", "string", "\"model default: added\", \"model default: not added\", \"forced on\" or \"forced off\""),
            DumpAttribute("activation_dtype", "string", "\"float32\" or \"float16\": storage of the `activation` datasets"),
            DumpAttribute("shard", "string", "\"i/n\": this file holds prompts whose index modulo n is i; \"0/1\" for a whole capture"),
            DumpAttribute("capture_config", "string", "every capture option as JSON; resume and shard merging require it to match"),
            DumpAttribute("definitions", "string", "JSON: the variants chosen where the methods differ (positions, hook points, norms)"),
            DumpAttribute("gradient_metric", "string", "the metric M whose gradients the sets' grad_* datasets hold (--grads): \"gold-logprob\", \"gold-prob\" or \"label-margin\", defined in definitions; \"\" without --grads (format 1.2; earlier dumps lack it)"),
        ],
        datasets: [])

    public static let model = DumpGroup(
        path: "/model",
        meaning: "The few weights needed to recompute per-head contributions without the model.",
        dimensions: [
            DumpDimension(name: "unembed_row", meaning: "a vocabulary entry whose unembedding row is stored"),
            DumpDimension(name: "vocabulary", meaning: "token id"),
        ],
        attributes: [
            DumpAttribute("vocabulary_size", "int", "V"),
            DumpAttribute("kv_head_count", "int", "KV heads per layer"),
            DumpAttribute("rms_norm_epsilon", "float", "the final norm's epsilon (RMSNorm, or LayerNorm when final_norm_kind is \"layer\")"),
            DumpAttribute("final_norm_kind", "string",
                          "\"rms\": final_norm(x) = gamma * x * s, s = 1/sqrt(mean(x^2)+eps); \"layer\": final_norm(x) = gamma * (x - mean(x)) * s + beta, s = 1/sqrt(var(x)+eps) (biased variance). Dumps before 1.3 lack it and are \"rms\". With s frozen, a component c of resid_final contributes s * (gamma * c) . w_y (rms) or s * (gamma * (c - mean(c))) . w_y (layer: the centring is linear) to the logit of token y; LayerNorm adds beta . w_y, which no component writes",
                          since: "1.3"),
            DumpAttribute("tied_embeddings", "int", "1 when W_U is the token embedding"),
            DumpAttribute("attention_output_norm", "string",
                          "\"none\": a head writes a_h = z_h @ W_O[l, h] into the residual stream; \"rms\" (Gemma 3's norm after attention): the layer's attention output o = sum_h z_h @ W_O[l, h] passes an RMSNorm before the residual add, so a head writes a_h = s * g ⊙ (z_h @ W_O[l, h]) with g = attention_output_norm_weight[l] and the frozen per-token s = attention_output_norm_scale = 1/sqrt(mean(o^2)+eps), eps = rms_norm_epsilon; with s frozen, the heads' writes add up to the layer's. Dumps before 1.4 lack it and are \"none\"",
                          since: "1.4"),
        ],
        datasets: [
            DumpDataset("W_O", ["layer", "head", "d_head", "d_model"], .float32,
                        "output projection per head: a_h = z_h @ W_O[l, h] is head h's write into the residual stream (scaled as attention_output_norm says when that is \"rms\")"),
            DumpDataset("b_O", ["layer", "d_model"], .float32, "output projection bias (models with one)", optional: true),
            DumpDataset("attention_output_norm_weight", ["layer", "d_model"], .float32,
                        "g of each layer's norm after attention when attention_output_norm is \"rms\": the gain as applied (Gemma's 1 + weight)",
                        optional: true, since: "1.4"),
            DumpDataset("kv_head", ["head"], .int32, "the KV head each query head reads (GQA)"),
            DumpDataset("final_norm_weight", ["d_model"], .float32, "gamma of the final norm"),
            DumpDataset("final_norm_bias", ["d_model"], .float32, "beta of the final norm when final_norm_kind is \"layer\"", optional: true,
                        since: "1.3"),
            DumpDataset("unembed_ids", ["unembed_row"], .int32, "token ids of the stored W_U rows: every label and gold token (all of V with --full-unembed)"),
            DumpDataset("unembed", ["unembed_row", "d_model"], .float32, "W_U rows: logit of token t = final_norm(resid_final) . unembed[row of t], with final_norm as final_norm_kind says and s = final_norm_scale"),
            DumpDataset("token_text", ["vocabulary"], .string,
                        "each token id's text: byte-level pieces decoded, SentencePiece's word marker as a space, special tokens as written, bytes that are not valid UTF-8 (and NUL) as <0xNN>; \"\" for ids the tokenizer does not use",
                        since: "1.1"),
        ])

    public static let promptSet = DumpGroup(
        path: "/sets/{set}",
        meaning: "One prompt set: one task x variant x shots x template, with everything captured for its prompts.",
        dimensions: [
            DumpDimension(name: "prompt", meaning: "prompt of the set (this shard's); /sets/{set}/prompt_index gives its index in the whole set"),
            DumpDimension(name: "token", meaning: "token position in a prompt, padded to the longest of the set's prompts in this file"),
            DumpDimension(name: "position", meaning: "captured position: 0 = the answer position (last prompt token); with --positions labels, then the position before each demonstration's output"),
            DumpDimension(name: "shot", meaning: "demonstration of a prompt"),
            DumpDimension(name: "label", meaning: "entry of label_ids"),
            DumpDimension(name: "top", meaning: "rank among the full-vocabulary top-k at the answer position"),
            DumpDimension(name: "bound", meaning: "[start, end) of a token span"),
        ],
        attributes: [
            DumpAttribute("task", "string", "task name (tasks/<task>.jsonl)"),
            DumpAttribute("task_kind", "string", "\"classification\" or \"open\""),
            DumpAttribute("variant", "string", "clean, shuffled_labels, random_labels, abstract_labels or zero_shot"),
            DumpAttribute("shots", "int", "demonstrations per prompt"),
            DumpAttribute("template", "string", "template name"),
            DumpAttribute("template_input", "string", "input format, {x} = the input"),
            DumpAttribute("template_output", "string", "output format incl. its leading space, {y} = the output"),
            DumpAttribute("template_separator", "string", "text after each demonstration"),
            DumpAttribute("seed", "int", "the prompt-sampling seed"),
            DumpAttribute("prompt_count", "int", "prompts of the whole set (all shards)"),
            DumpAttribute("labels", "string[]", "label strings as shown after the variant (classification), else the distinct gold outputs' first tokens as text"),
            DumpAttribute("multi_token_labels", "int[]", "1 where a label's text needs more than one token (only its first token is used)"),
            DumpAttribute("shared_first_token", "int", "1 when two labels share their first token (their logits coincide)"),
        ],
        datasets: [
            DumpDataset("prompt_index", ["prompt"], .int32, "index of the prompt in the whole set (shards hold disjoint subsets)"),
            DumpDataset("text", ["prompt"], .string, "the prompt as given to the tokenizer"),
            DumpDataset("gold_text", ["prompt"], .string, "the answer with the template's output format, e.g. \" cold\""),
            DumpDataset("token_ids", ["prompt", "token"], .int32, "prompt token ids, -1 after the end"),
            DumpDataset("token_count", ["prompt"], .int32, "tokens in the prompt"),
            DumpDataset("special_mask", ["prompt", "token"], .uint8, "1 for special tokens (BOS, control tokens), 0 otherwise and after the end"),
            DumpDataset("demo_input_span", ["prompt", "shot", "bound"], .int32, "token span of each demonstration's input"),
            DumpDataset("demo_output_span", ["prompt", "shot", "bound"], .int32, "token span of each demonstration's output"),
            DumpDataset("query_span", ["prompt", "bound"], .int32, "token span of the query's input"),
            DumpDataset("positions", ["prompt", "position"], .int32, "token index of each captured position"),
            DumpDataset("z", ["prompt", "position", "layer", "head", "d_head"], .activation, "per-head attention output before W_O (blocks.l.attn.hook_z)"),
            DumpDataset("resid", ["prompt", "position", "resid_layer", "d_model"], .activation, "residual stream: resid_pre of every layer, then resid_final"),
            DumpDataset("final_norm_scale", ["prompt", "position"], .float32, "the final norm's scale s from the real forward pass: 1/sqrt(mean(resid_final^2)+eps) for RMSNorm, 1/sqrt(var(resid_final)+eps) for LayerNorm"),
            DumpDataset("attention_output_norm_scale", ["prompt", "position", "layer"], .float32,
                        "when /model attention_output_norm is \"rms\": each layer's scale s = 1/sqrt(mean(o^2)+eps) of its attention output o = sum_h z_h @ W_O[l, h] from the real forward pass",
                        optional: true, since: "1.4"),
            DumpDataset("label_ids", ["label"], .int32, "first token of each label with the template's leading space"),
            DumpDataset("label_logits", ["prompt", "label"], .float32, "logits of label_ids at the answer position"),
            DumpDataset("head_label_logits", ["prompt", "position", "layer", "head", "label"], .float32,
                        "each head's direct contribution to each label logit through the frozen final-norm scale: final_norm_scale * (final_norm_weight * a) . unembed[row of label] with a = z_h @ W_O[l, h] (times s * g when /model attention_output_norm is \"rms\"), centred (a - mean(a)) when final_norm_kind is \"layer\"",
                        since: "1.1"),
            DumpDataset("resid_label_logits", ["prompt", "position", "resid_layer", "label"], .float32,
                        "the same projection of every stored residual stream, plus final_norm_bias . unembed[row of label] for LayerNorm (frozen-scale logit lens; the last entry is label_logits at position 0)",
                        since: "1.1"),
            DumpDataset("gold", ["prompt"], .int32, "index into label_ids of the gold label; -1 for open-answer tasks"),
            DumpDataset("gold_token", ["prompt"], .int32, "first token of the gold answer"),
            DumpDataset("gold_logprob", ["prompt"], .float32, "log-probability of gold_token over the full vocabulary at the answer position"),
            DumpDataset("argmax", ["prompt"], .int32, "full-vocabulary argmax at the answer position"),
            DumpDataset("top_ids", ["prompt", "top"], .int32, "full-vocabulary top-k token ids at the answer position"),
            DumpDataset("top_logits", ["prompt", "top"], .float32, "their logits"),
            DumpDataset("attention", ["prompt", "layer", "head", "token"], .activation, "attention probabilities from the answer position to every key (0 after the end)"),
            DumpDataset("grad_metric", ["prompt"], .float32,
                        "with --grads: the value of the metric M (root attribute gradient_metric) at the answer position; NaN where the gold answer has no token",
                        optional: true, since: "1.2"),
            DumpDataset("grad_z", ["prompt", "position", "layer", "head", "d_head"], .activation,
                        "with --grads: dM/dz at the captured positions, through the whole model (nothing frozen; docs/methods.md §19)",
                        optional: true, since: "1.2"),
            DumpDataset("grad_resid", ["prompt", "position", "resid_layer", "d_model"], .activation,
                        "with --grads: dM/d resid at the captured positions: resid_pre of every layer, then resid_final",
                        optional: true, since: "1.2"),
            DumpDataset("grad_z_position_sum", ["prompt", "layer", "head", "d_head"], .float32,
                        "with --grads: dM/dz summed over every token of the prompt, float32: m . (this) - head_zgrad_all_positions estimates setting the head's z to m at every position (docs/methods.md §20)",
                        optional: true, since: "1.3"),
            DumpDataset("head_zgrad_answer", ["prompt", "layer", "head"], .float32,
                        "with --grads: z_h . dM/dz_h at the answer position, from the float32 values: its negative is the first-order estimate of M's change when the head's z is set to 0 there",
                        optional: true, since: "1.2"),
            DumpDataset("head_zgrad_all_positions", ["prompt", "layer", "head"], .float32,
                        "with --grads: sum over every token t of the prompt of z_h[t] . dM/dz_h[t], float32: its negative estimates zero ablation of the head at every position",
                        optional: true, since: "1.2"),
            DumpDataset("done", ["prompt"], .uint8, "1 once every dataset's row for the prompt is written; rows with 0 hold no data"),
        ])

    /// The prompt-set datasets `icl-capture run --grads` adds; a capture without it has none.
    public static let gradientDatasets: Set<String> = ["grad_metric", "grad_z", "grad_resid", "grad_z_position_sum",
                                                       "head_zgrad_answer", "head_zgrad_all_positions"]

    public static let probeSet = DumpGroup(
        path: "/probes/{probe}",
        meaning: "Induction probe: BOS (when the model has one) + R random ordinary tokens, repeated twice.",
        dimensions: [
            DumpDimension(name: "prompt", meaning: "probe sequence (this shard's); prompt_index gives its index among all sequences"),
            DumpDimension(name: "query", meaning: "query position"),
            DumpDimension(name: "key", meaning: "key position"),
            DumpDimension(name: "token", meaning: "token position"),
        ],
        attributes: [
            DumpAttribute("repeat_length", "int", "R"),
            DumpAttribute("bos", "int", "1 when the sequences start with BOS"),
            DumpAttribute("seed", "int", "the probe seed"),
        ],
        datasets: [
            DumpDataset("prompt_index", ["prompt"], .int32, "index of the sequence among all probe sequences (shards hold disjoint subsets)"),
            DumpDataset("token_ids", ["prompt", "token"], .int32, "the probe tokens"),
            DumpDataset("attention_pattern", ["prompt", "layer", "head", "query", "key"], .activation, "full attention probabilities"),
            DumpDataset("done", ["prompt"], .uint8, "1 once the prompt's rows are written"),
        ])

    /// What `icl-capture run` creates.
    public static let groups = [root, model, promptSet, probeSet]

    public static let intervention = DumpGroup(
        path: "/interventions/{intervention}",
        meaning: "One `icl-capture intervene` run, added to a captured dump: exact interventions through the model on the dump's own prompts (docs/methods.md §14). Its dimension scales are its own (layer and head repeat the root's), so adding it changes no object the capture wrote.",
        dimensions: [
            DumpDimension(name: "head_set", meaning: "ablation, fv_vs_induction: an ablated head set; entry 0 is \"none\", the model unchanged"),
            DumpDimension(name: "layer", meaning: "decoder layer (as the root's)"),
            DumpDimension(name: "head", meaning: "query head within a layer (as the root's)"),
        ] + steeringDimensions,
        attributes: [
            DumpAttribute("kind", "string", "\"ablation\", \"cie\", \"steering\" or \"fv_vs_induction\""),
            DumpAttribute("options", "string", "the run's options as JSON (mode, positions, head-set files with their sha256, sets); rerunning to resume requires them to match"),
            DumpAttribute("definitions", "string", "JSON: what the run computes, and where the replacement means come from"),
            DumpAttribute("sets", "string[]", "the prompt sets run, each a group under sets/"),
            DumpAttribute("format_version", "string", "DumpFormat.version of the writer that added this group"),
            DumpAttribute("created", "string", "ISO 8601 time the run started"),
            DumpAttribute("tool_version", "string", "icl-capture version"),
            DumpAttribute("git_commit", "string", "source commit of the build, or \"unknown\""),
            DumpAttribute("model_path", "string", "the model as given (its sha256 equals the dump's model_sha256)"),
            DumpAttribute("threads", "int", "compute threads of the run"),
        ],
        datasets: [
            DumpDataset("head_set_name", ["head_set"], .string, "ablation, fv_vs_induction: each head set's name as its file gives it; \"none\" first", optional: true, since: "1.2"),
            DumpDataset("head_mask", ["head_set", "layer", "head"], .uint8, "ablation, fv_vs_induction: 1 for the heads a set ablates", optional: true, since: "1.2"),
        ] + steeringDatasets)

    public static let interventionSet = DumpGroup(
        path: "/interventions/{intervention}/sets/{set}",
        meaning: "An intervention run's results on prompt set {set}: row p belongs to row p of /sets/{set} (the same prompt). Metrics are full-vocabulary, at the answer position, from the model's logits under the intervention.",
        dimensions: [
            DumpDimension(name: "prompt", meaning: "row of /sets/{set}"),
            DumpDimension(name: "label", meaning: "entry of /sets/{set}/label_ids"),
            DumpDimension(name: "mean_prompt", meaning: "a clean prompt whose answer-position z entered the replacement mean"),
        ],
        attributes: [
            DumpAttribute("mean_set", "string", "the clean set whose mean z replaces the heads' (mean ablation, CIE); \"\" for zero ablation"),
            DumpAttribute("mean_leave_one_out", "int", "1 when each prompt's replacement mean leaves out the prompt itself (mean ablation of a clean set on its own prompts)"),
        ],
        datasets: [
            DumpDataset("gold_logprob", ["prompt", "head_set"], .float32, "ablation, fv_vs_induction (first generated position): log-probability of gold_token over the full vocabulary", optional: true, since: "1.2"),
            DumpDataset("argmax", ["prompt", "head_set"], .int32, "ablation, fv_vs_induction: full-vocabulary argmax", optional: true, since: "1.2"),
            DumpDataset("correct", ["prompt", "head_set"], .uint8, "ablation, fv_vs_induction: 1 when argmax = gold_token (accuracy)", optional: true, since: "1.2"),
            DumpDataset("in_label_set", ["prompt", "head_set"], .uint8, "ablation, fv_vs_induction, classification sets: 1 when argmax is one of label_ids (label-set ratio)", optional: true, since: "1.2"),
            DumpDataset("label_logits", ["prompt", "head_set", "label"], .float32, "ablation, fv_vs_induction: logits of label_ids", optional: true, since: "1.2"),
            DumpDataset("corrupted_gold_prob", ["prompt"], .float32, "cie: P(gold_token) on the prompt as it is (a shuffled-labels prompt)", optional: true, since: "1.2"),
            DumpDataset("gold_prob", ["prompt", "layer", "head"], .float32, "cie: P(gold_token) with that head's z at the last position replaced by the clean mean", optional: true, since: "1.2"),
            DumpDataset("cie", ["prompt", "layer", "head"], .float32, "cie: gold_prob - corrupted_gold_prob, the causal indirect effect of the head", optional: true, since: "1.2"),
            DumpDataset("mean_prompt_index", ["mean_prompt"], .int32, "prompt_index of the clean prompts the mean came from", optional: true, since: "1.2"),
        ] + steeringSetDatasets + [
            DumpDataset("done", ["prompt"], .uint8, "1 once the prompt's rows are written; rows with 0 hold no data", since: "1.2"),
        ])

    /// Steering (`--steer`) and FV-vs-induction (`--fv-vs-induction`) runs: the run group's
    /// own dimensions (docs/methods.md §16, §17).
    public static let steeringDimensions = [
        DumpDimension(name: "steer_vector", meaning: "steering: a task vector; entry 0 is \"none\", no vector"),
        DumpDimension(name: "steer_layer", meaning: "steering: a layer whose resid_pre receives the vector"),
        DumpDimension(name: "d_model", meaning: "steering: residual stream channels (as the root's)"),
        DumpDimension(name: "generated", meaning: "fv_vs_induction: a greedily generated token"),
    ]

    public static let steeringDatasets = [
        DumpDataset("steer_vector_name", ["steer_vector"], .string, "steering: each vector's name in its task-vector file; \"none\" first", optional: true, since: "1.2"),
        DumpDataset("steer_vector_values", ["steer_vector", "d_model"], .float32, "steering: each vector as added, scale included (zero for \"none\")", optional: true, since: "1.2"),
        DumpDataset("steer_layer_index", ["steer_layer"], .int32, "steering: the layer l whose resid_pre receives the vector", optional: true, since: "1.2"),
        DumpDataset("steer_vector_family", ["steer_vector"], .string,
                    "steering: what each vector's head set is: \"none\" first, then tr or tl (the top set by that score), another score's name (dla, induction, fv), random (a random control set) or other (TaskVectorFile.Vector.family)",
                    optional: true, since: "1.3"),
        DumpDataset("head_set_family", ["head_set"], .string, "fv_vs_induction: none, fv, induction, fv_excluding_induction, induction_excluding_fv, tr, tl (format 1.3, with --tr / --tl rankings) or random", optional: true, since: "1.2"),
        DumpDataset("head_set_percent", ["head_set"], .float32, "fv_vs_induction: k of the top-k% set (0 for none)", optional: true, since: "1.2"),
    ]

    public static let steeringSetDatasets = [
        DumpDataset("steer_gold_logprob", ["prompt", "steer_vector", "steer_layer"], .float32, "steering: log-probability of gold_token over the full vocabulary with the vector added", optional: true, since: "1.2"),
        DumpDataset("steer_argmax", ["prompt", "steer_vector", "steer_layer"], .int32, "steering: full-vocabulary argmax", optional: true, since: "1.2"),
        DumpDataset("steer_correct", ["prompt", "steer_vector", "steer_layer"], .uint8, "steering: 1 when argmax = gold_token (accuracy)", optional: true, since: "1.2"),
        DumpDataset("steer_in_label_set", ["prompt", "steer_vector", "steer_layer"], .uint8, "steering, classification sets: 1 when argmax is one of label_ids (label-set ratio)", optional: true, since: "1.2"),
        DumpDataset("steer_label_logits", ["prompt", "steer_vector", "steer_layer", "label"], .float32, "steering: logits of label_ids", optional: true, since: "1.2"),
        DumpDataset("outside_scoring", ["prompt", "steer_vector"], .uint8, "steering: 1 when the prompt's query is not the query of any prompt the vector was computed from (evaluate on these); 1 for \"none\"", optional: true, since: "1.2"),
        DumpDataset("generated_ids", ["prompt", "head_set", "generated"], .int32, "fv_vs_induction: greedy continuation under the ablation (at the last prompt token and every generated token); -1 after EOS", optional: true, since: "1.2"),
        DumpDataset("generation_f1", ["prompt", "head_set"], .float32, "fv_vs_induction: token F1 of the continuation against gold_text (docs/methods.md §17)", optional: true, since: "1.2"),
    ]

    /// What `icl-capture intervene` adds to a dump.
    public static let interventionGroups = [intervention, interventionSet]

    /// Every group of the format, as schemas/ documents it.
    public static let allGroups = groups + interventionGroups
}
