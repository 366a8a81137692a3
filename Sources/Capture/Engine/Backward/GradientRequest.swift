import Shared

/// The hook points whose gradients a reverse pass hands out, in the forward hooks' vocabulary:
/// `.z(l)` [N, H, E], `.residPre(l)` [N, D], `.residFinal` [N, D] (packed over the batch) and
/// `.attnPattern(l)` [H, T, S] (one tensor per sequence). The gradient of a point is
/// dM/d(point) with M the sum over sequences of each sequence's metric; a sequence's metric
/// depends only on its own rows, so each sequence's rows hold its own metric's gradient.
public struct GradientRequest: Sendable, Equatable {
    public var points: Set<HookPoint>

    public init(_ points: some Sequence<HookPoint>) {
        self.points = Set(points)
    }

    /// z and resid_pre of every layer, and resid_final.
    public static func headsAndResidual(layers: Int) -> GradientRequest {
        GradientRequest((0..<layers).flatMap { [HookPoint.z($0), .residPre($0)] } + [.residFinal])
    }

    func validate(layers: Int) throws {
        for point in points {
            switch point {
            case .z(let l), .residPre(let l), .attnPattern(let l):
                if l < 0 || l >= layers {
                    throw InputError(file: nil, "gradient of \(point): the model has layers 0..<\(layers)")
                }
            case .residFinal:
                break
            default:
                throw InputError(file: nil, "gradient of \(point) is not computed (z, resid_pre, resid_final and attention patterns are)")
            }
        }
    }
}

/// One gradient handed to the receiver of a reverse pass. `values` is valid only during the
/// call; the receiver copies what it keeps.
public struct GradientTensor {
    public let point: HookPoint
    /// Row-major shape, as the forward hook of the same point has it.
    public let shape: [Int]
    public let values: UnsafeBufferPointer<Float>
    public let layout: BatchLayout
    /// The sequence index for per-sequence points (attnPattern); nil for packed [N, ...] points.
    public let sequence: Int?
}
