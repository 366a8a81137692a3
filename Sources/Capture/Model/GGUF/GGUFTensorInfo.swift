/// One entry of a GGUF file's tensor table, checked against the file when it was read.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    /// ggml order: dimensions[0] (ne[0]) varies fastest, so a matrix stored as rows of length n
    /// with m rows is [n, m].
    public let dimensions: [Int]
    public let type: GGMLType
    /// Byte offset of the data from the start of the file's data section.
    public let offset: Int
    public let byteCount: Int
    private let storedElementCount: Int

    /// The product of the dimensions.
    public var elementCount: Int { storedElementCount }

    /// Only the reader makes these, after checking that the count and size fit.
    init(name: String, dimensions: [Int], type: GGMLType, offset: Int, byteCount: Int, elementCount: Int) {
        self.name = name
        self.dimensions = dimensions
        self.type = type
        self.offset = offset
        self.byteCount = byteCount
        self.storedElementCount = elementCount
    }
}
