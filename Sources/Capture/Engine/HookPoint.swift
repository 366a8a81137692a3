/// The activations the engine exposes, named once for the engine, the dump layout and the docs
/// (TransformerLens's `blocks.{l}.hook_*` vocabulary). Shapes use the engine legend:
/// N = tokens of the packed batch, T and S = query and key counts of one sequence,
/// D = d_model, H = query heads, E = head_dim, V = vocabulary.
public enum HookPoint: Hashable, Sendable, CustomStringConvertible {
    /// Residual stream entering layer l: [N, D]. Writes change what the layer sees.
    case residPre(Int)
    /// Per-head attention output before W_O (the input of o_proj): [N, H, E]. Writes (e.g.
    /// zeroing one head's slice) change attn_out.
    case z(Int)
    /// Attention probabilities of one sequence: [H, T, S] (rows sum to 1). Computed only when
    /// hooked; writes are ignored.
    case attnPattern(Int)
    /// The attention probabilities of each sequence's last new token only: [H, S] per
    /// sequence (the answer position's row of attnPattern, without computing the rest).
    case attnLastQuery(Int)
    /// Attention block output z · W_O^T + b_O: [N, D]. Gemma 3: what the block adds to the
    /// residual stream, the post-attention norm of z · W_O^T (docs/methods.md §24).
    case attnOut(Int)
    /// Gemma 3: the post-attention norm's per-token scale s = 1 / sqrt(mean(o^2) + eps) of the
    /// attention output o = z · W_O^T, so that attn_out = gamma * (o * s): [N]. Writes are ignored.
    case attnPostNormScale(Int)
    /// resid_pre + attn_out: [N, D]. With a parallel residual (GPT-NeoX) the MLP reads
    /// resid_pre instead, so a write here changes only the layer's output.
    case residMid(Int)
    /// MLP block output: [N, D] (Gemma 3: after the post-feedforward norm).
    case mlpOut(Int)
    /// Residual stream before the final norm: [N, D].
    case residFinal
    /// The final RMSNorm's per-token scale 1 / sqrt(mean(x^2) + eps): [N].
    case finalNormScale
    /// Logits of the selected rows: [rows, V].
    case logits

    public var description: String {
        switch self {
        case .residPre(let l): "blocks.\(l).hook_resid_pre"
        case .z(let l): "blocks.\(l).attn.hook_z"
        case .attnPattern(let l): "blocks.\(l).attn.hook_pattern"
        case .attnLastQuery(let l): "blocks.\(l).attn.hook_pattern_last_query"
        case .attnOut(let l): "blocks.\(l).hook_attn_out"
        case .attnPostNormScale(let l): "blocks.\(l).ln1_post.hook_scale"
        case .residMid(let l): "blocks.\(l).hook_resid_mid"
        case .mlpOut(let l): "blocks.\(l).hook_mlp_out"
        case .residFinal: "hook_resid_final"
        case .finalNormScale: "ln_final.hook_scale"
        case .logits: "hook_logits"
        }
    }
}
