import Shared

/// A task's pairs divided once and for all into queries and demonstrations, so that no
/// prompt shows as a demonstration a pair that any prompt asks as its query.
///
/// The split depends only on the task's name and pairs, not on a prompt set's seed: every
/// prompt set of a task draws queries from the same pool. Pairs are grouped by output for
/// classification tasks (one group for open tasks); each group, in file order, is shuffled
/// with `SplitMix64(seed: derive(fnv1a(name), PromptStream.split))`, groups taken in label
/// order, and the pairs at even positions of a shuffled group become queries, those at odd
/// positions demonstrations. Each label therefore has about half its pairs in each pool.
public struct TaskSplit: Sendable, Hashable, Codable {
    /// Indices into the task's pairs, ascending.
    public let queryPairs: [Int]
    /// Indices into the task's pairs, ascending.
    public let demonstrationPairs: [Int]

    public init(task: TaskFile) {
        var rng = SplitMix64(seed: SplitMix64.derive(SplitMix64.fnv1a(task.name), PromptStream.split.rawValue))
        let groups: [[Int]]
        switch task.kind {
        case .classification:
            groups = task.labels.map { label in task.pairs.indices.filter { task.pairs[$0].output == label } }
        case .open:
            groups = [Array(task.pairs.indices)]
        }
        var queries: [Int] = []
        var demonstrations: [Int] = []
        for var group in groups {
            rng.shuffle(&group)
            for (position, pairIndex) in group.enumerated() {
                if position % 2 == 0 { queries.append(pairIndex) } else { demonstrations.append(pairIndex) }
            }
        }
        queryPairs = queries.sorted()
        demonstrationPairs = demonstrations.sorted()
    }
}
