// Legend: N = vocabulary rows the logits run over, D = d_model.

/// The vocabulary the fake model's full logits run over: every token (full unembedding), or
/// only the stored rows, the other V - N tokens then sharing one logit `unstoredLogitGap`
/// below the prompt's lowest stored logit. That keeps the dump a possible model's output:
/// argmax and top-k are stored tokens (padded with the lowest unstored ids when N < K) and
/// gold_logprob = logit_gold - log(sum_stored exp(logit) + (V - N) exp(min_logit - gap)).
struct SyntheticVocabularyTable {
    let ids: [Int32]              // [N]
    let foldedRows: [Float]       // [N, D]: gamma ⊙ w_t
    let rowOfToken: [Int32: Int]
    let vocabularySize: Int
    let dModel: Int
    /// The lowest ids without a stored row, for top-k padding.
    let unstoredIDs: [Int32]

    static let unstoredLogitGap: Float = 20

    init(ids: [Int32], model: SyntheticModel, topK: Int) {
        self.ids = ids
        let d = model.spec.dModel, gamma = model.finalNormWeight
        var rows = model.unembedding(rows: ids)
        for i in 0..<ids.count { for j in 0..<d { rows[i * d + j] *= gamma[j] } }
        foldedRows = rows
        rowOfToken = Dictionary(ids.enumerated().map { ($1, $0) }) { first, _ in first }
        vocabularySize = model.spec.vocabulary
        dModel = d
        let stored = Set(ids)
        unstoredIDs = Array((0..<Int32(vocabularySize)).lazy.filter { !stored.contains($0) }.prefix(topK))
    }

    func foldedRow(of token: Int32) -> ArraySlice<Float>? {
        guard let row = rowOfToken[token] else { return nil }
        return foldedRows[(row * dModel)..<((row + 1) * dModel)]
    }
}
