/// A checkpoint's tensors by name, whatever the file format: the weight assembler reads GGUF
/// files and Hugging Face safetensors through this one view.
protocol TensorSource {
    /// The file or folder, for error messages.
    var path: String { get }
    var tensorNames: [String] { get }
    /// Row-major shape, outermost first ([out, in] for a projection), as Hugging Face writes it.
    func shape(of name: String) -> [Int]?
    /// fp32 values in row-major order.
    func floats(_ name: String) throws -> [Float]
}
