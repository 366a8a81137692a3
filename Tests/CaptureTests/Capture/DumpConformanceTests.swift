import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// One capture through the CLI (tiny model; a classification and an open task; clean,
/// shuffled-labels and zero-shot; --positions labels; an induction probe), checked against
/// DumpLayout (every group, dataset, attribute, dimension label, shape and type) and against
/// the model itself (tokenizer, weights, forward pass, logit identities).
final class DumpConformanceTests: XCTestCase {
    static let shots = 3, prompts = 6, probes = 3, probeLength = 20, seed: UInt64 = 7
    static let tasks = ["sentiment", "antonym"]
    static let options = ["--tasks", tasks.joined(separator: ","), "--shots", "\(shots)", "--n", "\(prompts)",
                          "--variants", "clean,shuffled-labels,zero-shot", "--positions", "labels",
                          "--probe-sequences", "\(probes)", "--probe-length", "\(probeLength)", "--seed", "\(seed)"]

    nonisolated(unsafe) static var scratch: ScratchDirectory?
    nonisolated(unsafe) static var captured: (path: String, dump: DumpSnapshot)?

    var dump: DumpSnapshot { Self.captured!.dump }
    var model: LoadedModel { try! LoadedModels.model(CaptureTool.tinyModel) }

    override func setUpWithError() throws {
        try CaptureTool.skipUnlessBuilt()
        if Self.captured != nil { return }
        let scratch = try ScratchDirectory("conformance")
        Self.scratch = scratch
        let path = scratch.path("dump.h5")
        let outcome = try CaptureTool.capture(Self.options, out: path)
        XCTAssertTrue(outcome.succeeded, "\(outcome)")
        guard outcome.succeeded else { throw XCTSkip("the capture failed; see the failure above") }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".partial"), "the temporary name is left over")
        Self.captured = (path, try DumpSnapshot(path: path))
    }

    override class func tearDown() {
        scratch?.remove()
        scratch = nil
        captured = nil
        super.tearDown()
    }

    /// The sets the options make, by name.
    static var expectedSets: [String] {
        ["sentiment.clean.k3.sentiment", "sentiment.shuffled_labels.k3.sentiment", "sentiment.zero_shot.k0.sentiment",
         "antonym.clean.k3.qa", "antonym.shuffled_labels.k3.qa", "antonym.zero_shot.k0.qa"].sorted()
    }

    /// The prompt set a group holds, rebuilt with the public prompt builder.
    func promptSet(_ group: String) throws -> PromptSet {
        let task = try XCTUnwrap(dump.stringAttribute(group, "task"))
        let variantName = try XCTUnwrap(dump.stringAttribute(group, "variant"))
        let variant = try XCTUnwrap(PromptVariant(dumpName: variantName), variantName)
        let file = try TaskCatalog(directory: URL(fileURLWithPath: CaptureTool.tasksDirectory)).load(task)
        let spec = PromptSetSpec(task: task, variant: variant, shots: try XCTUnwrap(dump.intAttribute(group, "shots")),
                                 template: dump.stringAttribute(group, "template"), count: Self.prompts, seed: Self.seed)
        return try PromptBuilder(task: file).build(spec)
    }

    // MARK: The layout

    func testEveryGroupDatasetAndAttributeOfTheLayoutIsPresentWithItsDimensionsAndType() throws {
        XCTAssertEqual(dump.groupNames(under: "/sets"), Self.expectedSets)
        XCTAssertEqual(dump.groupNames(under: "/probes"), ["induction.r\(Self.probeLength)"])
        let config = model.config
        let rootSizes = ["layer": config.layerCount, "head": config.headCount, "d_head": config.headDim,
                         "d_model": config.hiddenSize, "resid_layer": config.layerCount + 1]
        let file = try HDF5File.open(Self.captured!.path)
        defer { try? file.close() }
        for (name, size) in rootSizes {
            XCTAssertEqual(try file.openDataset(name).shape, [size], "root dimension \(name)")
            XCTAssertTrue(try file.openDataset(name).isDimensionScale, name)
        }
        var checked = 0
        for layoutGroup in DumpLayout.groups {
            let paths: [String]
            switch layoutGroup.path {
            case "/sets/{set}": paths = dump.groupNames(under: "/sets").map { "/sets/" + $0 }
            case "/probes/{probe}": paths = dump.groupNames(under: "/probes").map { "/probes/" + $0 }
            default: paths = [layoutGroup.path]
            }
            XCTAssertFalse(paths.isEmpty, "no group for \(layoutGroup.path)")
            for path in paths {
                try checkGroup(layoutGroup, at: path, in: file, rootSizes: rootSizes)
                checked += 1
            }
        }
        XCTAssertEqual(checked, 2 + Self.expectedSets.count + 1)
    }

    private func checkGroup(_ layout: DumpGroup, at path: String, in file: HDF5File, rootSizes: [String: Int]) throws {
        let group: any HDF5Container = path == "/" ? file : try file.openGroup(path)
        // Attributes, with the declared kind.
        let attributes = dump.attributes[path] ?? [:]
        for attribute in layout.attributes {
            guard let value = attributes[attribute.name] else {
                XCTFail("\(path): attribute \(attribute.name) missing")
                continue
            }
            let ok: Bool
            switch (attribute.type, value) {
            case ("string", .string), ("int", .int), ("float", .double): ok = true
            case ("string[]", .strings), ("string[]", .string), ("int[]", .ints), ("int[]", .int): ok = true
            default: ok = false
            }
            XCTAssertTrue(ok, "\(path)@\(attribute.name) is \(value), the layout says \(attribute.type)")
        }
        // This group's dimensions are scales here; the model-wide ones live at the root.
        var sizes = rootSizes
        for dimension in layout.dimensions {
            let scale = try group.openDataset(dimension.name)
            XCTAssertTrue(scale.isDimensionScale, "\(path)/\(dimension.name) is not a dimension scale")
            XCTAssertEqual(scale.shape.count, 1)
            sizes[dimension.name] = scale.shape.first
        }
        let activation: HDF5ElementType = dump.stringAttribute("/", "activation_dtype") == "float16" ? .float16 : .float32
        let prefix = path == "/" ? "/" : path + "/"
        for spec in layout.datasets {
            guard group.exists(spec.name) else {
                if !spec.optional { XCTFail("\(prefix)\(spec.name) missing") }
                continue
            }
            let dataset = try group.openDataset(spec.name)
            XCTAssertEqual(try dataset.dimensionLabels(), spec.dimensions, "\(dataset.path): dimension labels")
            XCTAssertEqual(dataset.shape, spec.dimensions.map { sizes[$0] ?? -1 },
                           "\(dataset.path): shape vs the sizes of \(spec.dimensions)")
            let expected: HDF5ElementType
            switch spec.type {
            case .activation: expected = activation
            case .float32: expected = .float32
            case .int32: expected = .int32
            case .uint8: expected = .uint8
            case .string: expected = .variableLengthString
            }
            XCTAssertEqual(dataset.elementType, expected, dataset.path)
        }
        // Nothing the layout does not declare (besides the subgroups of the root).
        if path != "/" {
            let known = Set(layout.datasets.map(\.name) + layout.dimensions.map(\.name))
            for member in try group.members() where !known.contains(member.name) {
                XCTFail("\(prefix)\(member.name) is not in the layout")
            }
        }
    }

    func testDimensionSizesMatchTheCapture() throws {
        for name in Self.expectedSets {
            let group = "/sets/" + name
            let zeroShot = name.contains("zero_shot")
            let shots = zeroShot ? 0 : Self.shots
            let counts = try dump.dataset(group + "/token_count").ints()
            XCTAssertEqual(counts.count, Self.prompts, name)
            XCTAssertEqual(try dump.dataset(group + "/token_ids").shape, [Self.prompts, counts.max()!], "token is the longest prompt")
            XCTAssertEqual(try dump.dataset(group + "/z").shape,
                           [Self.prompts, 1 + shots, model.config.layerCount, model.config.headCount, model.config.headDim], name)
            XCTAssertEqual(try dump.dataset(group + "/demo_output_span").shape, [Self.prompts, shots, 2], name)
            XCTAssertEqual(try dump.dataset(group + "/top_ids").shape, [Self.prompts, 10], name)
            XCTAssertEqual(dump.intAttribute(group, "shots"), shots)
            XCTAssertEqual(dump.intAttribute(group, "prompt_count"), Self.prompts)
            XCTAssertEqual(dump.intAttribute(group, "seed"), Int(Self.seed))
            XCTAssertEqual(try dump.dataset(group + "/prompt_index").ints(), Array(0..<Self.prompts))
        }
    }

    func testRootAttributesDescribeTheCapture() throws {
        XCTAssertEqual(dump.stringAttribute("/", "format"), DumpFormat.name)
        XCTAssertEqual(dump.stringAttribute("/", "format_version"), DumpFormat.version)
        XCTAssertEqual(dump.stringAttribute("/", "activation_dtype"), "float32")
        XCTAssertEqual(dump.stringAttribute("/", "shard"), "0/1")
        XCTAssertEqual(dump.stringAttribute("/", "architecture"), "llama")
        XCTAssertEqual(dump.stringAttribute("/", "model_format"), ModelFormat.huggingFace.rawValue)
        XCTAssertEqual(dump.stringAttribute("/", "tokenizer"), model.tokenizer.summary)
        XCTAssertEqual(dump.stringAttribute("/", "bos_policy"),
                       model.tokenizer.addsBOSByDefault ? "model default: added" : "model default: not added")
        XCTAssertEqual(dump.stringAttribute("/", "model_sha256"), try ModelFiles.sha256(of: model))
        XCTAssertNotNil(ISO8601DateFormatter().date(from: dump.stringAttribute("/", "created") ?? ""), "created")
        let configuration = try JSONDecoder().decode(CaptureConfiguration.self,
                                                     from: Data((dump.stringAttribute("/", "capture_config") ?? "").utf8))
        XCTAssertEqual(configuration, CaptureConfiguration(
            tasks: Self.tasks, variants: [.clean, .shuffledLabels, .zeroShot], shots: [Self.shots],
            promptsPerSet: Self.prompts, seed: Self.seed, positions: .labels, probeSequences: Self.probes,
            probeLength: Self.probeLength))
        let definitions = try JSONSerialization.jsonObject(with: Data((dump.stringAttribute("/", "definitions") ?? "").utf8))
        XCTAssertNotNil(definitions as? [String: String])
    }

    // MARK: Rows

    func testEveryRowIsDoneAndAttentionRowsSumToOneOverThePrompt() throws {
        let l = model.config.layerCount, h = model.config.headCount
        for name in Self.expectedSets {
            let group = "/sets/" + name
            XCTAssertEqual(try dump.dataset(group + "/done").ints(), Array(repeating: 1, count: Self.prompts), name)
            let attention = try dump.dataset(group + "/attention"), counts = try dump.dataset(group + "/token_count").ints()
            let t = attention.shape[3]
            for p in 0..<Self.prompts {
                for row in 0..<(l * h) {
                    let values = attention.numbers[((p * l * h) + row) * t..<((p * l * h) + row + 1) * t]
                    let inside = values.prefix(counts[p]), after = values.dropFirst(counts[p])
                    XCTAssertEqual(inside.reduce(0, +), 1, accuracy: 1e-5, "\(name) prompt \(p) layer/head \(row)")
                    XCTAssertTrue(inside.allSatisfy { $0 >= 0 }, "\(name) prompt \(p): negative probability")
                    XCTAssertTrue(after.allSatisfy { $0 == 0 }, "\(name) prompt \(p): attention after the end")
                }
            }
        }
        let probe = "/probes/induction.r\(Self.probeLength)"
        XCTAssertEqual(try dump.dataset(probe + "/done").ints(), Array(repeating: 1, count: Self.probes))
        let pattern = try dump.dataset(probe + "/attention_pattern")
        let t = pattern.shape[4]
        for row in 0..<(Self.probes * l * h) {
            for q in 0..<t {
                let values = pattern.numbers[((row * t) + q) * t..<((row * t) + q + 1) * t]
                XCTAssertEqual(values.prefix(q + 1).reduce(0, +), 1, accuracy: 1e-5, "probe row \(row) query \(q)")
                XCTAssertTrue(values.dropFirst(q + 1).allSatisfy { $0 == 0 }, "probe row \(row) query \(q): not causal")
            }
        }
    }

    func testProbeSequencesAreBOSAndRandomTokensRepeatedTwice() throws {
        let probe = "/probes/induction.r\(Self.probeLength)"
        let tokens = try dump.dataset(probe + "/token_ids")
        let bos = model.tokenizer.addsBOSByDefault ? model.tokenizer.bosTokenID : nil
        XCTAssertEqual(dump.intAttribute(probe, "bos"), bos == nil ? 0 : 1)
        XCTAssertEqual(dump.intAttribute(probe, "repeat_length"), Self.probeLength)
        XCTAssertEqual(tokens.shape, [Self.probes, (bos == nil ? 0 : 1) + 2 * Self.probeLength])
        for p in 0..<Self.probes {
            var row = tokens.row(p).map { Int32($0) }
            if let bos { XCTAssertEqual(row.removeFirst(), bos) }
            XCTAssertEqual(Array(row.prefix(Self.probeLength)), Array(row.suffix(Self.probeLength)), "probe \(p)")
            XCTAssertEqual(Set(row.prefix(Self.probeLength)).count, Self.probeLength, "probe \(p): repeated tokens")
            XCTAssertFalse(row.contains { model.tokenizer.isSpecial($0) }, "probe \(p): special token")
        }
    }

    // MARK: Tokens and spans

    func testTokensAgreeWithTheModelsTokenizerAndTheRebuiltPrompts() throws {
        let tokenizer = model.tokenizer
        for name in Self.expectedSets {
            let group = "/sets/" + name
            let set = try promptSet(group)
            let texts = try dump.dataset(group + "/text").strings, golds = try dump.dataset(group + "/gold_text").strings
            let ids = try dump.dataset(group + "/token_ids"), counts = try dump.dataset(group + "/token_count").ints()
            let masks = try dump.dataset(group + "/special_mask"), positions = try dump.dataset(group + "/positions")
            XCTAssertEqual(texts, set.prompts.map(\.text), "\(name): text is not the prompt builder's")
            XCTAssertEqual(golds, set.prompts.map(\.goldOutput), name)
            for p in 0..<Self.prompts {
                let expected = tokenizer.encode(texts[p])
                let row = ids.row(p).map { Int32($0) }
                XCTAssertEqual(counts[p], expected.count, "\(name) prompt \(p)")
                XCTAssertEqual(Array(row.prefix(counts[p])), expected, "\(name) prompt \(p): token ids")
                XCTAssertTrue(row.dropFirst(counts[p]).allSatisfy { $0 == -1 }, "\(name) prompt \(p): padding")
                XCTAssertEqual(masks.row(p).map { UInt8($0) },
                               expected.map { tokenizer.isSpecial($0) ? 1 : 0 } + Array(repeating: 0, count: row.count - counts[p]),
                               "\(name) prompt \(p): special mask")
                XCTAssertEqual(Int(positions.row(p).first!), counts[p] - 1, "\(name) prompt \(p): answer position")
            }
        }
    }

    /// Spans slice the token ids: each demonstration's input and output span covers exactly
    /// its text, lies inside the prompt and in prompt order; where a boundary falls between
    /// tokens (the tokenization of the text before it is a prefix of the prompt's), the span
    /// starts or ends exactly there. Label positions are the tokens that predict each
    /// demonstration's label token, as the answer position does for the query.
    func testSpansSliceTheTokensAndLabelPositionsPredictTheLabels() throws {
        let tokenizer = model.tokenizer
        var alignedChecks = 0
        for name in Self.expectedSets {
            let group = "/sets/" + name
            let set = try promptSet(group)
            let prefixFormat = set.template.outputAffixes.prefix
            let ids = try dump.dataset(group + "/token_ids"), counts = try dump.dataset(group + "/token_count").ints()
            let inputs = try dump.dataset(group + "/demo_input_span").ints()
            let outputs = try dump.dataset(group + "/demo_output_span").ints()
            let queries = try dump.dataset(group + "/query_span").ints()
            let positions = try dump.dataset(group + "/positions")
            for (p, prompt) in set.prompts.enumerated() {
                let row = Array(ids.row(p).prefix(counts[p]).map { Int32($0) })
                let bytes = Array(prompt.text.utf8)
                /// Tokens of the text before byte `offset`, when they are a prefix of the prompt's.
                func alignedTokenCount(before offset: Int) -> Int? {
                    let prefix = tokenizer.encode(String(decoding: bytes[..<offset], as: UTF8.self))
                    return row.starts(with: prefix) ? prefix.count : nil
                }
                func check(_ span: (Int, Int), _ bytesSpan: ByteSpan, _ what: String) {
                    let context = "\(name) prompt \(p) \(what) span \(span) for \(bytesSpan.slice(of: prompt.text).debugDescription)"
                    XCTAssertTrue(0 <= span.0 && span.0 < span.1 && span.1 <= counts[p], context)
                    guard 0 <= span.0 && span.0 < span.1 && span.1 <= counts[p] else { return }
                    let covered = tokenizer.decode(Array(row[span.0..<span.1]))
                    XCTAssertTrue(covered.contains(bytesSpan.slice(of: prompt.text) ?? "\u{0}"), "\(context): covers \(covered.debugDescription)")
                    if let start = alignedTokenCount(before: bytesSpan.start) {
                        XCTAssertEqual(span.0, start, "\(context): starts at \(span.0), boundary at \(start)")
                        alignedChecks += 1
                    }
                    if let end = alignedTokenCount(before: bytesSpan.end) {
                        XCTAssertEqual(span.1, end, "\(context): ends at \(span.1), boundary at \(end)")
                        alignedChecks += 1
                    }
                }
                var previousEnd = 0
                for (j, demo) in prompt.demonstrations.enumerated() {
                    let input = (inputs[(p * set.spec.effectiveShots + j) * 2], inputs[(p * set.spec.effectiveShots + j) * 2 + 1])
                    let output = (outputs[(p * set.spec.effectiveShots + j) * 2], outputs[(p * set.spec.effectiveShots + j) * 2 + 1])
                    check(input, demo.inputSpan, "demo \(j) input")
                    check(output, demo.outputSpan, "demo \(j) output")
                    XCTAssertTrue(previousEnd <= input.0 && input.1 <= output.0, "\(name) prompt \(p) demo \(j): spans out of order")
                    previousEnd = output.1
                    // The label position predicts the label token: it is the last token before
                    // the output format (" {y}") starts, where boundaries align.
                    let labelPosition = Int(positions.row(p)[positions.row(p).startIndex + 1 + j])
                    XCTAssertTrue(0 <= labelPosition && labelPosition < output.0, "\(name) prompt \(p) demo \(j): label position \(labelPosition)")
                    if let before = alignedTokenCount(before: demo.outputSpan.start - prefixFormat.utf8.count) {
                        XCTAssertEqual(labelPosition, before - 1,
                                       "\(name) prompt \(p) demo \(j): label position \(labelPosition) should be the last token before \(set.template.formatOutput(demo.output).debugDescription), \(before - 1) (tokens \(row[max(0, before - 2)..<min(row.count, before + 2)]))")
                        alignedChecks += 1
                    }
                }
                let query = (queries[p * 2], queries[p * 2 + 1])
                check(query, prompt.queryInputSpan, "query")
                XCTAssertTrue(previousEnd <= query.0, "\(name) prompt \(p): query before the demonstrations")
            }
        }
        XCTAssertGreaterThan(alignedChecks, 50, "too few aligned boundaries to check spans exactly")
    }

    // MARK: Logits

    func testLabelsGoldTokensAndLogitsAreConsistent() throws {
        let tokenizer = model.tokenizer
        for name in Self.expectedSets {
            let group = "/sets/" + name
            let set = try promptSet(group)
            let kind = try XCTUnwrap(dump.stringAttribute(group, "task_kind"))
            let labelIDs = try dump.dataset(group + "/label_ids").ints().map(Int32.init)
            let labelLogits = try dump.dataset(group + "/label_logits"), topIDs = try dump.dataset(group + "/top_ids")
            let topLogits = try dump.dataset(group + "/top_logits"), argmax = try dump.dataset(group + "/argmax").ints()
            let gold = try dump.dataset(group + "/gold").ints(), goldTokens = try dump.dataset(group + "/gold_token").ints()
            let goldLogprob = try dump.dataset(group + "/gold_logprob").numbers
            if kind == "classification" {
                XCTAssertEqual(labelIDs, set.labelOutputs.map { tokenizer.encode($0, addBOS: false).first! }, name)
            } else {
                XCTAssertEqual(Set(labelIDs), Set(set.prompts.map { tokenizer.encode($0.goldOutput, addBOS: false).first! }), name)
                XCTAssertEqual(Set(labelIDs).count, labelIDs.count, "\(name): repeated label ids")
            }
            XCTAssertEqual(labelIDs.count, labelLogits.shape[1])
            for p in 0..<Self.prompts {
                let tops = topIDs.row(p).map { Int32($0) }, topValues = Array(topLogits.row(p)), labels = Array(labelLogits.row(p))
                XCTAssertEqual(Int32(argmax[p]), tops[0], "\(name) prompt \(p): argmax is not top_ids[0]")
                XCTAssertEqual(topValues, topValues.sorted(by: >), "\(name) prompt \(p): top logits not sorted")
                for (j, logit) in labels.enumerated() {
                    XCTAssertGreaterThanOrEqual(topValues[0], logit, "\(name) prompt \(p): label \(j) beats the argmax")
                    if let rank = tops.firstIndex(of: labelIDs[j]) {
                        XCTAssertEqual(topValues[rank], logit, "\(name) prompt \(p): label \(j) logit vs its top-k entry")
                    } else {
                        XCTAssertLessThanOrEqual(logit, topValues.last!, "\(name) prompt \(p): label \(j) should be in the top-k")
                    }
                }
                XCTAssertEqual(goldTokens[p], Int(tokenizer.encode(set.prompts[p].goldOutput, addBOS: false).first!))
                XCTAssertTrue(goldLogprob[p] <= 0 && goldLogprob[p].isFinite, "\(name) prompt \(p): gold_logprob \(goldLogprob[p])")
                if kind == "classification" {
                    XCTAssertEqual(gold[p], set.prompts[p].goldLabelIndex, "\(name) prompt \(p)")
                    XCTAssertEqual(Int(labelIDs[gold[p]]), goldTokens[p], "\(name) prompt \(p): gold label vs gold token")
                } else {
                    XCTAssertEqual(gold[p], -1)
                    XCTAssertTrue(labelIDs.contains(Int32(goldTokens[p])), "\(name) prompt \(p): gold token not a label")
                }
            }
        }
    }

    /// logit(t) = (final_norm_scale * final_norm_weight * resid_final) . unembed[row of t],
    /// and the stored scale is the final RMSNorm's of the stored resid_final.
    func testDirectLogitAttributionReproducesTheLabelLogits() throws {
        let d = model.config.hiddenSize, l = model.config.layerCount
        let ids = try dump.dataset("/model/unembed_ids").ints(), unembed = try dump.dataset("/model/unembed")
        let gamma = try dump.dataset("/model/final_norm_weight").numbers
        let epsilon = try XCTUnwrap({ if case .double(let e)? = dump.attributes["/model"]?["rms_norm_epsilon"] { return e }; return nil }())
        var worst = 0.0
        for name in Self.expectedSets {
            let group = "/sets/" + name
            let labelIDs = try dump.dataset(group + "/label_ids").ints(), labelLogits = try dump.dataset(group + "/label_logits")
            let resid = try dump.dataset(group + "/resid"), scales = try dump.dataset(group + "/final_norm_scale")
            let positions = resid.shape[1]
            for p in 0..<Self.prompts {
                let final = resid.numbers[((p * positions) * (l + 1) + l) * d..<((p * positions) * (l + 1) + l + 1) * d]
                let scale = scales.numbers[p * positions]
                let meanSquare = final.reduce(0) { $0 + $1 * $1 } / Double(d)
                XCTAssertEqual(scale, 1 / (meanSquare + epsilon).squareRoot(), accuracy: 1e-5 * scale, "\(name) prompt \(p): final_norm_scale")
                let stored = labelLogits.row(p)
                let magnitude = max(stored.map(abs).max() ?? 0, 1)
                for (j, id) in labelIDs.enumerated() {
                    let row = try XCTUnwrap(ids.firstIndex(of: id), "label \(id) has no unembedding row")
                    var logit = 0.0
                    for k in 0..<d { logit += scale * gamma[k] * final[final.startIndex + k] * unembed.numbers[row * d + k] }
                    let expected = stored[stored.startIndex + j]
                    worst = max(worst, abs(logit - expected) / magnitude)
                    XCTAssertEqual(logit, expected, accuracy: 1e-4 * magnitude, "\(name) prompt \(p) label \(j): DLA")
                }
            }
        }
        print("DLA identity: worst relative difference \(worst)")
    }

    /// The stored rows are the model's own: a forward pass of each prompt alone, hooked,
    /// gives the same z, resid and attention at the captured positions, and the same logits.
    func testRowsAreTheModelsOwnActivations() throws {
        let config = model.config
        let l = config.layerCount, h = config.headCount, e = config.headDim, d = config.hiddenSize
        var worst = 0.0
        for name in [Self.expectedSets[0], Self.expectedSets.last!] {
            let group = "/sets/" + name
            let ids = try dump.dataset(group + "/token_ids"), counts = try dump.dataset(group + "/token_count").ints()
            let positions = try dump.dataset(group + "/positions"), z = try dump.dataset(group + "/z")
            let resid = try dump.dataset(group + "/resid"), attention = try dump.dataset(group + "/attention")
            let labelLogits = try dump.dataset(group + "/label_logits"), labelIDs = try dump.dataset(group + "/label_ids").ints()
            let c = positions.shape[1], t = attention.shape[3]
            for p in [0, Self.prompts - 1] {
                let tokens = ids.row(p).prefix(counts[p]).map { Int32($0) }
                var zAll = [[Float]](repeating: [], count: l), residAll = [[Float]](repeating: [], count: l + 1)
                var patterns = [[Float]](repeating: [], count: l)
                let hooks = Hooks()
                for layer in 0..<l {
                    hooks.add(.z(layer)) { zAll[layer] = Array($0.values) }
                    hooks.add(.residPre(layer)) { residAll[layer] = Array($0.values) }
                    hooks.add(.attnPattern(layer)) { patterns[layer] = Array($0.values) }
                }
                hooks.add(.residFinal) { residAll[l] = Array($0.values) }
                let logits = try model.transformer.forward(tokens: tokens, hooks: hooks).lastLogits(of: 0)
                var expectedZ: [Double] = [], expectedResid: [Double] = [], expectedAttention: [Double] = []
                for position in positions.row(p).map({ Int($0) }) {
                    for layer in 0..<l { expectedZ += zAll[layer][position * h * e..<(position + 1) * h * e].map(Double.init) }
                    for layer in 0...l { expectedResid += residAll[layer][position * d..<(position + 1) * d].map(Double.init) }
                }
                let n = counts[p]
                for layer in 0..<l {
                    for head in 0..<h {
                        let from = (head * n + n - 1) * n
                        expectedAttention += patterns[layer][from..<from + n].map(Double.init) + Array(repeating: 0, count: t - n)
                    }
                }
                let context = "\(name) prompt \(p)"
                let zRow = z.row(p), residRow = resid.row(p), attentionRow = attention.row(p)
                XCTAssertEqual(zRow.count, c * l * h * e)
                for (stored, expected, what) in [(zRow, expectedZ[...], "z"), (residRow, expectedResid[...], "resid"),
                                                 (attentionRow, expectedAttention[...], "attention")] {
                    let difference = relativeDifference(stored, expected)
                    worst = max(worst, difference)
                    XCTAssertLessThan(difference, 1e-5, "\(context): \(what) differs from a forward pass of the prompt alone (\(firstDifference(stored, expected)))")
                }
                let expectedLogits = labelIDs.map { Double(logits[logits.startIndex + $0]) }
                let difference = relativeDifference(labelLogits.row(p), expectedLogits[...])
                worst = max(worst, difference)
                XCTAssertLessThan(difference, 1e-5, "\(context): label logits")
            }
        }
        print("stored rows vs single-prompt forward passes: worst relative difference \(worst)")
    }

    // MARK: Label projections (format 1.1)

    /// head_label_logits[p, c, l, h, y] = s[p, c] * sum_d gamma[d] * (z[p, c, l, h] @ W_O[l, h])[d] * W_U[y, d]
    /// and resid_label_logits[p, c, r, y] = s[p, c] * sum_d gamma[d] * resid[p, c, r, d] * W_U[y, d],
    /// recomputed here in float64 with plain loops from the dump's own z, resid, W_O, scale,
    /// gamma and unembedding rows.
    func testLabelProjectionsEqualAPlainRecomputeFromTheStoredValues() throws {
        let config = model.config
        let l = config.layerCount, h = config.headCount, e = config.headDim, d = config.hiddenSize
        let ids = try dump.dataset("/model/unembed_ids").ints(), unembed = try dump.dataset("/model/unembed").numbers
        let gamma = try dump.dataset("/model/final_norm_weight").numbers, wO = try dump.dataset("/model/W_O").numbers
        var worstHead = 0.0, worstResid = 0.0, compared = 0
        for name in Self.expectedSets {
            let group = "/sets/" + name
            let rows = try dump.dataset(group + "/label_ids").ints().map { id in try XCTUnwrap(ids.firstIndex(of: id), "label \(id)") }
            let y = rows.count
            let z = try dump.dataset(group + "/z").numbers, resid = try dump.dataset(group + "/resid").numbers
            let scales = try dump.dataset(group + "/final_norm_scale").numbers
            let heads = try dump.dataset(group + "/head_label_logits"), streams = try dump.dataset(group + "/resid_label_logits")
            let c = try dump.dataset(group + "/positions").shape[1]
            XCTAssertEqual(heads.shape, [Self.prompts, c, l, h, y], name)
            XCTAssertEqual(streams.shape, [Self.prompts, c, l + 1, y], name)
            XCTAssertEqual(heads.type, .float32, name)
            XCTAssertEqual(streams.type, .float32, name)
            for row in 0..<(Self.prompts * c) {
                let scale = scales[row]
                var expectedHeads: [Double] = [], expectedStreams: [Double] = []
                for layer in 0..<l {
                    for head in 0..<h {
                        var write = [Double](repeating: 0, count: d)   // z_h @ W_O[l, h]: [D]
                        for k in 0..<e {
                            let zk = z[((row * l + layer) * h + head) * e + k], from = ((layer * h + head) * e + k) * d
                            for j in 0..<d { write[j] += zk * wO[from + j] }
                        }
                        for label in rows {
                            var sum = 0.0
                            for j in 0..<d { sum += gamma[j] * write[j] * unembed[label * d + j] }
                            expectedHeads.append(scale * sum)
                        }
                    }
                }
                for stream in 0...l {
                    for label in rows {
                        var sum = 0.0
                        for j in 0..<d { sum += gamma[j] * resid[(row * (l + 1) + stream) * d + j] * unembed[label * d + j] }
                        expectedStreams.append(scale * sum)
                    }
                }
                let storedHeads = heads.numbers[(row * l * h * y)..<((row + 1) * l * h * y)]
                let storedStreams = streams.numbers[(row * (l + 1) * y)..<((row + 1) * (l + 1) * y)]
                let headDifference = relativeDifference(storedHeads, expectedHeads[...])
                let residDifference = relativeDifference(storedStreams, expectedStreams[...])
                worstHead = max(worstHead, headDifference)
                worstResid = max(worstResid, residDifference)
                XCTAssertLessThan(headDifference, 1e-5, "\(name) row \(row): head_label_logits (\(firstDifference(storedHeads, expectedHeads[...])))")
                XCTAssertLessThan(residDifference, 1e-5, "\(name) row \(row): resid_label_logits (\(firstDifference(storedStreams, expectedStreams[...])))")
                compared += 1
            }
        }
        XCTAssertGreaterThan(compared, Self.prompts * Self.expectedSets.count, "label positions were not compared")
        print("label projections vs a float64 recompute: worst relative difference head \(worstHead), resid \(worstResid)")
    }

    /// The resid_final entry at the answer position is the model's own label logit.
    func testLastResidualProjectionAtTheAnswerIsTheLabelLogits() throws {
        let l = model.config.layerCount
        var worst = 0.0
        for name in Self.expectedSets {
            let group = "/sets/" + name
            let streams = try dump.dataset(group + "/resid_label_logits"), labelLogits = try dump.dataset(group + "/label_logits")
            let c = streams.shape[1], y = streams.shape[3]
            for p in 0..<Self.prompts {
                let last = streams.numbers[(((p * c) * (l + 1)) + l) * y..<(((p * c) * (l + 1)) + l + 1) * y]
                let difference = relativeDifference(last, labelLogits.row(p))
                worst = max(worst, difference)
                XCTAssertLessThan(difference, 1e-5, "\(name) prompt \(p): \(firstDifference(last, labelLogits.row(p)))")
            }
        }
        print("resid_label_logits[..., L, :] at the answer vs label_logits: worst relative difference \(worst)")
    }

    /// Every id has its text; byte tokens of a character the tiny vocabulary does not merge
    /// show as the character's UTF-8 bytes.
    func testTokenTextHoldsEveryVocabularyEntry() throws {
        let tokenizer = model.tokenizer, v = model.config.vocabularySize
        let texts = try dump.dataset("/model/token_text")
        XCTAssertEqual(texts.shape, [v])
        XCTAssertEqual(texts.type, .variableLengthString)
        XCTAssertEqual(texts.strings, (0..<Int32(v)).map(tokenizer.tokenText))
        let hot = tokenizer.encode(" hot", addBOS: false)
        XCTAssertEqual(hot.map { texts.strings[Int($0)] }.joined(), " hot")
        XCTAssertEqual(texts.strings[Int(try XCTUnwrap(tokenizer.bosTokenID))], "<|begin_of_text|>")
        let emoji = "\u{1F600}"
        let pieces = tokenizer.encode(emoji, addBOS: false)
        XCTAssertEqual(pieces.count, 4, "the tiny vocabulary no longer splits \(emoji) into bytes: pick another character")
        XCTAssertEqual(pieces.map { texts.strings[Int($0)] }, emoji.utf8.map { String(format: "<0x%02X>", $0) })
        XCTAssertTrue(pieces.allSatisfy { tokenizer.decode([$0]) == "\u{FFFD}" }, "the bytes alone are not text")
    }

    // MARK: The checksum file

    func testAFinishedCaptureHasAChecksumFileThatSha256sumAccepts() throws {
        let path = Self.captured!.path
        XCTAssertEqual(try DumpChecksum.verify(path), .verified(try SHA256.hexDigest(ofFile: path)))
        let check = try CaptureTool.sha256sumCheck(path)
        XCTAssertEqual(check.status, 0, check.output)
        XCTAssertTrue(check.output.contains("dump.h5: OK"), check.output)
    }

    // MARK: The model group

    func testModelGroupHoldsTheModelsWeights() throws {
        let config = model.config, weights = model.transformer.weights
        let l = config.layerCount, h = config.headCount, e = config.headDim, d = config.hiddenSize
        let wO = try dump.dataset("/model/W_O")
        XCTAssertEqual(wO.shape, [l, h, e, d])
        // W_O[l, h, e, :] is row (h * E + e) of o_proj.weight^T: o_proj.weight[:, h * E + e].
        for layer in 0..<l {
            let output = weights.layers[layer].output.array   // [D, H * E]
            for head in 0..<h {
                for channel in 0..<e {
                    let stored = wO.numbers[((layer * h + head) * e + channel) * d..<((layer * h + head) * e + channel + 1) * d]
                    let expected = (0..<d).map { Double(output[$0 * h * e + head * e + channel]) }
                    XCTAssertEqual(Array(stored), expected, "W_O[\(layer), \(head), \(channel)]")
                }
            }
        }
        XCTAssertNil(dump["/model/b_O"], "tiny-llama3 has no o_proj bias")
        XCTAssertEqual(try dump.dataset("/model/final_norm_weight").floats(), weights.finalNorm.array)
        XCTAssertEqual(try dump.dataset("/model/kv_head").ints(), (0..<h).map { config.kvHead(forQueryHead: $0) })
        XCTAssertEqual(dump.intAttribute("/model", "vocabulary_size"), config.vocabularySize)
        XCTAssertEqual(dump.intAttribute("/model", "kv_head_count"), config.kvHeadCount)
        XCTAssertEqual(dump.intAttribute("/model", "tied_embeddings"), config.tiedEmbeddings ? 1 : 0)
        let ids = try dump.dataset("/model/unembed_ids").ints()
        XCTAssertEqual(ids, Array(Set(ids)).sorted(), "unembed_ids sorted without repeats")
        var needed = Set<Int>()
        for name in Self.expectedSets {
            needed.formUnion(try dump.dataset("/sets/\(name)/label_ids").ints())
            needed.formUnion(try dump.dataset("/sets/\(name)/gold_token").ints())
        }
        XCTAssertEqual(Set(ids), needed, "unembed_ids: every label and gold token, nothing else")
        let unembed = try dump.dataset("/model/unembed"), matrix = weights.unembedding.array
        for (row, id) in ids.enumerated() {
            XCTAssertEqual(Array(unembed.row(row)), matrix[id * d..<(id + 1) * d].map(Double.init), "unembed row of token \(id)")
        }
    }
}
