/// A problem with something the user gave us (a model file, a task file, a dump, a path):
/// printed as one line naming the file and the problem, and the command exits non-zero.
public struct InputError: Error, CustomStringConvertible, Equatable {
    /// The file or item at fault, when there is one.
    public let file: String?
    public let problem: String

    public init(file: String?, _ problem: String) {
        self.file = file
        self.problem = problem
    }

    public var description: String {
        guard let file else { return problem }
        return "\(file): \(problem)"
    }
}
