import Shared

/// Random-token sequences repeated twice, the standard probe for induction heads (Olsson
/// et al. 2022): on the second copy an induction head attends from each token to the token
/// after its first occurrence, and the model predicts it.
///
/// Sequence s draws `repeatLength` distinct ordinary token ids (ids below the vocabulary size
/// that `isSpecial` rejects are never drawn) with `SplitMix64.sample` seeded by
/// `derive(seed, PromptStream.induction, s)`, from the ordinary ids in ascending order, and
/// is that draw followed by itself. Distinct ids make the token to predict unambiguous.
/// A BOS token, if the model wants one, is the caller's to prepend.
public struct InductionProbe: Sendable, Hashable, Codable {
    public let vocabularySize: Int
    public let sequenceCount: Int
    /// R: each sequence is 2R ids long.
    public let repeatLength: Int
    public let seed: UInt64

    public init(vocabularySize: Int, sequenceCount: Int, repeatLength: Int = 50, seed: UInt64) {
        self.vocabularySize = vocabularySize
        self.sequenceCount = sequenceCount
        self.repeatLength = repeatLength
        self.seed = seed
    }

    /// The `sequenceCount` sequences of 2R token ids each.
    public func sequences(isSpecial: (Int32) -> Bool) throws -> [[Int32]] {
        guard vocabularySize > 0, vocabularySize <= Int(Int32.max), sequenceCount >= 0, repeatLength >= 1 else {
            throw InputError(file: nil, "induction probe: need 0 < vocabulary size <= 2^31 - 1, sequence count >= 0, "
                                 + "repeat length >= 1; got \(vocabularySize), \(sequenceCount), \(repeatLength)")
        }
        let ordinary = (0..<Int32(vocabularySize)).filter { !isSpecial($0) }
        guard ordinary.count >= repeatLength else {
            throw InputError(file: nil, "induction probe: \(ordinary.count) ordinary tokens cannot give \(repeatLength) distinct ones")
        }
        return (0..<sequenceCount).map { s in
            var rng = SplitMix64(seed: SplitMix64.derive(seed, PromptStream.induction.rawValue, UInt64(s)))
            let half = rng.sample(repeatLength, from: ordinary.count).map { ordinary[$0] }
            return half + half
        }
    }
}
