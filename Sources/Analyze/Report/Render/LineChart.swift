/// Named series over shared x values, each with an optional shaded band between a lower and an
/// upper curve (per-layer geometry with its spread, scores against depth percentile).
public struct LineChart: SVGFigure {
    public struct Series: Sendable, Equatable {
        public var name: String
        /// One value per x; NaN leaves a gap in the line.
        public var values: [Double]
        /// Band limits, one per x, both or neither; NaN leaves a gap in the band.
        public var lower: [Double]?
        public var upper: [Double]?

        public init(name: String, values: [Double], lower: [Double]? = nil, upper: [Double]? = nil) {
            self.name = name
            self.values = values
            self.lower = lower
            self.upper = upper
        }

        var hasBand: Bool { lower != nil && upper != nil }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var x: [Double]
    public var series: [Series]
    /// A dashed line at y = 0 where it falls inside the axis.
    public var showsZeroLine: Bool

    /// Lines get a marker at each point up to this many x values.
    static let markerLimit = 60

    public init(title: String, xLabel: String, yLabel: String, x: [Double], series: [Series],
                showsZeroLine: Bool = true) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.x = x
        self.series = series
        self.showsZeroLine = showsZeroLine
    }

    public func svg() -> String {
        let colors = series.indices.map(Palette.categorical)
        let legend = Legend(entries: zip(series, colors).map {
            Legend.Entry(name: $0.name, swatch: .line($1, band: $0.hasBand))
        })
        let allY = series.flatMap { $0.values + ($0.lower ?? []) + ($0.upper ?? []) }
        let integerX = x.allSatisfy { $0.isFinite && $0 == $0.rounded() }
        var xScale = AxisScale(covering: x, integerTicks: integerX, margin: 0)
        var yScale = AxisScale(covering: allY, margin: 0.04)
        let frame = ChartFrame(title: title, xLabel: xLabel, yLabel: yLabel, legend: legend,
                               yTickLabels: yScale.labels, xTickOverhang: ChartFrame.overhang(ofCentered: xScale.labels),
                               plotWidth: 540, plotHeight: 340)
        xScale = xScale.placed(from: frame.plotLeft, to: frame.plotRight)
        yScale = yScale.placed(from: frame.plotBottom, to: frame.plotTop)

        var canvas = SVGCanvas()
        frame.drawYAxis(yScale, into: &canvas)
        frame.drawXAxis(xScale, into: &canvas)
        if showsZeroLine, yScale.lower < 0, yScale.upper > 0 {
            let y = yScale.position(0)
            canvas.line(x1: frame.plotLeft, y1: y, x2: frame.plotRight, y2: y, stroke: Palette.axisLine, dashed: true)
        }
        for (line, color) in zip(series, colors) {
            guard let lower = line.lower, let upper = line.upper else { continue }
            for run in Self.finiteRuns(x: x, lower, upper) {
                let top = run.map { (x: xScale.position(x[$0]), y: yScale.position(upper[$0])) }
                let bottom = run.reversed().map { (x: xScale.position(x[$0]), y: yScale.position(lower[$0])) }
                canvas.polygon(top + bottom, fill: color.hex, opacity: 0.18)
            }
        }
        for (line, color) in zip(series, colors) {
            for run in Self.finiteRuns(x: x, line.values) {
                let points = run.map { (x: xScale.position(x[$0]), y: yScale.position(line.values[$0])) }
                canvas.polyline(points, stroke: color.hex, width: 2)
                if x.count <= Self.markerLimit || run.count == 1 {
                    for point in points { canvas.circle(cx: point.x, cy: point.y, radius: 2.5, fill: color.hex) }
                }
            }
        }
        frame.drawFurniture(into: &canvas)
        let summary = "Line chart of \(yLabel) against \(xLabel) over \(x.count) points: "
            + series.map(\.name).joined(separator: ", ") + "."
        return canvas.document(width: frame.width, height: frame.height, title: title, summary: summary)
    }

    /// Index runs where x and every given curve are finite; a series shorter than x ends early.
    static func finiteRuns(x: [Double], _ curves: [Double]...) -> [[Int]] {
        let count = curves.reduce(x.count) { min($0, $1.count) }
        var runs: [[Int]] = [], current: [Int] = []
        for index in 0..<count {
            if x[index].isFinite && curves.allSatisfy({ $0[index].isFinite }) {
                current.append(index)
            } else if !current.isEmpty {
                runs.append(current)
                current = []
            }
        }
        if !current.isEmpty { runs.append(current) }
        return runs
    }
}
