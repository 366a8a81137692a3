/// The key of a chart: one row per group or series, drawn to the right of the plot.
struct Legend {
    enum Swatch {
        case point(RGBColor)
        case line(RGBColor, band: Bool)
        case box(RGBColor)
        /// A reference distribution: grey box with its median and a few points.
        case spread
    }

    struct Entry {
        let name: String
        let swatch: Swatch
    }

    static let fontSize = 12.0
    static let rowHeight = 18.0
    static let swatchWidth = 20.0

    let entries: [Entry]

    var width: Double {
        entries.isEmpty ? 0 : Self.swatchWidth + 6 + TextMetrics.widest(entries.map(\.name), fontSize: Self.fontSize)
    }

    var height: Double { Double(entries.count) * Self.rowHeight }

    /// Draws the rows from (`x`, `y`), the top left corner.
    func draw(into canvas: inout SVGCanvas, x: Double, y: Double) {
        for (row, entry) in entries.enumerated() {
            let middle = y + (Double(row) + 0.5) * Self.rowHeight
            switch entry.swatch {
            case .point(let color):
                canvas.circle(cx: x + Self.swatchWidth / 2, cy: middle, radius: 4, fill: color.hex)
            case .line(let color, let band):
                if band {
                    canvas.rect(x: x, y: middle - 5, width: Self.swatchWidth, height: 10, fill: color.hex, opacity: 0.2)
                }
                canvas.line(x1: x, y1: middle, x2: x + Self.swatchWidth, y2: middle, stroke: color.hex, width: 2)
            case .box(let color):
                canvas.rect(x: x + 3, y: middle - 6, width: Self.swatchWidth - 6, height: 12, fill: color.hex)
            case .spread:
                canvas.rect(x: x + 3, y: middle - 7, width: Self.swatchWidth - 6, height: 14,
                            fill: ReferenceSpread.boxFill, stroke: ReferenceSpread.boxStroke)
                canvas.line(x1: x + 3, y1: middle, x2: x + Self.swatchWidth - 3, y2: middle, stroke: "#222222", width: 1.5)
                canvas.circle(cx: x + 7, cy: middle - 3.5, radius: 1.6, fill: ReferenceSpread.pointFill)
                canvas.circle(cx: x + 13, cy: middle + 3.5, radius: 1.6, fill: ReferenceSpread.pointFill)
            }
            canvas.text(entry.name, x: x + Self.swatchWidth + 6, y: middle + Self.fontSize * 0.35, size: Self.fontSize)
        }
    }
}
