import Foundation

/// A linear axis with "nice" round ticks (steps of 1, 2 or 5 times a power of ten), mapped onto
/// a pixel range once the layout is known.
public struct AxisScale: Sendable, Equatable {
    public let lower: Double
    public let upper: Double
    public let step: Double
    /// Tick values within lower...upper.
    public let ticks: [Double]
    /// Pixel positions of `lower` and `upper` (for a y axis the first is the larger).
    public private(set) var rangeStart: Double = 0
    public private(set) var rangeEnd: Double = 1

    /// The axis covering the finite `values` (non-finite ones are ignored), with about
    /// `tickCount` ticks. `includeZero` keeps 0 on the axis (bars start there); `integerTicks`
    /// never steps by less than 1 (layer and head indices). Without a `margin` the ends are
    /// rounded out to ticks; with one, the data's extent is padded by that share of its span on
    /// each side (so no point sits on the frame) and the ticks are those inside.
    public init(covering values: [Double], tickCount: Int = 6, includeZero: Bool = false,
                integerTicks: Bool = false, margin: Double? = nil) {
        var finite = values.filter(\.isFinite)
        if includeZero { finite.append(0) }
        var low = finite.min() ?? 0
        var high = finite.max() ?? 1
        if low == high {
            let pad = low == 0 ? 1 : abs(low) * 0.1
            low -= pad
            high += pad
        }
        if let margin {
            let pad = (high - low) * max(margin, 0)
            low -= pad
            high += pad
        }
        var step = Self.niceStep(span: high - low, tickCount: max(tickCount, 2))
        if integerTicks { step = max(step, 1) }
        let rounding: (FloatingPointRoundingRule, FloatingPointRoundingRule) = margin == nil ? (.down, .up) : (.up, .down)
        let first = (low / step).rounded(rounding.0)
        let last = (high / step).rounded(rounding.1)
        lower = margin == nil ? first * step : low
        upper = margin == nil ? last * step : high
        self.step = step
        ticks = stride(from: first, through: last, by: 1).map { $0 * step }
    }

    /// The same axis drawn from pixel `start` (at `lower`) to pixel `end` (at `upper`).
    public func placed(from start: Double, to end: Double) -> AxisScale {
        var placed = self
        placed.rangeStart = start
        placed.rangeEnd = end
        return placed
    }

    public func position(_ value: Double) -> Double {
        rangeStart + (value - lower) / (upper - lower) * (rangeEnd - rangeStart)
    }

    /// A tick label with as many decimals as the step needs (steps of 0.05 give "0.15");
    /// scientific notation only for magnitudes of a million or more and steps below 1e-4.
    public func label(_ value: Double) -> String {
        // The decimal place of the step's one significant digit (steps are 1, 2 or 5 x 10^k).
        let stepExponent = Int((log10(step) + 1e-9).rounded(.down))
        if max(abs(lower), abs(upper)) >= 1e6 || step < 1e-4 {
            guard value != 0 else { return "0" }
            let digits = Int((log10(abs(value)) + 1e-9).rounded(.down)) - stepExponent + 1
            return NumberText.format("%.\(max(digits, 1))g", value)
        }
        let decimals = max(0, -stepExponent)
        let text = NumberText.format("%.\(decimals)f", value)
        return text.hasPrefix("-") && Double(text) == 0 ? String(text.dropFirst()) : text
    }

    /// The tick labels, in tick order.
    public var labels: [String] { ticks.map(label) }

    /// 1, 2 or 5 times a power of ten, so that `span` holds about `tickCount` steps.
    static func niceStep(span: Double, tickCount: Int) -> Double {
        let raw = span / Double(tickCount)
        let power = pow(10, log10(raw).rounded(.down))
        let fraction = raw / power
        let nice: Double = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10
        return nice * power
    }
}
