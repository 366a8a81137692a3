import Analyze
import Foundation
import Shared

/// Figures of every kind with made-up but plausible data (seeded, so every run draws the same
/// pictures): the ordinary cases a report shows, and the edges (one cell, one point, NaN,
/// 80 layers x 64 heads).
enum SampleFigures {
    static func values(_ count: Int, seed: UInt64, scale: Double = 1, offset: Double = 0) -> [Double] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { _ in offset + scale * Double(random.nextSignedUnit()) }
    }

    /// Non-negative scores rising with depth, like TR scores of a 30-layer, 9-head model.
    static func sequentialHeatmap() -> Heatmap {
        let noise = values(30 * 9, seed: 1, scale: 0.15, offset: 0.15)
        let scores = noise.enumerated().map { index, value in max(0, value + Double(index / 9) / 40) }
        let top = scores.indices.sorted { scores[$0] > scores[$1] }.prefix(5)
        return Heatmap(title: "Task-recognition score per head", values: scores, rows: 30, columns: 9,
                       valueLabel: "TR score", highlighted: Set(top.map { Heatmap.Cell(row: $0 / 9, column: $0 % 9) }),
                       highlightLabel: "top 5 heads")
    }

    /// Scores of both signs with missing cells.
    static func divergingHeatmap() -> Heatmap {
        var scores = values(24 * 16, seed: 2, scale: 0.8)
        for index in stride(from: 5, to: scores.count, by: 37) { scores[index] = .nan }
        return Heatmap(title: "Ablation effect (change in gold log-prob) <&> \"quoted\"", values: scores,
                       rows: 24, columns: 16, valueLabel: "delta log-prob",
                       highlighted: [Heatmap.Cell(row: 3, column: 4), Heatmap.Cell(row: 20, column: 15)],
                       highlightLabel: "ablated heads")
    }

    static func largeHeatmap() -> Heatmap {
        Heatmap(title: "80 layers x 64 heads", values: values(80 * 64, seed: 3, scale: 2, offset: 2),
                rows: 80, columns: 64, valueLabel: "score")
    }

    static func oneCellHeatmap() -> Heatmap {
        Heatmap(title: "One head", values: [0.5], rows: 1, columns: 1, valueLabel: "score")
    }

    static func scatter() -> ScatterPlot {
        let tr = values(270, seed: 4, scale: 0.5, offset: 0.5)
        let tl = values(270, seed: 5, scale: 0.5, offset: 0.3)
        let topTR = Set(tr.indices.sorted { tr[$0] > tr[$1] }.prefix(12))
        let topTL = Set(tl.indices.sorted { tl[$0] > tl[$1] }.prefix(12))
        let points = tr.indices.map { index -> ScatterPlot.Point in
            let group = topTR.contains(index) && topTL.contains(index) ? "both"
                : topTR.contains(index) ? "top TR" : topTL.contains(index) ? "top TL" : "other"
            let label = group == "other" ? nil : "L\(index / 9)H\(index % 9)"
            return ScatterPlot.Point(x: tr[index], y: tl[index] - 0.2, group: group, label: label)
        }
        return ScatterPlot(title: "TR against TL score per head", xLabel: "TR score", yLabel: "TL score",
                           points: points, backgroundGroups: ["other"])
    }

    static func onePointScatter() -> ScatterPlot {
        ScatterPlot(title: "One point", xLabel: "x", yLabel: "y",
                    points: [ScatterPlot.Point(x: 1, y: 1, group: "only", label: "L0H0")])
    }

    static func scatterWithNaN() -> ScatterPlot {
        ScatterPlot(title: "Some points missing", xLabel: "x", yLabel: "y", points: [
            ScatterPlot.Point(x: -1, y: 2, group: "a"), ScatterPlot.Point(x: .nan, y: 1, group: "a"),
            ScatterPlot.Point(x: 3, y: .infinity, group: "b"), ScatterPlot.Point(x: 2, y: -0.5, group: "b"),
        ])
    }

    static func lineChart() -> LineChart {
        let layers = (0..<30).map(Double.init)
        let norm = layers.map { 2 + 0.4 * $0 + 0.02 * $0 * $0 }
        let cosine = layers.map { 0.9 - 0.025 * $0 }
        return LineChart(title: "Residual geometry by layer", xLabel: "layer", yLabel: "value", x: layers, series: [
            LineChart.Series(name: "mean residual norm / 10", values: norm.map { $0 / 10 },
                             lower: norm.map { $0 / 10 - 0.3 }, upper: norm.map { $0 / 10 + 0.4 }),
            LineChart.Series(name: "cosine to previous layer", values: cosine),
        ])
    }

    static func percentileLineChart() -> LineChart {
        let depth = stride(from: 0.0, through: 100.0, by: 10.0).map { $0 }
        return LineChart(title: "Top-head share by depth percentile", xLabel: "depth percentile",
                         yLabel: "share of top heads", x: depth, series: [
            LineChart.Series(name: "SmolLM2-135M", values: depth.map { 0.02 + 0.1 * sin($0 / 100 * .pi) }),
            LineChart.Series(name: "Qwen2.5-0.5B", values: depth.map { $0 == 50 ? .nan : 0.05 + 0.08 * $0 / 100 }),
            LineChart.Series(name: "Llama-3.2-1B", values: depth.map { 0.12 - 0.1 * $0 / 100 },
                             lower: depth.map { 0.1 - 0.1 * $0 / 100 }, upper: depth.map { 0.14 - 0.1 * $0 / 100 }),
        ])
    }

    static func barChart() -> BarChart {
        let tasks = ["antonym", "sentiment", "country-capital", "person-occupation"]
        let categories = tasks.enumerated().map { index, name in
            let drop = 0.4 + 0.3 * Double(index % 2)
            return BarChart.Category(
                name: name,
                bars: [BarChart.Bar(value: drop, lower: drop - 0.08, upper: drop + 0.07),
                       BarChart.Bar(value: drop * 0.6, lower: drop * 0.6 - 0.05, upper: drop * 0.6 + 0.05)],
                reference: values(20, seed: 10 + UInt64(index), scale: 0.08, offset: 0.06))
        }
        return BarChart(title: "Accuracy drop when ablating heads", valueLabel: "accuracy drop",
                        seriesNames: ["top 10 TR heads", "top 10 TL heads"], categories: categories,
                        referenceName: "20 random head sets")
    }

    /// Long category names (rotated labels), negative values, a missing bar, no reference.
    static func negativeBarChart() -> BarChart {
        let names = ["antonym (8 shots, qa template)", "sentiment (8 shots)", "translation en-fr (4 shots)",
                     "country-capital (8 shots)", "present-past (8 shots)", "singular-plural (8 shots)"]
        return BarChart(title: "Change in gold log-prob", valueLabel: "delta log-prob", seriesNames: ["clean"],
                        categories: names.enumerated().map { index, name in
                            BarChart.Category(name: name, bars: [BarChart.Bar(value: index == 2 ? .nan : Double(index) - 2.5)])
                        })
    }

    static func oneBarChart() -> BarChart {
        BarChart(title: "One bar", valueLabel: "value", seriesNames: ["only"],
                 categories: [BarChart.Category(name: "x", bars: [BarChart.Bar(value: 1)], reference: [0.5])])
    }

    /// Every sample, named by the file it is written to in a report folder.
    static func all() -> [(file: String, figure: any SVGFigure)] {
        [("heatmap_sequential.svg", sequentialHeatmap()), ("heatmap_diverging.svg", divergingHeatmap()),
         ("heatmap_large.svg", largeHeatmap()), ("heatmap_one_cell.svg", oneCellHeatmap()),
         ("scatter.svg", scatter()), ("scatter_one_point.svg", onePointScatter()),
         ("scatter_nan.svg", scatterWithNaN()), ("lines_layers.svg", lineChart()),
         ("lines_percentile.svg", percentileLineChart()), ("bars_reference.svg", barChart()),
         ("bars_negative.svg", negativeBarChart()), ("bars_one.svg", oneBarChart())]
    }
}
