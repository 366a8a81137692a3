import Foundation

/// An sRGB colour, components in 0...1.
public struct RGBColor: Sendable, Equatable {
    public let red: Double
    public let green: Double
    public let blue: Double

    /// From "#rrggbb"; any other text gives black (palettes below are literals).
    public init(hex: String) {
        let digits = hex.hasPrefix("#") ? String(hex.dropFirst()) : hex
        let value = digits.count == 6 ? UInt32(digits, radix: 16) ?? 0 : 0
        red = Double((value >> 16) & 0xFF) / 255
        green = Double((value >> 8) & 0xFF) / 255
        blue = Double(value & 0xFF) / 255
    }

    init(red: Double, green: Double, blue: Double) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// "#rrggbb", for SVG attributes.
    public var hex: String {
        let bytes = [red, green, blue].map { Int(($0 * 255).rounded()).clamped(0, 255) }
        return "#" + bytes.map { NumberText.format("%02lx", $0) }.joined()
    }

    func mixed(with other: RGBColor, _ t: Double) -> RGBColor {
        RGBColor(red: red + (other.red - red) * t, green: green + (other.green - green) * t,
                 blue: blue + (other.blue - blue) * t)
    }
}

/// A continuous colour map: colours at evenly spaced stops over 0...1, interpolated linearly.
public struct ColorMap: Sendable, Equatable {
    public let stops: [RGBColor]

    /// Perceptually uniform and readable in greyscale and by colour-blind readers, for values
    /// of one sign: viridis, sampled at nine points.
    public static let sequential = ColorMap(hexes: ["#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c",
                                                    "#28ae80", "#5ec962", "#addc30", "#fde725"])
    /// Blue below zero, near-white at zero, red above (ColorBrewer RdBu, 7 classes, reversed),
    /// for values of both signs on a range symmetric about zero.
    public static let diverging = ColorMap(hexes: ["#2166ac", "#67a9cf", "#d1e5f0", "#f7f7f7",
                                                   "#fddbc7", "#ef8a62", "#b2182b"])

    init(hexes: [String]) {
        stops = hexes.map(RGBColor.init(hex:))
    }

    /// The colour at `t`, clamped to 0...1; NaN gives the middle colour (callers draw missing
    /// values their own way).
    public func color(at t: Double) -> RGBColor {
        guard !t.isNaN else { return color(at: 0.5) }
        let position = t.clamped(0, 1) * Double(stops.count - 1)
        let index = min(Int(position), stops.count - 2)
        return stops[index].mixed(with: stops[index + 1], position - Double(index))
    }
}

/// Colours for named groups and series, and the greys the figures share.
public enum Palette {
    /// Okabe and Ito's colour-blind-safe set (yellow left out: unreadable on white).
    public static let categorical = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00",
                                     "#56b4e9", "#000000"].map(RGBColor.init(hex:))
    /// Groups drawn as context behind the others ("other" heads).
    public static let muted = RGBColor(hex: "#b0b0b0")
    public static let gridLine = "#e6e6e6"
    public static let axisLine = "#555555"
    public static let missingFill = "#d9d9d9"
    public static let missingHatch = "#8c8c8c"

    /// The colour of the `index`-th group; colours repeat after the seventh.
    public static func categorical(_ index: Int) -> RGBColor {
        categorical[((index % categorical.count) + categorical.count) % categorical.count]
    }
}

private extension Comparable {
    func clamped(_ low: Self, _ high: Self) -> Self { min(max(self, low), high) }
}
