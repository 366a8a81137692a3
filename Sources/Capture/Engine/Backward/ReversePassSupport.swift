import Shared

extension ModelConfig {
    /// The reverse pass differentiates pre-norm blocks with RMSNorm or LayerNorm, SwiGLU or GELU
    /// MLPs; Gemma 3's q/k norms, block output norms and GeGLU are not differentiated yet, so its
    /// gradients are refused before any work starts. `model` names the model file.
    public func checkReversePassSupported(model: String? = nil) throws {
        if architecture == .gemma3 {
            throw InputError(file: model, "gradients (--grads) are not supported for gemma3 models: the reverse pass does not differentiate Gemma 3's q/k norms, post-block norms and GeGLU MLP")
        }
    }
}
