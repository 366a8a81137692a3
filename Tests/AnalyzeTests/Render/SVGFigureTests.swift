@testable import Analyze
import Foundation
import XCTest

/// Every figure is standalone, well-formed SVG 1.1 with its title and labels, whatever the data:
/// ordinary, one cell or point, NaN, 80 layers x 64 heads.
final class SVGFigureTests: XCTestCase {
    func testEverySampleIsWellFormedWithItsTitleAndLabels() {
        for (file, figure) in SampleFigures.all() {
            let svg = figure.svg()
            let labels: [String]
            switch figure {
            case let heatmap as Heatmap: labels = [heatmap.rowAxisName, heatmap.columnAxisName, heatmap.valueLabel, heatmap.title]
            case let scatter as ScatterPlot: labels = [scatter.xLabel, scatter.yLabel, scatter.title] + scatter.groups
            case let chart as LineChart: labels = [chart.xLabel, chart.yLabel, chart.title] + chart.series.map(\.name)
            case let chart as BarChart: labels = [chart.valueLabel, chart.title] + chart.seriesNames + chart.categories.map(\.name)
            default: labels = []
            }
            XCTAssertFalse(labels.isEmpty, file)
            let inspection = SVGInspection.check(svg, title: figure.title, labels: labels)
            XCTAssertNil(inspection.parseError, file)
            XCTAssertEqual(svg, figure.svg(), "\(file) is not deterministic")
        }
    }

    func testLabelsFromDataAreEscapedAndControlCharactersReplaced() {
        let nasty = "a<b & \"c\" 'd' > \u{1}e\u{7}"
        let figure = ScatterPlot(title: nasty, xLabel: "x & y", yLabel: "</text>", points: [
            ScatterPlot.Point(x: 0, y: 0, group: "<g>", label: "L1H2 \u{0}"),
        ])
        let inspection = SVGInspection.check(figure.svg(), title: "a<b & \"c\" 'd' > \u{FFFD}e\u{FFFD}",
                                             labels: ["x & y", "</text>", "<g>", "L1H2 \u{FFFD}"])
        XCTAssertNil(inspection.parseError)
    }

    // MARK: Heatmap

    func testColorScaleIsDivergingAroundZeroOnlyForValuesOfBothSigns() {
        let both = Heatmap.ColorScale(values: [-2, 0.5, .nan, 1])
        XCTAssertTrue(both.isDiverging)
        XCTAssertEqual(both.lower, -2)
        XCTAssertEqual(both.upper, 2)
        XCTAssertEqual(both.color(0).hex, "#f7f7f7")
        XCTAssertEqual(both.color(-2).hex, "#2166ac")
        XCTAssertEqual(both.color(2).hex, "#b2182b")
        let positive = Heatmap.ColorScale(values: [0.2, 0.9, 0.5])
        XCTAssertFalse(positive.isDiverging)
        XCTAssertEqual(positive.color(0.2).hex, "#440154")
        XCTAssertEqual(positive.color(0.9).hex, "#fde725")
        XCTAssertEqual(Heatmap.ColorScale(values: [3, 3]).color(3).hex, ColorMap.sequential.color(at: 0.5).hex)
    }

    /// Colours must order the values: sequential luminance rises with the value; diverging
    /// luminance rises towards zero on each side (the two hues differ in luminance, so the
    /// sides are checked apart). Checked on the cells of the drawn SVG.
    func testCellColoursOrderTheValues() throws {
        for heatmap in [SampleFigures.sequentialHeatmap(), SampleFigures.divergingHeatmap()] {
            let cells = try cellFills(heatmap)
            let scale = Heatmap.ColorScale(values: heatmap.values)
            let drawn = zip(heatmap.values, cells).filter { $0.0.isFinite }
            let runs = scale.isDiverging
                ? [drawn.filter { $0.0 < 0 }.sorted { $0.0 < $1.0 }, drawn.filter { $0.0 > 0 }.sorted { $0.0 > $1.0 }]
                : [drawn.sorted { $0.0 < $1.0 }]
            for run in runs {
                XCTAssertGreaterThan(run.count, 50)
                let luminance = run.map { Self.luminance($0.1) }
                // Colours are written as 8-bit hex: half a unit in each channel moves the
                // luminance by up to 0.005, so neighbours may disagree by twice that.
                let reversals = zip(luminance, luminance.dropFirst()).filter { $0 > $1 + 0.01 }
                XCTAssertEqual(reversals.count, 0, heatmap.title)
            }
            let missing = zip(heatmap.values, cells).filter { !$0.0.isFinite }
            XCTAssertFalse(scale.isDiverging && missing.isEmpty, "the diverging sample has missing cells")
            XCTAssertTrue(missing.allSatisfy { $0.1 == "url(#missing)" }, heatmap.title)
        }
    }

    func testHighlightedCellsAreOutlinedOnceEach() throws {
        let heatmap = SampleFigures.divergingHeatmap()
        let inspection = SVGInspection(heatmap.svg())
        let outlines = inspection.elements(named: "rect").filter { $0.attributes["stroke"] == "#000000" }
        // One outline per highlighted cell, plus the one in the key.
        XCTAssertEqual(outlines.count, heatmap.highlighted.count + 1)
        XCTAssertTrue(inspection.texts.contains("ablated heads"))
        XCTAssertTrue(inspection.texts.contains("no value (NaN)"))
    }

    /// The same cells chosen in a different order (a Set's order varies between processes) give
    /// the same bytes.
    func testHighlightOrderDoesNotChangeTheFile() {
        let cells = (0..<40).map { Heatmap.Cell(row: $0 % 8, column: $0 / 8) }
        let heatmap = { (highlighted: Set<Heatmap.Cell>) in
            Heatmap(title: "Order", values: Array(repeating: 1, count: 64), rows: 8, columns: 8, valueLabel: "v",
                    highlighted: highlighted, highlightLabel: "chosen")
        }
        XCTAssertEqual(heatmap(Set(cells)).svg(), heatmap(Set(cells.reversed())).svg())
    }

    /// 80 x 64: the tick labels are thinned so that neighbours never overlap, the first index is
    /// labelled, and the figure stays screen-sized.
    func testLargeHeatmapThinsItsLabels() {
        let heatmap = SampleFigures.largeHeatmap()
        let inspection = SVGInspection.check(heatmap.svg(), title: heatmap.title)
        let numbers = inspection.elements(named: "text").filter { Int(textOf($0, inspection) ?? "") != nil }
        let rowLabels = numbers.filter { $0.attributes["text-anchor"] == "end" }.compactMap { Double($0.attributes["y"] ?? "") }
        let columnLabels = numbers.filter { $0.attributes["text-anchor"] == "middle" }.compactMap { Double($0.attributes["x"] ?? "") }
        XCTAssertGreaterThan(rowLabels.count, 5)
        XCTAssertLessThan(rowLabels.count, 80)
        XCTAssertGreaterThan(columnLabels.count, 5)
        XCTAssertLessThan(columnLabels.count, 64)
        XCTAssertGreaterThanOrEqual(zip(rowLabels, rowLabels.dropFirst()).map { $1 - $0 }.min() ?? 0, Heatmap.tickSize)
        XCTAssertGreaterThanOrEqual(zip(columnLabels, columnLabels.dropFirst()).map { $1 - $0 }.min() ?? 0,
                                    TextMetrics.width("63", fontSize: Heatmap.tickSize))
        XCTAssertLessThan(inspection.size.width, 900)
        XCTAssertLessThan(inspection.size.height, 900)
        XCTAssertEqual(Heatmap.labelStep(spacing: 6, needed: 14), 5)
        XCTAssertEqual(Heatmap.labelStep(spacing: 28, needed: 14), 1)
        XCTAssertEqual(Heatmap.labelStep(spacing: 1, needed: 14), 20)
    }

    func testOneCellAndEmptyHeatmapsStillDraw() {
        SVGInspection.check(SampleFigures.oneCellHeatmap().svg(), title: "One head", labels: ["0", "layer", "head"])
        let small = Heatmap(title: "2 x 2", values: [-1, 0.5, 2, .nan], rows: 2, columns: 2, valueLabel: "score",
                            highlighted: [Heatmap.Cell(row: 1, column: 0), Heatmap.Cell(row: 5, column: 5)], highlightLabel: "top")
        let inspection = SVGInspection.check(small.svg(), title: "2 x 2", labels: ["0", "1", "-2", "2", "top", "no value (NaN)"])
        XCTAssertEqual(inspection.elements(named: "rect").filter { $0.attributes["stroke"] == "#000000" }.count, 2,
                       "the cell outside the grid is not outlined")
        let empty = Heatmap(title: "Nothing", values: [], rows: 0, columns: 0, valueLabel: "score")
        SVGInspection.check(empty.svg(), title: "Nothing")
        let allMissing = Heatmap(title: "All NaN", values: [.nan, .nan], rows: 1, columns: 2, valueLabel: "score")
        SVGInspection.check(allMissing.svg(), title: "All NaN", labels: ["no value (NaN)"])
    }

    // MARK: Scatter, lines, bars

    func testEmptyChartsStillGiveValidFigures() {
        SVGInspection.check(ScatterPlot(title: "No points", xLabel: "x", yLabel: "y", points: []).svg(), title: "No points")
        SVGInspection.check(LineChart(title: "No lines", xLabel: "x", yLabel: "y", x: [], series: []).svg(), title: "No lines")
        let ragged = LineChart(title: "Ragged", xLabel: "x", yLabel: "y", x: [0, 1, 2], series: [
            LineChart.Series(name: "short", values: [1], lower: [0, 0, 0], upper: [2]),
            LineChart.Series(name: "long", values: [1, 2, 3, 4, 5]),
        ])
        SVGInspection.check(ragged.svg(), title: "Ragged", labels: ["short", "long"])
        SVGInspection.check(BarChart(title: "No bars", valueLabel: "v", seriesNames: [], categories: []).svg(), title: "No bars")
        let uneven = BarChart(title: "Uneven", valueLabel: "v", seriesNames: ["a"], categories: [
            BarChart.Category(name: "too many", bars: [BarChart.Bar(value: 1), BarChart.Bar(value: 2)]),
            BarChart.Category(name: "none", bars: []),
        ])
        SVGInspection.check(uneven.svg(), title: "Uneven", labels: ["too many", "none"])
    }

    func testScatterListsForegroundGroupsFirstAndSaysWhatItLeftOut() {
        let scatter = SampleFigures.scatter()
        XCTAssertEqual(scatter.groups.last, "other")
        let inspection = SVGInspection.check(scatter.svg(), title: scatter.title)
        let labelled = scatter.points.compactMap(\.label)
        let shown = labelled.filter { inspection.texts.contains($0) }
        XCTAssertGreaterThan(shown.count, labelled.count / 2)
        if shown.count < labelled.count {
            let note = "\(labelled.count - shown.count) of \(labelled.count) point labels left out (no room)"
            XCTAssertTrue(inspection.texts.contains(note), "\(inspection.texts.suffix(3))")
        }
        let withNaN = SVGInspection.check(SampleFigures.scatterWithNaN().svg(), title: "Some points missing")
        XCTAssertTrue(withNaN.texts.contains("2 of 4 points not shown (NaN or infinite)"))
        // Two drawn points and two legend swatches.
        XCTAssertEqual(withNaN.elements(named: "circle").count, 4)
    }

    /// Point labels never overlap one another or leave the plot; those that find no room are
    /// counted, and the figure says so.
    func testPointLabelsDoNotOverlap() {
        let crowd = (0..<50).map { (text: "L\($0)H\($0)", x: 200.0, y: 200.0) }
        let placement = PointLabels.place(crowd, within: (0, 0, 400, 400))
        XCTAssertEqual(placement.labels.count + placement.leftOut, 50)
        XCTAssertGreaterThan(placement.leftOut, 0)
        let boxes = placement.labels.map { label -> (Double, Double, Double, Double) in
            let width = TextMetrics.width(label.text, fontSize: PointLabels.fontSize)
            let left = label.anchor == .start ? label.x : label.anchor == .end ? label.x - width : label.x - width / 2
            return (left, label.y - PointLabels.fontSize * 0.8, left + width, label.y + PointLabels.fontSize * 0.25)
        }
        for (i, a) in boxes.enumerated() {
            XCTAssert(a.0 >= 0 && a.1 >= 0 && a.2 <= 400 && a.3 <= 400, "\(a) leaves the plot")
            for b in boxes[(i + 1)...] {
                XCTAssertFalse(a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3, "\(a) overlaps \(b)")
            }
        }
        let scatter = ScatterPlot(title: "Crowd", xLabel: "x", yLabel: "y", points: (0..<20).map {
            ScatterPlot.Point(x: 1, y: 1, group: "g", label: "L\($0)")
        } + [ScatterPlot.Point(x: 2, y: 2, group: "g")])
        let inspection = SVGInspection.check(scatter.svg(), title: "Crowd")
        let shown = inspection.texts.filter { $0.hasPrefix("L") }.count / 2   // each drawn twice: halo, then text
        XCTAssertTrue(inspection.texts.contains("\(20 - shown) of 20 point labels left out (no room)"), "\(inspection.texts)")
    }

    func testLineChartBreaksLinesAtNaN() {
        let chart = SampleFigures.percentileLineChart()
        let inspection = SVGInspection.check(chart.svg(), title: chart.title)
        let second = Palette.categorical(1).hex
        XCTAssertEqual(inspection.elements(named: "polyline").filter { $0.attributes["stroke"] == second }.count, 2)
        XCTAssertEqual(inspection.elements(named: "polygon").count, 1, "one band")
        XCTAssertEqual(LineChart.finiteRuns(x: [0, 1, 2, 3, 4], [1, .nan, 2, 3, 4]), [[0], [2, 3, 4]])
        XCTAssertEqual(LineChart.finiteRuns(x: [0, 1, 2], [1, 2]), [[0, 1]])
    }

    func testBarChartDrawsSpreadsErrorBarsAndRotatesLongNames() {
        let chart = SampleFigures.barChart()
        let inspection = SVGInspection.check(chart.svg(), title: chart.title)
        let dots = inspection.elements(named: "circle").filter { $0.attributes["fill"] == ReferenceSpread.pointFill }
        XCTAssertEqual(dots.count, chart.categories.map(\.reference.sorted.count).reduce(0, +) + 2, "every value plus two in the key")
        XCTAssertTrue(inspection.texts.contains("20 random head sets (p5-p95, median)"))
        let negative = SVGInspection.check(SampleFigures.negativeBarChart().svg(), title: "Change in gold log-prob")
        XCTAssertTrue(negative.texts.contains("n/a"))
        let rotated = negative.elements(named: "text").filter { $0.attributes["transform"]?.hasPrefix("rotate(-35") ?? false }
        XCTAssertEqual(rotated.count, SampleFigures.negativeBarChart().categories.count)
    }

    // MARK: Helpers

    /// Fills of the heatmap's cell rectangles, in row-major order.
    private func cellFills(_ heatmap: Heatmap) throws -> [String] {
        let inspection = SVGInspection(heatmap.svg())
        let elements = inspection.elements
        let start = try XCTUnwrap(elements.firstIndex { $0.name == "g" && $0.attributes["shape-rendering"] == "crispEdges" })
        let cells = elements[(start + 1)...].prefix(heatmap.rows * heatmap.columns)
        XCTAssertTrue(cells.allSatisfy { $0.name == "rect" })
        XCTAssertEqual(cells.count, heatmap.rows * heatmap.columns)
        return cells.compactMap { $0.attributes["fill"] }
    }

    private func textOf(_ element: SVGInspection.Element, _ inspection: SVGInspection) -> String? {
        let texts = inspection.elements(named: "text")
        guard let index = texts.firstIndex(where: { $0.attributes == element.attributes }) else { return nil }
        return inspection.texts[index]
    }

    /// Relative luminance of "#rrggbb" (sRGB, Rec. 709 weights on linearised components).
    static func luminance(_ hex: String) -> Double {
        let color = RGBColor(hex: hex)
        let linear = { (c: Double) in c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4) }
        return 0.2126 * linear(color.red) + 0.7152 * linear(color.green) + 0.0722 * linear(color.blue)
    }
}
