import Foundation

/// The standard normal distribution's quantile function, for interval critical values.
enum StandardNormal {
    /// The z with P(Z <= z) = p, for p in (0, 1); nil outside. A rational approximation
    /// (Abramowitz and Stegun 26.2.23, error below 4.5e-4) polished by Newton steps on
    /// Phi(z) = erfc(-z / sqrt 2) / 2, evaluated in the lower tail where erfc has full relative
    /// precision; the result matches scipy.stats.norm.ppf to about 1e-15.
    static func quantile(_ p: Double) -> Double? {
        guard p > 0, p < 1 else { return nil }
        let tail = min(p, 1 - p)
        let t = (-2 * log(tail)).squareRoot()
        var z = -(t - (2.515517 + 0.802853 * t + 0.010328 * t * t)
                  / (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t))
        for _ in 0..<4 {
            let cdf = 0.5 * erfc(-z / 2.0.squareRoot())
            let density = exp(-0.5 * z * z) / (2 * Double.pi).squareRoot()
            z -= (cdf - tail) / density
        }
        return p < 0.5 ? z : -z
    }
}
