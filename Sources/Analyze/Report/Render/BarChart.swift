import Foundation

/// Grouped bars: for each category one bar per named series, with optional error bars, and
/// optionally the same measurement on reference sets drawn beside them as a spread (ablating
/// the top heads against ablating random head sets).
public struct BarChart: SVGFigure {
    public struct Bar: Sendable, Equatable {
        /// NaN draws no bar and marks the place "n/a".
        public var value: Double
        /// Ends of the error bar (values, not distances from `value`).
        public var lower: Double?
        public var upper: Double?

        public init(value: Double, lower: Double? = nil, upper: Double? = nil) {
            self.value = value
            self.lower = lower
            self.upper = upper
        }
    }

    public struct Category: Sendable, Equatable {
        public var name: String
        /// One bar per series, in the order of `BarChart.seriesNames`.
        public var bars: [Bar]
        /// The reference values for this category (one per random set); empty for none.
        public var reference: ReferenceSpread

        public init(name: String, bars: [Bar], reference: [Double] = []) {
            self.name = name
            self.bars = bars
            self.reference = ReferenceSpread(values: reference)
        }
    }

    public var title: String
    public var valueLabel: String
    public var seriesNames: [String]
    public var categories: [Category]
    /// What the reference values are ("20 random head sets"); the legend adds what the box shows.
    public var referenceName: String

    static let rotatedLabelAngle = 35.0

    public init(title: String, valueLabel: String, seriesNames: [String], categories: [Category],
                referenceName: String = "random head sets") {
        self.title = title
        self.valueLabel = valueLabel
        self.seriesNames = seriesNames
        self.categories = categories
        self.referenceName = referenceName
    }

    public func svg() -> String {
        let hasReference = categories.contains { !$0.reference.isEmpty }
        let slots = Double(max(seriesNames.count, 1) + (hasReference ? 1 : 0))
        let count = Double(max(categories.count, 1))
        let barWidth = min(max(480 / (count * (slots + 0.8)), 6), 36)
        let gap = max(0.8 * barWidth, 10)
        let slotWidth = slots * barWidth + gap

        let names = categories.map(\.name)
        let widest = TextMetrics.widest(names, fontSize: ChartFrame.tickSize)
        let rotated = widest > slotWidth - 4
        let angle = Self.rotatedLabelAngle * Double.pi / 180
        let labelHeight = rotated ? widest * sin(angle) + ChartFrame.tickSize : ChartFrame.tickSize
        let firstWidth = TextMetrics.width(names.first ?? "", fontSize: ChartFrame.tickSize)
        let lastWidth = TextMetrics.width(names.last ?? "", fontSize: ChartFrame.tickSize)
        let overhang = rotated
            ? (left: firstWidth * cos(angle) - slotWidth / 2, right: 0.0)
            : (left: firstWidth / 2 - slotWidth / 2, right: lastWidth / 2 - slotWidth / 2)

        let colors = seriesNames.indices.map(Palette.categorical)
        var entries = zip(seriesNames, colors).map { Legend.Entry(name: $0, swatch: .box($1)) }
        if hasReference {
            entries.append(Legend.Entry(name: "\(referenceName) (p5-p95, median)", swatch: .spread))
        }
        let barValues: [Double] = categories.flatMap { category in
            category.bars.flatMap { bar in [bar.value] + [bar.lower, bar.upper].compactMap { $0 } }
        }
        let values = barValues + categories.flatMap(\.reference.sorted)
        var yScale = AxisScale(covering: values, includeZero: true)
        let frame = ChartFrame(title: title, xLabel: "", yLabel: valueLabel, legend: Legend(entries: entries),
                               yTickLabels: yScale.labels, xTickLabelHeight: labelHeight,
                               xTickOverhang: (max(overhang.left, 0), max(overhang.right, 0)),
                               plotWidth: count * slotWidth, plotHeight: 320)
        yScale = yScale.placed(from: frame.plotBottom, to: frame.plotTop)
        // The plot may have been widened to fit the title: spread the categories over it.
        let slotStride = frame.plotWidth / count
        let groupOffset = (slotStride - slots * barWidth) / 2

        var canvas = SVGCanvas()
        frame.drawYAxis(yScale, into: &canvas)
        frame.drawXAxisLine(into: &canvas)
        let zero = yScale.position(0)
        if yScale.lower < 0 {
            canvas.line(x1: frame.plotLeft, y1: zero, x2: frame.plotRight, y2: zero, stroke: Palette.axisLine)
        }
        for (index, category) in categories.enumerated() {
            let slotLeft = frame.plotLeft + Double(index) * slotStride
            let groupLeft = slotLeft + groupOffset
            for (series, bar) in category.bars.prefix(seriesNames.count).enumerated() {
                let left = groupLeft + Double(series) * barWidth
                drawBar(bar, left: left, width: barWidth, color: colors[series], zero: zero, scale: yScale, into: &canvas)
            }
            if !category.reference.isEmpty {
                let left = groupLeft + Double(seriesNames.count) * barWidth
                drawSpread(category.reference, left: left, width: barWidth, scale: yScale, into: &canvas)
            }
            let centre = slotLeft + slotStride / 2
            canvas.line(x1: centre, y1: frame.plotBottom, x2: centre, y2: frame.plotBottom + ChartFrame.tickLength,
                        stroke: Palette.axisLine)
            if rotated {
                canvas.text(category.name, x: centre, y: frame.plotBottom + ChartFrame.tickLength + 3 + ChartFrame.tickSize * 0.7,
                            size: ChartFrame.tickSize, anchor: .end, rotation: -Self.rotatedLabelAngle)
            } else {
                canvas.text(category.name, x: centre, y: frame.plotBottom + ChartFrame.tickLength + 3 + ChartFrame.tickSize,
                            size: ChartFrame.tickSize, anchor: .middle)
            }
        }
        frame.drawFurniture(into: &canvas)
        let summary = "Bar chart of \(valueLabel) for \(categories.count) categories ("
            + names.joined(separator: ", ") + "), series " + seriesNames.joined(separator: ", ")
            + (hasReference ? ", with the spread over \(referenceName)." : ".")
        return canvas.document(width: frame.width, height: frame.height, title: title, summary: summary)
    }

    private func drawBar(_ bar: Bar, left: Double, width: Double, color: RGBColor, zero: Double,
                         scale: AxisScale, into canvas: inout SVGCanvas) {
        let centre = left + width / 2
        guard bar.value.isFinite else {
            canvas.text("n/a", x: centre, y: zero - 3, size: 9, anchor: .middle, fill: "#666666")
            return
        }
        let top = min(scale.position(bar.value), zero)
        canvas.rect(x: left + 0.5, y: top, width: width - 1, height: abs(scale.position(bar.value) - zero), fill: color.hex)
        guard let lower = bar.lower, let upper = bar.upper, lower.isFinite, upper.isFinite else { return }
        let cap = width * 0.2
        let y1 = scale.position(lower), y2 = scale.position(upper)
        canvas.line(x1: centre, y1: y1, x2: centre, y2: y2, stroke: "#222222", width: 1.2)
        canvas.line(x1: centre - cap, y1: y1, x2: centre + cap, y2: y1, stroke: "#222222", width: 1.2)
        canvas.line(x1: centre - cap, y1: y2, x2: centre + cap, y2: y2, stroke: "#222222", width: 1.2)
    }

    private func drawSpread(_ spread: ReferenceSpread, left: Double, width: Double, scale: AxisScale,
                            into canvas: inout SVGCanvas) {
        guard let low = spread.percentile(5), let median = spread.percentile(50), let high = spread.percentile(95)
        else { return }
        let top = scale.position(high), bottom = scale.position(low)
        canvas.rect(x: left + 1, y: top, width: width - 2, height: bottom - top,
                    fill: ReferenceSpread.boxFill, stroke: ReferenceSpread.boxStroke)
        let y = scale.position(median)
        canvas.line(x1: left + 1, y1: y, x2: left + width - 1, y2: y, stroke: "#222222", width: 1.5)
        for (value, offset) in zip(spread.sorted, ReferenceSpread.jitter(count: spread.sorted.count)) {
            canvas.circle(cx: left + width / 2 + offset * (width - 6), cy: scale.position(value), radius: 1.8,
                          fill: ReferenceSpread.pointFill, opacity: 0.8)
        }
    }
}
