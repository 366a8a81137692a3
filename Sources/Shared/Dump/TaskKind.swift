/// What a task's outputs are; the dump stores it as the set attribute `task_kind`.
public enum TaskKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Every output is one of the task's `labels`.
    case classification
    /// Any string may be an output (antonyms, capitals, ...).
    case open
}
