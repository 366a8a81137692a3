/// Points in two scores, coloured by group, with a legend and optional text next to a few
/// points (for example TR score against TL score per head, the top heads of each named).
public struct ScatterPlot: SVGFigure {
    public struct Point: Sendable, Equatable {
        public var x: Double
        public var y: Double
        public var group: String
        /// Drawn next to the point ("L12H3") when set.
        public var label: String?

        public init(x: Double, y: Double, group: String, label: String? = nil) {
            self.x = x
            self.y = y
            self.group = group
            self.label = label
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var points: [Point]
    /// Groups drawn small and grey behind the others, and listed last ("other").
    public var backgroundGroups: Set<String>
    /// Dashed lines at x = 0 and y = 0 where they fall inside the axes.
    public var showsZeroLines: Bool

    public init(title: String, xLabel: String, yLabel: String, points: [Point],
                backgroundGroups: Set<String> = [], showsZeroLines: Bool = true) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.points = points
        self.backgroundGroups = backgroundGroups
        self.showsZeroLines = showsZeroLines
    }

    /// Group names in legend order: foreground groups as they first appear, then background ones.
    public var groups: [String] {
        var seen = Set<String>(), order: [String] = []
        for point in points where seen.insert(point.group).inserted { order.append(point.group) }
        return order.filter { !backgroundGroups.contains($0) } + order.filter { backgroundGroups.contains($0) }
    }

    public func svg() -> String {
        let drawable = points.filter { $0.x.isFinite && $0.y.isFinite }
        let skipped = points.count - drawable.count
        let groups = self.groups
        var colors: [String: RGBColor] = [:]
        for (index, group) in groups.filter({ !backgroundGroups.contains($0) }).enumerated() {
            colors[group] = Palette.categorical(index)
        }
        let legend = Legend(entries: groups.map {
            Legend.Entry(name: $0, swatch: .point(colors[$0] ?? Palette.muted))
        })
        var xScale = AxisScale(covering: drawable.map(\.x), margin: 0.04)
        var yScale = AxisScale(covering: drawable.map(\.y), margin: 0.04)
        let layout = { (note: String?) in
            ChartFrame(title: title, xLabel: xLabel, yLabel: yLabel, note: note, legend: legend,
                       yTickLabels: yScale.labels, xTickOverhang: ChartFrame.overhang(ofCentered: xScale.labels),
                       plotWidth: 520, plotHeight: 380)
        }
        // The plot's geometry does not depend on the note, so labels can be placed first.
        let plotArea = layout(nil)
        xScale = xScale.placed(from: plotArea.plotLeft, to: plotArea.plotRight)
        yScale = yScale.placed(from: plotArea.plotBottom, to: plotArea.plotTop)
        let labelled = drawable.compactMap { point in
            point.label.flatMap { $0.isEmpty ? nil : (text: $0, x: xScale.position(point.x), y: yScale.position(point.y)) }
        }
        let placement = PointLabels.place(labelled, within: (plotArea.plotLeft, plotArea.plotTop, plotArea.plotRight, plotArea.plotBottom))
        var notes: [String] = []
        if skipped > 0 { notes.append("\(skipped) of \(points.count) points not shown (NaN or infinite)") }
        if placement.leftOut > 0 { notes.append("\(placement.leftOut) of \(labelled.count) point labels left out (no room)") }
        let frame = layout(notes.isEmpty ? nil : notes.joined(separator: "; "))

        var canvas = SVGCanvas()
        frame.drawYAxis(yScale, into: &canvas)
        frame.drawXAxis(xScale, into: &canvas)
        if showsZeroLines {
            if xScale.lower < 0, xScale.upper > 0 {
                let x = xScale.position(0)
                canvas.line(x1: x, y1: frame.plotTop, x2: x, y2: frame.plotBottom, stroke: Palette.axisLine, dashed: true)
            }
            if yScale.lower < 0, yScale.upper > 0 {
                let y = yScale.position(0)
                canvas.line(x1: frame.plotLeft, y1: y, x2: frame.plotRight, y2: y, stroke: Palette.axisLine, dashed: true)
            }
        }
        let behind = drawable.filter { backgroundGroups.contains($0.group) }
        let front = drawable.filter { !backgroundGroups.contains($0.group) }
        for point in behind {
            canvas.circle(cx: xScale.position(point.x), cy: yScale.position(point.y), radius: 2.5,
                          fill: Palette.muted.hex, opacity: 0.8)
        }
        for point in front {
            canvas.circle(cx: xScale.position(point.x), cy: yScale.position(point.y), radius: 3.5,
                          fill: (colors[point.group] ?? Palette.muted).hex, stroke: "#ffffff", opacity: 0.9)
        }
        for label in placement.labels {
            canvas.text(label.text, x: label.x, y: label.y, size: PointLabels.fontSize, anchor: label.anchor, halo: true)
        }
        frame.drawFurniture(into: &canvas)
        let summary = "Scatter plot of \(yLabel) against \(xLabel): \(drawable.count) points in groups "
            + groups.joined(separator: ", ") + "."
        return canvas.document(width: frame.width, height: frame.height, title: title, summary: summary)
    }
}
