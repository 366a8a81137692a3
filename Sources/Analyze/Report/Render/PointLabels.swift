/// Places short texts next to points without letting them overlap: each label tries a few
/// spots around its point (right and above first) and takes the first that stays inside the
/// plot and clear of the labels placed before it. Labels earlier in the list win; one that
/// finds no spot is left out and counted, never drawn over another.
enum PointLabels {
    static let fontSize = 10.0

    struct Placed {
        let text: String
        let x: Double
        /// Baseline.
        let y: Double
        let anchor: SVGCanvas.Anchor
    }

    private struct Box {
        let left: Double, top: Double, right: Double, bottom: Double

        func overlaps(_ other: Box) -> Bool {
            left < other.right && other.left < right && top < other.bottom && other.top < bottom
        }
    }

    /// `bounds`: left, top, right, bottom of the plot in pixels.
    static func place(_ labels: [(text: String, x: Double, y: Double)],
                      within bounds: (Double, Double, Double, Double)) -> (labels: [Placed], leftOut: Int) {
        let (minX, minY, maxX, maxY) = bounds
        let ascent = fontSize * 0.8, descent = fontSize * 0.25, gap = 4.0
        // (dx, baseline dy, anchor) around the point.
        let spots: [(Double, Double, SVGCanvas.Anchor)] = [
            (gap, -gap, .start), (gap, gap + ascent, .start), (-gap, -gap, .end), (-gap, gap + ascent, .end),
            (0, -gap - 3, .middle), (0, gap + 3 + ascent, .middle),
        ]
        var taken: [Box] = [], placed: [Placed] = [], leftOut = 0
        for label in labels {
            let width = TextMetrics.width(label.text, fontSize: fontSize)
            let choice = spots.lazy.compactMap { dx, dy, anchor -> (Placed, Box)? in
                let x = label.x + dx, baseline = label.y + dy
                let left = anchor == .start ? x : anchor == .end ? x - width : x - width / 2
                let box = Box(left: left, top: baseline - ascent, right: left + width, bottom: baseline + descent)
                guard box.left >= minX, box.right <= maxX, box.top >= minY, box.bottom <= maxY,
                      !taken.contains(where: box.overlaps) else { return nil }
                return (Placed(text: label.text, x: x, y: baseline, anchor: anchor), box)
            }.first
            if let (label, box) = choice {
                placed.append(label)
                taken.append(box)
            } else {
                leftOut += 1
            }
        }
        return (placed, leftOut)
    }
}
