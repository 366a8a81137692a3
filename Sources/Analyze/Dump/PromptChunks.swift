/// How the passes over a set split its done prompts for streaming: runs of consecutive rows of
/// one file (at most `size` rows, each holding at least one done prompt), and where each done
/// row's values go (its slot in prompt-index order).
struct PromptChunks {
    /// slot[file][row]: the prompt's index in `SetRows` order, for done rows.
    let slot: [[Int: Int]]
    let chunks: [(file: Int, rows: Range<Int>)]

    init(rows: SetRows, files: Int, size: Int) {
        var slot: [[Int: Int]] = Array(repeating: [:], count: files)
        for (index, location) in rows.locations.enumerated() { slot[location.file][location.row] = index }
        var chunks: [(file: Int, rows: Range<Int>)] = []
        for f in 0..<files {
            let doneRows = slot[f].keys.sorted()
            var i = 0
            while i < doneRows.count {
                let start = doneRows[i]
                var end = start + 1
                i += 1
                while i < doneRows.count && doneRows[i] < start + size { end = doneRows[i] + 1; i += 1 }
                chunks.append((f, start..<end))
            }
        }
        self.slot = slot
        self.chunks = chunks
    }
}
