import Foundation

/// A figure that renders itself as a standalone SVG file.
public protocol SVGFigure: Sendable {
    var title: String { get }
    func svg() -> String
}

extension SVGFigure {
    /// Writes the SVG (UTF-8) to `url`, replacing any file there.
    public func write(to url: URL) throws {
        try Data(svg().utf8).write(to: url, options: .atomic)
    }
}
