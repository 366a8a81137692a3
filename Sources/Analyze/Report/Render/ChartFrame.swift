/// The layout the charts with axes share: title on top, y axis (label, tick labels) on the
/// left, x axis below, legend on the right, an optional note under everything. Margins follow
/// from the estimated widths of the labels, so nothing is clipped.
struct ChartFrame {
    static let padding = 12.0
    static let titleSize = 15.0
    static let labelSize = 13.0
    static let tickSize = 11.0
    static let noteSize = 11.0
    static let tickLength = 4.0
    static let legendGap = 18.0

    let title: String
    let xLabel: String
    let yLabel: String
    let note: String?
    let legend: Legend
    let width: Double
    let height: Double
    let plotLeft: Double
    let plotTop: Double
    let plotWidth: Double
    let plotHeight: Double
    /// Height taken by the x tick labels (more when they are rotated).
    let xTickLabelHeight: Double
    /// Width of the y tick labels and ticks, left of the plot.
    let yTickWidth: Double

    var plotRight: Double { plotLeft + plotWidth }
    var plotBottom: Double { plotTop + plotHeight }

    /// `xTickOverhang` is how far the x tick labels reach beyond the plot's left and right
    /// edges (see `overhang(ofCentered:)`).
    init(title: String, xLabel: String, yLabel: String, note: String? = nil, legend: Legend,
         yTickLabels: [String], xTickLabelHeight: Double = ChartFrame.tickSize,
         xTickOverhang: (left: Double, right: Double) = (0, 0), plotWidth: Double, plotHeight: Double) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.note = note
        self.legend = legend
        self.xTickLabelHeight = xTickLabelHeight
        yTickWidth = TextMetrics.widest(yTickLabels, fontSize: Self.tickSize) + Self.tickLength + 4
        let yAxisWidth = (yLabel.isEmpty ? 0 : Self.labelSize + 10) + yTickWidth
        plotLeft = Self.padding + max(yAxisWidth, xTickOverhang.left)
        plotTop = Self.padding + Self.titleSize + 14
        let rightMargin = max(legend.entries.isEmpty ? 0 : Self.legendGap + legend.width, xTickOverhang.right)
            + Self.padding
        let titleWidth = TextMetrics.width(title, fontSize: Self.titleSize)
        self.plotWidth = max(plotWidth, titleWidth + 2 * Self.padding - plotLeft - rightMargin)
        self.plotHeight = plotHeight
        // A long note widens the figure, not the plot: the plot's geometry never depends on
        // the note, so a chart can lay out its points before it knows what the note will say.
        let noteWidth = note.map { TextMetrics.width($0, fontSize: Self.noteSize) } ?? 0
        width = max(plotLeft + self.plotWidth + rightMargin, noteWidth + 2 * Self.padding)
        var bottom = Self.tickLength + 4 + xTickLabelHeight + Self.padding
        if !xLabel.isEmpty { bottom += Self.labelSize + 8 }
        if note != nil { bottom += Self.noteSize + 8 }
        height = max(plotTop + plotHeight + bottom, plotTop + legend.height + Self.padding)
    }

    /// How far labels centred on the first and last x ticks reach beyond the plot's edges.
    static func overhang(ofCentered labels: [String]) -> (left: Double, right: Double) {
        let half = { (label: String?) in label.map { TextMetrics.width($0, fontSize: tickSize) / 2 } ?? 0 }
        return (half(labels.first), half(labels.last))
    }

    /// Title, axis names, the legend and the note; the axes themselves are drawn by
    /// `drawYAxis` / `drawXAxis` or by the chart (categorical x).
    func drawFurniture(into canvas: inout SVGCanvas) {
        canvas.text(title, x: Self.padding, y: Self.padding + Self.titleSize, size: Self.titleSize, bold: true)
        if !yLabel.isEmpty {
            canvas.text(yLabel, x: plotLeft - yTickWidth - 10, y: plotTop + plotHeight / 2,
                        size: Self.labelSize, anchor: .middle, rotation: -90)
        }
        let tickBottom = plotBottom + Self.tickLength + 4 + xTickLabelHeight
        if !xLabel.isEmpty {
            canvas.text(xLabel, x: plotLeft + plotWidth / 2, y: tickBottom + 6 + Self.labelSize,
                        size: Self.labelSize, anchor: .middle)
        }
        if let note {
            canvas.text(note, x: Self.padding, y: height - Self.padding, size: Self.noteSize, fill: "#666666")
        }
        legend.draw(into: &canvas, x: plotRight + Self.legendGap, y: plotTop)
    }

    /// Horizontal grid lines and labels at the ticks of `scale` (already placed on the plot's
    /// height), and the axis line.
    func drawYAxis(_ scale: AxisScale, into canvas: inout SVGCanvas) {
        for tick in scale.ticks {
            let y = scale.position(tick)
            canvas.line(x1: plotLeft, y1: y, x2: plotRight, y2: y, stroke: Palette.gridLine)
            canvas.line(x1: plotLeft - Self.tickLength, y1: y, x2: plotLeft, y2: y, stroke: Palette.axisLine)
            canvas.text(scale.label(tick), x: plotLeft - Self.tickLength - 3, y: y + Self.tickSize * 0.35,
                        size: Self.tickSize, anchor: .end)
        }
        canvas.line(x1: plotLeft, y1: plotTop, x2: plotLeft, y2: plotBottom, stroke: Palette.axisLine)
    }

    /// Vertical grid lines and labels at the ticks of `scale` (placed on the plot's width).
    func drawXAxis(_ scale: AxisScale, into canvas: inout SVGCanvas) {
        for tick in scale.ticks {
            let x = scale.position(tick)
            canvas.line(x1: x, y1: plotTop, x2: x, y2: plotBottom, stroke: Palette.gridLine)
            canvas.line(x1: x, y1: plotBottom, x2: x, y2: plotBottom + Self.tickLength, stroke: Palette.axisLine)
            canvas.text(scale.label(tick), x: x, y: plotBottom + Self.tickLength + 3 + Self.tickSize,
                        size: Self.tickSize, anchor: .middle)
        }
        drawXAxisLine(into: &canvas)
    }

    func drawXAxisLine(into canvas: inout SVGCanvas) {
        canvas.line(x1: plotLeft, y1: plotBottom, x2: plotRight, y2: plotBottom, stroke: Palette.axisLine)
    }
}
