import Capture
import Foundation
import Shared

// Prefill speed of the engine against the BLAS rate of the same GEMM shapes, and peak memory;
// then the reverse pass (gradients of the gold log-probability at the last token with respect to
// z and resid_pre of every layer) against the forward pass of the same prompt.
// Usage: swift run -c release EngineBenchmark --model PATH [--lengths 64,256,1024]
//        [--threads 1,2] [--repeats 5] [--out results.json] [--forward-only] [--no-weight-packing]
// --forward-only times the forward pass alone (no GEMM replay, no reverse pass): what
// benchmarks/interleaved_prefill.py runs between its transformers timings.
// --no-weight-packing runs the weight products through OpenBLAS instead of the packed kernel
// (docs/methods.md §22.4), the engine's path on CPUs without AVX2.
// Prints a table; --out also writes the numbers and the exact token ids used, so that
// benchmarks/transformers_prefill.py measures transformers on the same inputs.

struct Arguments {
    var model = "models/SmolLM2-135M-Instruct.Q4_1.gguf"
    var lengths = [64, 256, 1024]
    var threads = [1, 2]
    var repeats = 5
    var out: String?
    var forwardOnly = false
    var weightPacking = WeightPacking.automatic

    init(_ args: [String]) throws {
        var i = 0
        func value() throws -> String {
            i += 1
            guard i < args.count else { throw InputError(file: nil, "\(args[i - 1]) needs a value") }
            return args[i]
        }
        func list(_ text: String) -> [Int] { text.split(separator: ",").compactMap { Int($0) } }
        while i < args.count {
            switch args[i] {
            case "--model": model = try value()
            case "--lengths": lengths = list(try value())
            case "--threads": threads = list(try value())
            case "--repeats": repeats = max(1, Int(try value()) ?? 5)
            case "--out": out = try value()
            case "--forward-only": forwardOnly = true
            case "--no-weight-packing": weightPacking = .off
            default: throw InputError(file: nil, "unknown argument \(args[i])")
            }
            i += 1
        }
    }
}

struct Row: Encodable {
    let tokens: Int
    let threads: Int
    let forwardSeconds: Double
    let tokensPerSecond: Double
    let forwardGFLOPs: Double
    let forwardGFLOPPerSecond: Double
    /// The GEMM replay's figures; nil with --forward-only.
    let gemmSeconds: Double?
    let gemmGFLOPPerSecond: Double?
    /// forward GFLOP/s over the GEMM-only rate of the same shapes.
    let efficiency: Double?
}

/// One gradient pass (Transformer.gradients: its own forward pass, then the reverse pass)
/// against a plain forward pass of the same tokens, medians of the same number of runs.
struct BackwardRow: Encodable {
    let tokens: Int
    let threads: Int
    let forwardSeconds: Double
    let gradientPassSeconds: Double
    /// (gradient pass - forward) / forward: the reverse pass alone over the forward pass.
    let backwardOverForward: Double
}

struct Results: Encodable {
    let model: String
    let repeats: Int
    /// VmHWM after the forward runs, before any gradient pass.
    let peakRSSBytes: Int
    /// VmHWM after the gradient passes too.
    let peakRSSWithGradientsBytes: Int
    let backwardRows: [BackwardRow]
    let fp32WeightBytes: Int
    let rows: [Row]
    let tokenIDs: [String: [Int32]]
}

@main
enum EngineBenchmark {
    static func main() {
        do {
            try run(try Arguments(Array(CommandLine.arguments.dropFirst())))
        } catch {
            FileHandle.standardError.write(Data("EngineBenchmark: \(error)\n".utf8))
            exit(1)
        }
    }

    static func run(_ arguments: Arguments) throws {
        let loaded = try ModelLoader.load(path: arguments.model, weightPacking: arguments.weightPacking)
        let model = loaded.transformer
        var rows: [Row] = []
        var idsByLength: [String: [Int32]] = [:]
        for length in arguments.lengths {
            let ids = ordinaryTokens(length, tokenizer: loaded.tokenizer, vocabulary: loaded.config.vocabularySize)
            idsByLength[String(length)] = ids
            for threads in arguments.threads {
                ComputeThreads.set(threads)
                _ = try model.forward(tokens: ids)
                let forward = try median(arguments.repeats) { _ = try model.forward(tokens: ids) }
                let flops = FLOPCount.forward(config: loaded.config, tokens: length)
                let forwardRate = flops / forward / 1e9
                if arguments.forwardOnly {
                    rows.append(Row(tokens: length, threads: threads, forwardSeconds: forward,
                                    tokensPerSecond: Double(length) / forward, forwardGFLOPs: flops / 1e9,
                                    forwardGFLOPPerSecond: forwardRate, gemmSeconds: nil, gemmGFLOPPerSecond: nil,
                                    efficiency: nil))
                    print(String(format: "T=%5d threads=%d  forward %8.4f s  %8.1f tok/s  %6.1f GFLOP/s",
                                 length, threads, forward, Double(length) / forward, forwardRate))
                    continue
                }
                let gemm = GEMMReplay(model: model, tokens: length)
                gemm.run()
                let gemmTime = try median(arguments.repeats) { gemm.run() }
                let gemmRate = gemm.flops / gemmTime / 1e9
                let row = Row(tokens: length, threads: threads, forwardSeconds: forward,
                              tokensPerSecond: Double(length) / forward, forwardGFLOPs: flops / 1e9,
                              forwardGFLOPPerSecond: forwardRate, gemmSeconds: gemmTime,
                              gemmGFLOPPerSecond: gemmRate, efficiency: forwardRate / gemmRate)
                rows.append(row)
                print(String(format: "T=%5d threads=%d  forward %8.4f s  %8.1f tok/s  %6.1f GFLOP/s | GEMM-only %6.1f GFLOP/s | %5.1f%%",
                             length, threads, forward, row.tokensPerSecond, forwardRate, gemmRate, 100 * forwardRate / gemmRate))
            }
        }
        let weightBytes = FLOPCount.parameterCount(loaded.config) * 4
        let rss = MemoryUsage.peakResidentBytes()
        print(String(format: "peak RSS %.0f MiB = %.2fx the fp32 weights (%.0f MiB)",
                     Double(rss) / 1048576, Double(rss) / Double(weightBytes), Double(weightBytes) / 1048576))
        let backwardRows = arguments.forwardOnly
            ? [] : try measureBackward(model, arguments: arguments, idsByLength: idsByLength)
        let rssWithGradients = MemoryUsage.peakResidentBytes()
        if !arguments.forwardOnly {
            print(String(format: "peak RSS with gradient passes %.0f MiB", Double(rssWithGradients) / 1048576))
        }
        if let out = arguments.out {
            let results = Results(model: arguments.model, repeats: arguments.repeats, peakRSSBytes: rss,
                                  peakRSSWithGradientsBytes: rssWithGradients, backwardRows: backwardRows,
                                  fp32WeightBytes: weightBytes, rows: rows, tokenIDs: idsByLength)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try encoder.encode(results).write(to: URL(fileURLWithPath: out))
        }
    }

    /// Gradient passes against forward passes, interleaved per length and thread count so both
    /// see the same machine state.
    static func measureBackward(_ model: Transformer, arguments: Arguments,
                                idsByLength: [String: [Int32]]) throws -> [BackwardRow] {
        var rows: [BackwardRow] = []
        let request = GradientRequest.headsAndResidual(layers: model.config.layerCount)
        for length in arguments.lengths {
            let ids = idsByLength[String(length)]!
            let prompt = GradientPrompt(tokens: ids, target: MetricTarget(gold: ids[0]))
            for threads in arguments.threads {
                ComputeThreads.set(threads)
                _ = try model.gradients(of: .goldLogProbability, prompts: [prompt], request: request) { _ in }
                let forward = try median(arguments.repeats) { _ = try model.forward(tokens: ids) }
                let pass = try median(arguments.repeats) {
                    _ = try model.gradients(of: .goldLogProbability, prompts: [prompt], request: request) { _ in }
                }
                let row = BackwardRow(tokens: length, threads: threads, forwardSeconds: forward,
                                      gradientPassSeconds: pass, backwardOverForward: (pass - forward) / forward)
                rows.append(row)
                print(String(format: "T=%5d threads=%d  forward %8.4f s  gradient pass %8.4f s  backward / forward %.2f",
                             length, threads, forward, pass, row.backwardOverForward))
            }
        }
        return rows
    }

    /// Seeded ids of ordinary (non-special) tokens: a prompt without BOS, as the CLI builds it.
    static func ordinaryTokens(_ count: Int, tokenizer: any Tokenizer, vocabulary: Int) -> [Int32] {
        var state: UInt64 = 0x5EED
        var ids: [Int32] = []
        while ids.count < count {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let id = Int32((state >> 33) % UInt64(vocabulary))
            if !tokenizer.isSpecial(id) { ids.append(id) }
        }
        return ids
    }

    static func median(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
        var times: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return times.sorted()[times.count / 2]
    }
}
