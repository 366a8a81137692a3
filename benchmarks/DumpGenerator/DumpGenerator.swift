import Capture
import Foundation
import Shared
import TestSupport

// A synthetic dump of a given size, SmolLM2-shaped, for the analyzer's speed and memory
// benchmark (benchmarks/run-analyze). No model: see TestSupport's SyntheticDump.
// Usage: swift run -c release DumpGenerator --out PATH [--gigabytes 10] [--dtype f32|f16] [--seed S]

struct Arguments {
    var out: String?
    var gigabytes = 10.0
    var dtype = CaptureConfiguration.ActivationType.f32
    var seed: UInt64 = 1

    init(_ args: [String]) throws {
        var i = 0
        func value() throws -> String {
            i += 1
            guard i < args.count else { throw InputError(file: nil, "\(args[i - 1]) needs a value") }
            return args[i]
        }
        while i < args.count {
            switch args[i] {
            case "--out": out = try value()
            case "--gigabytes":
                let text = try value()
                guard let size = Double(text), size > 0 else { throw InputError(file: nil, "--gigabytes \(text): expected a positive number") }
                gigabytes = size
            case "--dtype":
                let text = try value()
                guard let type = CaptureConfiguration.ActivationType(rawValue: text) else {
                    throw InputError(file: nil, "--dtype \(text): expected f32 or f16")
                }
                dtype = type
            case "--seed":
                let text = try value()
                guard let seed = UInt64(text) else { throw InputError(file: nil, "--seed \(text): expected an unsigned integer") }
                self.seed = seed
            default: throw InputError(file: nil, "unknown argument \(args[i])")
            }
            i += 1
        }
        guard out != nil else { throw InputError(file: nil, "--out PATH is required") }
    }
}

/// The benchmark's capture: 8 classification tasks (2 to 6 labels) and one open task, each
/// clean and with shuffled labels, 8 shots of about 200-token prompts, and a 10-sequence
/// induction probe; prompts per set chosen to reach the size asked for.
enum BenchmarkDump {
    static let classificationTasks = [
        ("sentiment", 2), ("topic", 3), ("subjectivity", 4), ("formality", 5),
        ("continent", 6), ("animal_class", 2), ("language", 3), ("color", 4),
    ]

    static func spec(promptsPerSet: Int, dtype: CaptureConfiguration.ActivationType, seed: UInt64) -> SyntheticDumpSpec {
        var sets: [SyntheticSetSpec] = []
        for (task, labels) in classificationTasks + [("antonym", 40)] {
            for variant in ["clean", "shuffled_labels"] {
                sets.append(SyntheticSetSpec(task: task, kind: task == "antonym" ? .open : .classification, variant: variant,
                                             shots: 8, template: "qa", promptCount: promptsPerSet, tokens: 180...220,
                                             labelCount: labels))
            }
        }
        return SyntheticDumpSpec(model: .smolLM2, activationType: dtype, seed: seed, sets: sets,
                                 probe: SyntheticProbeSpec(sequences: 10, repeatLength: 50))
    }

    /// Prompts per set whose dump comes closest to `bytes` (the size grows linearly with it).
    static func promptsPerSet(toReach bytes: Double, dtype: CaptureConfiguration.ActivationType, seed: UInt64) throws -> Int {
        let small = 100, large = 200
        let a = Double(try SyntheticDump.estimatedBytes(spec(promptsPerSet: small, dtype: dtype, seed: seed)))
        let b = Double(try SyntheticDump.estimatedBytes(spec(promptsPerSet: large, dtype: dtype, seed: seed)))
        let perPrompt = (b - a) / Double(large - small)
        return max(1, Int(((bytes - a) / perPrompt).rounded()) + small)
    }
}

@main
enum DumpGenerator {
    static func main() {
        do {
            try run(try Arguments(Array(CommandLine.arguments.dropFirst())))
        } catch {
            FileHandle.standardError.write(Data("DumpGenerator: \(error)\n".utf8))
            exit(1)
        }
    }

    static func run(_ arguments: Arguments) throws {
        let path = arguments.out!
        let prompts = try BenchmarkDump.promptsPerSet(toReach: arguments.gigabytes * 1e9, dtype: arguments.dtype, seed: arguments.seed)
        let spec = BenchmarkDump.spec(promptsPerSet: prompts, dtype: arguments.dtype, seed: arguments.seed)
        let terminal = isatty(2) != 0
        let start = Date()
        var lastDraw = Date.distantPast
        try SyntheticDump.write(spec, to: path) { progress in
            guard terminal, Date().timeIntervalSince(lastDraw) >= 0.2 || progress.rows == progress.totalRows else { return }
            lastDraw = Date()
            let seconds = max(Date().timeIntervalSince(start), 1e-9)
            let rate = Double(progress.bytes) / seconds
            let eta = rate > 0 ? Double(progress.totalBytes - progress.bytes) / rate : 0
            let line = String(format: "%.2f/%.2f GB  %d/%d rows  %.0f MB/s  ETA %.0f s", Double(progress.bytes) / 1e9,
                              Double(progress.totalBytes) / 1e9, progress.rows, progress.totalRows, rate / 1e6, eta)
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
        }
        if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
        let seconds = Date().timeIntervalSince(start)
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.doubleValue ?? 0
        print(String(format: "%@: %.2f GB, %d sets x %d prompts + %d probe sequences, %@ activations, written in %.1f s (%.0f MB/s)",
                     path, size / 1e9, spec.sets.count, prompts, spec.probe?.sequences ?? 0,
                     arguments.dtype == .f16 ? "float16" : "float32", seconds, size / seconds / 1e6))
    }
}
