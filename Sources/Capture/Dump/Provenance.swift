import Foundation
import Shared

/// The tools' version; the commit they were built from is fixed at build time (CLISupport's
/// BuildCommit, written by Plugins/BuildCommit).
public enum ToolVersion {
    public static let string = "0.1.0"
}

public enum ModelFiles {
    /// sha256 of a GGUF file, or of a Hugging Face folder's safetensors files read one after
    /// another in name order.
    public static func sha256(of model: LoadedModel) throws -> String {
        guard model.format == .huggingFace else { return try SHA256.hexDigest(ofFile: model.path) }
        let files = try FileManager.default.contentsOfDirectory(atPath: model.path)
            .filter { $0.hasSuffix(".safetensors") }.sorted()
        var hasher = SHA256()
        for name in files {
            let path = (model.path as NSString).appendingPathComponent(name)
            guard let handle = FileHandle(forReadingAtPath: path) else { throw InputError(file: path, "cannot be read") }
            defer { try? handle.close() }
            while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty { hasher.update(chunk) }
        }
        return hasher.finalize()
    }
}

/// The choices a capture makes where the methods differ (docs/methods.md), written into every dump.
public enum CaptureDefinitions {
    public static let entries: [String: String] = [
        "z": "input of the attention output projection (o_proj), split into head_dim slices per query head",
        "head_output": "a_h = z_h @ W_O[l, h]; attn_out = sum_h a_h + b_O",
        "resid": "resid_pre of each layer (the layer's input), then resid_final (input of the final norm)",
        "final_norm_scale": "1/sqrt(mean(resid_final^2) + eps) (RMSNorm) or 1/sqrt(var(resid_final) + eps) (LayerNorm, /model final_norm_kind \"layer\") from the real forward pass: direct logit attribution with it is additive",
        "answer_position": "the last prompt token, which predicts the first answer token",
        "label_position": "with --positions labels: the token before each demonstration output's first token",
        "label_token": "first token of the label in the template's output format (leading space included)",
        "head_label_logits": "final_norm_scale * sum_d final_norm_weight[d] * a[d] * W_U[label, d] with a = z_h @ W_O[l, h] (for LayerNorm a - mean(a): the centring is linear): head h's direct contribution to the label logit through the frozen final-norm scale, without b_O; computed from the fp32 activations",
        "resid_label_logits": "final_norm_scale * sum_d final_norm_weight[d] * resid[d] * W_U[label, d] (LayerNorm: resid - mean(resid), plus sum_d final_norm_bias[d] * W_U[label, d]) for each stored residual stream, with the position's frozen final-norm scale (a logit lens that does not renormalise per layer); the resid_final entry at the answer position is label_logits",
        "token_text": "the vocabulary entry as text: byte-level pieces decoded to UTF-8, SentencePiece's word marker as a space, special tokens as written; bytes that are not valid UTF-8 as <0xNN>",
        "gold_logprob": "log softmax over the full vocabulary at the answer position, of the gold answer's first token",
        "attention": "softmax probabilities from the answer position to every key, per head (rows sum to 1)",
        "bos": "added only when the model's tokenizer config says so, unless --bos/--no-bos; never doubled",
        "probe": "BOS (when used) + R random ordinary tokens (no special, unused or byte-fallback ids) repeated twice",
        "gradient_metric": AnswerMetric.allCases.map { "\($0.rawValue): \($0.definition)" }.joined(separator: "; "),
        "gradients": "with --grads: M (root attribute gradient_metric) read at each prompt's answer position; grad_z and grad_resid are dM/dz and dM/d resid at the captured positions, from a float32 reverse pass through every layer with nothing frozen (the final norm's scale included), stored in the activation dtype; grad_z_position_sum is dM/dz summed over every token of the prompt, float32 from Double sums",
        "head_zgrad": "z_h . dM/dz_h per head from the float32 values, at the answer position (head_zgrad_answer) and summed over every token of the prompt (head_zgrad_all_positions); minus it is the first-order estimate of zero-ablating the head there",
    ]

    public static var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(entries)) ?? Data(), as: UTF8.self)
    }
}
