import Foundation

/// A score per (row, column) cell as colours: rows are layers, 0 at the top, columns heads.
/// Values of both signs use a diverging map centred on 0, otherwise a sequential one; missing
/// (NaN) cells are hatched grey; chosen cells (the top heads) are outlined. Cell sizes adapt
/// from 2 x 2 up to 80 x 64 and more, and tick labels are thinned to stay legible.
public struct Heatmap: SVGFigure {
    public struct Cell: Hashable, Sendable, Comparable {
        public var row: Int
        public var column: Int

        public init(row: Int, column: Int) {
            self.row = row
            self.column = column
        }

        public static func < (a: Cell, b: Cell) -> Bool { (a.row, a.column) < (b.row, b.column) }
    }

    public var title: String
    /// values: [rows, columns], row-major. Cells beyond the end of the array count as missing.
    public var values: [Double]
    public var rows: Int
    public var columns: Int
    public var rowAxisName: String
    public var columnAxisName: String
    /// What the colours measure, written along the colour bar.
    public var valueLabel: String
    public var highlighted: Set<Cell>
    /// The legend line for the outlined cells ("top 10 TR heads"); nil for none.
    public var highlightLabel: String?

    static let tickSize = 11.0
    static let labelSize = 13.0
    static let titleSize = 15.0
    static let padding = 12.0
    static let barWidth = 14.0
    static let keyRowHeight = 18.0

    public init(title: String, values: [Double], rows: Int, columns: Int, rowAxisName: String = "layer",
                columnAxisName: String = "head", valueLabel: String, highlighted: Set<Cell> = [],
                highlightLabel: String? = nil) {
        self.title = title
        self.values = values
        self.rows = rows
        self.columns = columns
        self.rowAxisName = rowAxisName
        self.columnAxisName = columnAxisName
        self.valueLabel = valueLabel
        self.highlighted = highlighted
        self.highlightLabel = highlightLabel
    }

    /// The value of a cell; NaN outside the grid or beyond the end of `values`.
    public func value(row: Int, column: Int) -> Double {
        guard row >= 0, row < rows, column >= 0, column < columns else { return .nan }
        let index = row * columns + column
        return index < values.count ? values[index] : .nan
    }

    /// How values become colours: the map and the value range its ends stand for.
    public struct ColorScale: Sendable, Equatable {
        public let map: ColorMap
        public let lower: Double
        public let upper: Double

        public var isDiverging: Bool { map == .diverging }

        /// Diverging over -m...m (m the largest magnitude) when the finite values have both
        /// signs, else sequential over their range.
        public init(values: [Double]) {
            let finite = values.filter(\.isFinite)
            let low = finite.min() ?? 0, high = finite.max() ?? 1
            if low < 0 && high > 0 {
                let magnitude = max(-low, high)
                map = .diverging
                lower = -magnitude
                upper = magnitude
            } else {
                map = .sequential
                lower = low
                upper = high
            }
        }

        public func color(_ value: Double) -> RGBColor {
            map.color(at: upper > lower ? (value - lower) / (upper - lower) : 0.5)
        }
    }

    public func svg() -> String {
        let rows = max(self.rows, 0), columns = max(self.columns, 0)
        let cells = (0..<rows).flatMap { row in (0..<columns).map { value(row: row, column: $0) } }
        let scale = ColorScale(values: cells)
        let missing = cells.filter { !$0.isFinite }.count
        let outlined = highlighted.filter { $0.row >= 0 && $0.row < rows && $0.column >= 0 && $0.column < columns }.sorted()

        let cellHeight = min(max((540 / Double(max(rows, 1))).rounded(.down), 6), 28)
        let cellWidth = min(max((480 / Double(max(columns, 1))).rounded(.down), 6), 40)
        let plotWidth = Double(columns) * cellWidth, plotHeight = Double(rows) * cellHeight
        let rowLabelWidth = TextMetrics.width(String(max(rows - 1, 0)), fontSize: Self.tickSize)
        let columnLabelWidth = TextMetrics.width(String(max(columns - 1, 0)), fontSize: Self.tickSize)
        let rowStep = Self.labelStep(spacing: cellHeight, needed: Self.tickSize + 3)
        let columnStep = Self.labelStep(spacing: cellWidth, needed: columnLabelWidth + 6)

        let plotLeft = Self.padding + Self.labelSize + 10 + rowLabelWidth + 7
        let plotTop = Self.padding + Self.titleSize + 14
        let plotBottom = plotTop + plotHeight

        var canvas = SVGCanvas()
        canvas.define("<pattern id=\"missing\" patternUnits=\"userSpaceOnUse\" width=\"6\" height=\"6\" patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"\(Palette.missingFill)\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"\(Palette.missingHatch)\" stroke-width=\"2\"/></pattern>")
        canvas.beginGroup("shape-rendering=\"crispEdges\"")
        for row in 0..<rows {
            for column in 0..<columns {
                let value = self.value(row: row, column: column)
                canvas.rect(x: plotLeft + Double(column) * cellWidth, y: plotTop + Double(row) * cellHeight,
                            width: cellWidth, height: cellHeight,
                            fill: value.isFinite ? scale.color(value).hex : "url(#missing)")
            }
        }
        canvas.endGroup()
        for cell in outlined {
            drawOutline(x: plotLeft + Double(cell.column) * cellWidth, y: plotTop + Double(cell.row) * cellHeight,
                        width: cellWidth, height: cellHeight, into: &canvas)
        }

        for row in stride(from: 0, to: rows, by: rowStep) {
            let y = plotTop + (Double(row) + 0.5) * cellHeight
            canvas.line(x1: plotLeft - 4, y1: y, x2: plotLeft, y2: y, stroke: Palette.axisLine)
            canvas.text(String(row), x: plotLeft - 7, y: y + Self.tickSize * 0.35, size: Self.tickSize, anchor: .end)
        }
        for column in stride(from: 0, to: columns, by: columnStep) {
            let x = plotLeft + (Double(column) + 0.5) * cellWidth
            canvas.line(x1: x, y1: plotBottom, x2: x, y2: plotBottom + 4, stroke: Palette.axisLine)
            canvas.text(String(column), x: x, y: plotBottom + 7 + Self.tickSize, size: Self.tickSize, anchor: .middle)
        }
        canvas.text(rowAxisName, x: Self.padding + Self.labelSize, y: plotTop + plotHeight / 2,
                    size: Self.labelSize, anchor: .middle, rotation: -90)
        let columnNameBaseline = plotBottom + 7 + Self.tickSize + 8 + Self.labelSize
        canvas.text(columnAxisName, x: plotLeft + plotWidth / 2, y: columnNameBaseline, size: Self.labelSize, anchor: .middle)
        canvas.text(title, x: Self.padding, y: Self.padding + Self.titleSize, size: Self.titleSize, bold: true)

        let keyLeft = plotLeft + plotWidth + 20
        let key = drawKey(scale, left: keyLeft, top: plotTop, plotHeight: plotHeight,
                          missing: missing > 0, outlined: !outlined.isEmpty, into: &canvas)
        let titleRight = Self.padding + TextMetrics.width(title, fontSize: Self.titleSize)
        let width = max(key.right, titleRight, plotLeft + plotWidth / 2 + TextMetrics.width(columnAxisName, fontSize: Self.labelSize) / 2) + Self.padding
        let height = max(columnNameBaseline, key.bottom) + Self.padding

        let range = cells.contains(where: \.isFinite)
            ? "values from \(Self.format(cells.filter(\.isFinite).min() ?? 0)) to \(Self.format(cells.filter(\.isFinite).max() ?? 0))"
            : "no values"
        let summary = "Heatmap of \(valueLabel) over \(rows) \(rowAxisName)s (rows, 0 at the top) and \(columns) "
            + "\(columnAxisName)s (columns): \(range)" + (missing > 0 ? ", \(missing) missing" : "")
            + (outlined.isEmpty ? "." : "; \(outlined.count) cells outlined.")
        return canvas.document(width: width, height: height, title: title, summary: summary)
    }

    /// The colour bar with its end (and zero) labels and the value name, then key rows for
    /// missing and outlined cells. Returns the right and bottom edges of what it drew.
    private func drawKey(_ scale: ColorScale, left: Double, top: Double, plotHeight: Double, missing: Bool,
                         outlined: Bool, into canvas: inout SVGCanvas) -> (right: Double, bottom: Double) {
        // As tall as the plot within limits, and never shorter than the value name beside it.
        let barHeight = max(min(max(plotHeight, 120), 320), TextMetrics.width(valueLabel, fontSize: Self.labelSize))
        let stops = scale.map.stops.enumerated().map { index, color in
            "<stop offset=\"\(SVGCanvas.number(Double(index) / Double(scale.map.stops.count - 1)))\" stop-color=\"\(color.hex)\"/>"
        }
        canvas.define("<linearGradient id=\"colorbar\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">" + stops.joined() + "</linearGradient>")
        canvas.rect(x: left, y: top, width: Self.barWidth, height: barHeight, fill: "url(#colorbar)",
                    stroke: Palette.axisLine, strokeWidth: 0.5)
        var ticks = [(scale.upper, top), (scale.lower, top + barHeight)]
        if scale.isDiverging { ticks.append((0, top + barHeight / 2)) }
        let labelLeft = left + Self.barWidth + 7
        for (value, y) in ticks {
            canvas.line(x1: left + Self.barWidth, y1: y, x2: left + Self.barWidth + 4, y2: y, stroke: Palette.axisLine)
            canvas.text(Self.format(value), x: labelLeft, y: y + Self.tickSize * 0.35, size: Self.tickSize)
        }
        let labelWidth = TextMetrics.widest(ticks.map { Self.format($0.0) }, fontSize: Self.tickSize)
        let nameX = labelLeft + labelWidth + 8 + Self.labelSize
        canvas.text(valueLabel, x: nameX, y: top + barHeight / 2, size: Self.labelSize, anchor: .middle, rotation: 90)
        var right = nameX + 4
        var rowTop = top + barHeight + 14
        if missing {
            canvas.rect(x: left, y: rowTop + 2, width: Self.barWidth, height: Self.barWidth, fill: "url(#missing)")
            canvas.text("no value (NaN)", x: labelLeft, y: rowTop + 2 + Self.barWidth * 0.5 + Self.tickSize * 0.35, size: Self.tickSize)
            right = max(right, labelLeft + TextMetrics.width("no value (NaN)", fontSize: Self.tickSize))
            rowTop += Self.keyRowHeight
        }
        if outlined, let highlightLabel {
            canvas.rect(x: left, y: rowTop + 2, width: Self.barWidth, height: Self.barWidth, fill: "#ffffff")
            drawOutline(x: left, y: rowTop + 2, width: Self.barWidth, height: Self.barWidth, into: &canvas)
            canvas.text(highlightLabel, x: labelLeft, y: rowTop + 2 + Self.barWidth * 0.5 + Self.tickSize * 0.35, size: Self.tickSize)
            right = max(right, labelLeft + TextMetrics.width(highlightLabel, fontSize: Self.tickSize))
            rowTop += Self.keyRowHeight
        }
        return (right, rowTop)
    }

    /// A black outline with a white core, visible on dark and light cells alike.
    private func drawOutline(x: Double, y: Double, width: Double, height: Double, into canvas: inout SVGCanvas) {
        canvas.rect(x: x + 1, y: y + 1, width: width - 2, height: height - 2, fill: "none", stroke: "#000000", strokeWidth: 2.5)
        canvas.rect(x: x + 1, y: y + 1, width: width - 2, height: height - 2, fill: "none", stroke: "#ffffff", strokeWidth: 0.8)
    }

    /// Every `step`-th index gets a label: the smallest of 1, 2, 5, 10, 20, 50, ... whose
    /// labels are at least `needed` pixels apart.
    static func labelStep(spacing: Double, needed: Double) -> Int {
        guard spacing > 0 else { return 1 }
        var power = 1
        while true {
            for multiple in [1, 2, 5] where Double(multiple * power) * spacing >= needed { return multiple * power }
            power *= 10
        }
    }

    /// Colour-bar labels: three significant digits.
    static func format(_ value: Double) -> String {
        value == 0 ? "0" : NumberText.format("%.3g", value)
    }
}
