import Foundation

/// Collects the elements of one figure and wraps them in a standalone SVG 1.1 document.
/// Coordinates are user units (pixels at 100 %), printed with at most two decimals so that
/// the same figure always gives the same bytes.
struct SVGCanvas {
    enum Anchor: String { case start, middle, end }

    private var definitions = ""
    private var body = ""

    /// Adds raw content to <defs> (patterns, gradients); the caller builds it from escaped parts.
    mutating func define(_ element: String) {
        definitions += element + "\n"
    }

    mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String,
                       stroke: String? = nil, strokeWidth: Double = 1, opacity: Double? = nil) {
        var element = "<rect x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" width=\"\(Self.number(width))\" height=\"\(Self.number(height))\" fill=\"\(fill)\""
        if let stroke { element += " stroke=\"\(stroke)\" stroke-width=\"\(Self.number(strokeWidth))\"" }
        if let opacity { element += " fill-opacity=\"\(Self.number(opacity))\"" }
        body += element + "/>\n"
    }

    mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String,
                       width: Double = 1, dashed: Bool = false) {
        var element = "<line x1=\"\(Self.number(x1))\" y1=\"\(Self.number(y1))\" x2=\"\(Self.number(x2))\" y2=\"\(Self.number(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(Self.number(width))\""
        if dashed { element += " stroke-dasharray=\"4 3\"" }
        body += element + "/>\n"
    }

    mutating func circle(cx: Double, cy: Double, radius: Double, fill: String,
                         stroke: String? = nil, opacity: Double? = nil) {
        var element = "<circle cx=\"\(Self.number(cx))\" cy=\"\(Self.number(cy))\" r=\"\(Self.number(radius))\" fill=\"\(fill)\""
        if let stroke { element += " stroke=\"\(stroke)\" stroke-width=\"0.75\"" }
        if let opacity { element += " fill-opacity=\"\(Self.number(opacity))\"" }
        body += element + "/>\n"
    }

    /// An open line through `points`, drawn only when there are at least two.
    mutating func polyline(_ points: [(x: Double, y: Double)], stroke: String, width: Double) {
        guard points.count >= 2 else { return }
        body += "<polyline points=\"\(Self.points(points))\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(Self.number(width))\" stroke-linejoin=\"round\"/>\n"
    }

    mutating func polygon(_ points: [(x: Double, y: Double)], fill: String, opacity: Double) {
        guard points.count >= 3 else { return }
        body += "<polygon points=\"\(Self.points(points))\" fill=\"\(fill)\" fill-opacity=\"\(Self.number(opacity))\" stroke=\"none\"/>\n"
    }

    /// Text whose baseline sits at `y`; `rotation` in degrees turns it about (x, y).
    /// `halo` draws a white outline underneath first, for labels placed over data.
    mutating func text(_ text: String, x: Double, y: Double, size: Double, anchor: Anchor = .start,
                       bold: Bool = false, fill: String = "#222222", rotation: Double = 0, halo: Bool = false) {
        var attributes = "x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" font-size=\"\(Self.number(size))\""
        if anchor != .start { attributes += " text-anchor=\"\(anchor.rawValue)\"" }
        if bold { attributes += " font-weight=\"bold\"" }
        if rotation != 0 {
            attributes += " transform=\"rotate(\(Self.number(rotation)) \(Self.number(x)) \(Self.number(y)))\""
        }
        let content = MarkupText.escape(text)
        if halo {
            body += "<text \(attributes) fill=\"none\" stroke=\"#ffffff\" stroke-width=\"3\" stroke-linejoin=\"round\">\(content)</text>\n"
        }
        body += "<text \(attributes) fill=\"\(fill)\">\(content)</text>\n"
    }

    /// Opens a group whose attributes (already escaped) apply to everything until `endGroup`.
    mutating func beginGroup(_ attributes: String) {
        body += "<g \(attributes)>\n"
    }

    mutating func endGroup() {
        body += "</g>\n"
    }

    /// The standalone document: `title` is the accessible name, `summary` its <desc>.
    func document(width: Double, height: Double, title: String, summary: String) -> String {
        let w = Self.number(width.rounded(.up)), h = Self.number(height.rounded(.up))
        var svg = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"\(w)\" height=\"\(h)\" viewBox=\"0 0 \(w) \(h)\" font-family=\"sans-serif\" role=\"img\">\n"
        svg += "<title>\(MarkupText.escape(title))</title>\n"
        svg += "<desc>\(MarkupText.escape(summary))</desc>\n"
        if !definitions.isEmpty { svg += "<defs>\n\(definitions)</defs>\n" }
        svg += "<rect x=\"0\" y=\"0\" width=\"\(w)\" height=\"\(h)\" fill=\"#ffffff\"/>\n"
        svg += body
        svg += "</svg>\n"
        return svg
    }

    /// A coordinate with at most two decimals and no trailing zeros. Non-finite values are
    /// printed as they are (`nan`, `inf`): a figure that contains one has a bug the tests catch.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "\(value)" }
        let rounded = (value * 100).rounded() / 100
        if rounded == rounded.rounded(), abs(rounded) < 1e15 { return String(Int(rounded)) }
        var text = NumberText.format("%.2f", rounded)
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }

    private static func points(_ points: [(x: Double, y: Double)]) -> String {
        points.map { "\(number($0.x)),\(number($0.y))" }.joined(separator: " ")
    }
}
