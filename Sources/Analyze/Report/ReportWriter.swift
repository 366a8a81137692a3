import Foundation
import Shared

/// Writes a report folder: CSV tables, summary.json, SVG figures and index.html. The folder is
/// built under a temporary name beside the target and renamed into place at the end, so a
/// failure leaves nothing half-written. `perPrompt` adds per_prompt/SET.csv (PerPromptTables).
public enum ReportWriter {
    public static func write(_ analyses: [DumpAnalysis], options: AnalysisOptions, to directory: String,
                             perPrompt: Bool = false) throws {
        let target = URL(fileURLWithPath: directory)
        let manager = FileManager.default
        var isFolder: ObjCBool = false
        if manager.fileExists(atPath: target.path, isDirectory: &isFolder) {
            let contents = (try? manager.contentsOfDirectory(atPath: target.path)) ?? []
            guard isFolder.boolValue, contents.isEmpty || contents.contains("summary.json") else {
                throw InputError(file: directory, "exists and is not an empty folder or an earlier report; choose another --out")
            }
        }
        let staging = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).partial-\(getpid())")
        try? manager.removeItem(at: staging)
        do {
            try manager.createDirectory(at: staging, withIntermediateDirectories: true)
        } catch {
            throw InputError(file: staging.path, "cannot be created: \(error.localizedDescription)")
        }
        do {
            let tables: [(String, CSVTable)] = [
                ("heads.csv", ReportTables.heads(analyses)), ("sets.csv", ReportTables.sets(analyses)),
                ("variants.csv", ReportTables.variants(analyses)),
                ("geometry.csv", ReportTables.geometry(analyses)), ("correlations.csv", ReportCorrelations.table(analyses)),
                ("ablation.csv", ReportTables.ablation(analyses)), ("components.csv", ReportTables.components(analyses)),
                ("depth.csv", ReportCorrelations.depth(analyses)),
                ("estimate_vs_truth.csv", InterventionTables.estimateVsTruth(analyses)),
                ("estimate_vs_truth_prompts.csv", InterventionTables.estimateVsTruthPrompts(analyses)),
                ("ablation_exact.csv", InterventionTables.exactAblation(analyses)),
                ("overlap.csv", InterventionTables.overlap(analyses)),
                ("steering.csv", SteeringTables.steering(analyses)), ("steering_estimate.csv", SteeringTables.estimate(analyses)),
                ("fv_vs_induction.csv", FVInductionTables.table(analyses)),
            ]
            for (name, table) in tables { try table.write(to: staging.appendingPathComponent(name)) }
            let perPromptFiles = perPrompt ? try PerPromptTables.write(analyses, to: staging) : []
            let figures = try ReportFigures.write(analyses, to: staging)
            try ReportSummary.json(analyses, options: options, perPrompt: perPrompt, perPromptFiles: perPromptFiles)
                .write(to: staging.appendingPathComponent("summary.json"))
            try ReportFigures.page(analyses, figures: figures, tables: tables, perPromptFiles: perPromptFiles)
                .write(to: staging.appendingPathComponent("index.html"))
            if manager.fileExists(atPath: target.path) { try manager.removeItem(at: target) }
            try manager.moveItem(at: staging, to: target)
        } catch let error as InputError {
            try? manager.removeItem(at: staging)
            throw error
        } catch {
            try? manager.removeItem(at: staging)
            throw InputError(file: directory, "cannot be written: \(error.localizedDescription)")
        }
    }
}

/// summary.json: provenance of every dump, every definition chosen, the top sets.
enum ReportSummary {
    struct Document: Encodable {
        let tool: String
        let options: AnalysisOptions
        let definitions: [String: String]
        let dumps: [DumpEntry]
        let perPrompt: PerPromptEntry
    }

    /// Whether per_prompt/ was asked for (`--per-prompt`), its files relative to the report
    /// folder (one per dump and set) and their columns.
    struct PerPromptEntry: Encodable {
        let written: Bool
        let files: [String]
        let columns: [String]
    }

    struct DumpEntry: Encodable {
        let files: [String]
        let missingShards: [String]
        let formatVersion: String
        let model: String
        let modelSHA256: String
        let architecture: String?
        let captureConfig: String
        let captureDefinitions: String?
        let topCount: Int
        let topInduction: [HeadID]?
        let headSetFiles: [String: [HeadID]]
        let sets: [String: SetEntry]
        /// Every /interventions run (docs/methods.md §18.1) and the function-vector heads (§18.2).
        let interventions: [InterventionEntry]
        let topFV: [HeadID]?
        let fvTasks: [String]?
        /// Steering runs and sets without a first-order estimate (steering_estimate.csv), with the reason (§21.2).
        let steeringEstimateSkipped: [SteeringEstimate.Skipped]
    }

    /// What the report read of one intervention run.
    struct InterventionEntry: Encodable {
        let name: String
        let kind: String
        /// false for kinds this analyzer does not read (their results are not in the report).
        let read: Bool
        let mode: String?
        let positions: String?
        let headSets: [String: [HeadID]]?
        let sets: [String]
        let files: [String]
        /// fv_vs_induction: each head set's family; steering: each vector's family, and whether
        /// the run recorded the families (format 1.3) or they were inferred from the names.
        let families: [String: String]?
        let familiesRecorded: Bool?
        let layers: [Int]?
    }

    struct SetEntry: Encodable {
        let task: String
        let variant: String
        let shots: Int
        let labelSpace: String
        let labels: [String]
        let prompts: Int
        let topTR: [HeadID]
        let topTL: [HeadID]
        let randomSets: [String: [HeadID]]
        let behaviour: SetBehaviour
        let componentMaxError: Float
        /// The exact ablation runs on this set, the CIE run its cie_exact comes from, and the
        /// runs left out of the estimate-vs-truth comparison with the reason (§18).
        let exactAblations: [String]
        let cieRun: String?
        let estimateVsTruthSkipped: [EstimateVsTruth.Skipped]
        /// Shuffled-labels sets without heads.csv's cie_atp: why (§20.2).
        let cieAttributionUnavailable: String?
    }

    static let definitions: [String: String] = [
        "position": "the answer position (last prompt token), captured position 0",
        "tr_score": "mean over prompts of ||P a_h||_2 (not squared), a_h = z_h W_O^h (docs/methods.md §3)",
        "tl_score": "mean over prompts with ||P a_h|| > 1e-6 ||a_h|| of mean_{y' wrong} a_h·(v_gold - v_y') / ||P a_h|| (§3)",
        "task_subspace": "span of the set's distinct label-token unembedding rows; open-answer sets: distinct gold first tokens (§2)",
        "top_sets": "top max(1, floor(fraction x heads)) heads by mean score, ties by lower (layer, head) (§3)",
        "dla": "direct logit attribution through the frozen final-norm scale: s * (gamma ⊙ a_h) · w_y; margin = gold - mean of wrong labels (§4)",
        "mlp_component": "resid_pre[l+1] - resid_pre[l] - sum_h a_h - b_O[l], projected the same way (§4)",
        "attention_categories": "mass of the answer position's attention row on special tokens, demonstration outputs, demonstration inputs, the query, and the rest (template), first match in that order (§6)",
        "induction_stripe": "Olsson et al.: mean attention from q in the second repeat to q - R + 1 (§7)",
        "induction_mul": "TransformerLens detect_head 'mul', exclude_bos=False, exclude_current_token=False (§7)",
        "prev_token": "mean attention from q to q - 1, q >= 1 (§7)",
        "geometry": "alignment ||Q^T h|| / ||h|| and mean gold-vs-wrong logit difference h·(v_gold - v_y') of each stored residual stream; head-set contributions per layer (§9)",
        "ablation": "direct-effect estimates at the answer position: heads' outputs removed (zero) or replaced by their leave-one-out mean over the set's other prompts (mean) in resid_final, final RMSNorm recomputed exactly; not total effects (§5)",
        "random_sets": "drawn uniformly from the heads outside every named set, same size as the top sets, seeded per set (§5)",
        "intervals": "Wilson 95% for proportions; percentile bootstrap over prompts for means and top-set membership (§8)",
        "score_intervals": "per head and set: percentile bootstrap 95% intervals over prompts of tr_score, tl_score, dla_gold, dla_margin and the attention masses (*_ci_low, *_ci_high); top_tr_frequency, top_tl_frequency, top_dla_gold_frequency: share of replicates whose top-k set by that score holds the head (§12)",
        "interventions": "exact results of icl-capture intervene runs read from /interventions (docs/methods.md §14, §18.1); each shard's run holds its own prompts' rows, merged by prompt_index; runs of other kinds are listed, not read",
        "cie_exact": "heads.csv, rows of a shuffled-labels set with a CIE run: mean over the run's finished prompts of the exact CIE, P(gold | z_h at the last position := clean mean) - P(gold | corrupted) (§10.1, §18.2); empty elsewhere. ",
        "cie_atp": "heads.csv, rows of a shuffled-labels set of a dump with gold-prob or gold-logprob gradients: attribution patching's first-order CIE, mean over the set's prompts of (clean mean - z_h) · dP/dz_h at the last position, P the full-vocabulary gold probability (dP = P dlogP for gold-logprob), the clean mean as the exact CIE takes it (every finished clean prompt of the same task, shots and template, per shard); empty with label-margin gradients or none (summary.json cieAttributionUnavailable says why) (§20.2)",
        "attribution_patching": "first-order estimates from the dump's gradients of the metric M (root attribute gradient_metric): replacing z_h by z'_h changes M by about sum_h (z'_h - z_h) · dM/dz_h; ablation.csv atp_delta_M_answer and atp_delta_M_all: the same zero or mean replacement as the row (mean: the leave-one-out mean over the set's other prompts) at the answer position or at every position, mean over prompts, in units of M; a head set's estimate is the sum of its heads' (§20.1)",
        "fv_score": "heads.csv: the function-vector score (AIE, Todd et al.): per task the mean exact CIE over the prompts of its CIE sets, then the mean over tasks; top_fv: its top k heads, k and ties as top_sets (§18.2)",
        "exact_ablation": "ablation_exact.csv: the exact run's accuracy, label-set ratio, label-restricted accuracy and mean full-vocabulary gold log-probability per head set, their change from head set none (the model unchanged) and, for non-random sets, the mean, 5th and 95th percentile of that change over the run's random head sets of the same size (§18.4)",
        "estimate_vs_truth": "estimate_vs_truth.csv: column estimate direct_effect: per prompt the analyzer's direct-effect estimate (§5: direct path only, final norm recomputed) of the change from the unablated model against the exact total effect (§14) of the same head set, same replacement, answer position; Pearson, Spearman, sign agreement (sign 0 counts as its own sign) and the pair of largest |difference| per head set, over all pairs, and over the head sets' means; mean ablation only where the exact run's mean is the estimate's leave-one-out mean over the set's own prompts (§18.3); estimate attribution_patching: the first-order estimate in units of the gradient metric against the exact change of the same metric (gold_logprob_vocab, gold_prob_vocab from the run's gold log-probability, label_margin from its label logits) for every head set of every ablation run with the run's own replacement and positions (its mean from mean_prompt_index per file), and cie_atp against cie_exact per (head, prompt) and over the heads' means (scope heads) (§20.3)",
        "steering": "steering.csv: per steering run, set, vector, layer and scope (outside_scoring: prompts whose query is not one the vector was computed from; all_prompts) the accuracy, label-set ratio and label-restricted accuracy (Wilson 95%), the mean full-vocabulary gold log-probability, and each one's change from vector none on the same prompts (percentile bootstrap 95% of the per-prompt differences); for vectors that are not random, the mean, 5th and 95th percentile over the run's random vectors at the same layer and scope; family: tr, tl (top set by that score), random or other, from steer_vector_family or, in runs without it, the vector's name (§16, §21.1)",
        "steering_estimate": "steering_estimate.csv: where the steered set was captured with --grads M, the first-order estimate v · dM/dresid_pre[l] at the answer position (v as added, scale included) against the exact change M(steered) - M(none) (gold-logprob: steer_gold_logprob; gold-prob: its exp; label-margin: from steer_label_logits), per vector and layer and over all pairs: Pearson, Spearman, sign agreement, the pair of largest |difference|; runs without gradients in summary.json's steeringEstimateSkipped (§21.2)",
        "fv_vs_induction": "fv_vs_induction.csv: per FV-vs-induction run, set, family and k: accuracy of the first generated token (Wilson 95%), mean token F1 of the greedy continuation and mean gold log-probability (percentile bootstrap 95%), their change from head set none, and the random sets' mean, 5th and 95th percentile at that k (one row per k for the random sets, holding their means) (§17, §21.3)",
        "overlap": "overlap.csv: Jaccard |A ∩ B| / |A ∪ B| of the top TR, TL (the set's), induction and FV (the dump's) sets (§12, §18.5)",
        "per_prompt": "per_prompt/SET.csv (--per-prompt): one row per done prompt x layer x head of the per-prompt values whose means are heads.csv's tr_score, tl_score (prompts where TL is defined; nan elsewhere), dla_gold, dla_margin and attention masses; prompt_index is the dump's; gold_logprob as stored, correct = argmax is the gold first token, label_correct = the label argmax is the gold label (§8, §15)",
    ]

    static func json(_ analyses: [DumpAnalysis], options: AnalysisOptions, perPrompt: Bool, perPromptFiles: [String]) throws -> Data {
        let dumps = analyses.map { analysis in
            DumpEntry(files: analysis.dump.files.map(\.path), missingShards: analysis.dump.missingShards,
                      formatVersion: analysis.dump.files[0].formatVersion, model: analysis.modelName,
                      modelSHA256: analysis.dump.files[0].modelSHA256,
                      architecture: analysis.dump.files[0].rootAttribute("architecture"),
                      captureConfig: analysis.dump.files[0].captureConfiguration,
                      captureDefinitions: analysis.dump.files[0].rootAttribute("definitions"),
                      topCount: analysis.topCount, topInduction: analysis.topInduction?.heads,
                      headSetFiles: Dictionary(analysis.fileSets.map { ($0.name, $0.heads) }, uniquingKeysWith: { a, _ in a }),
                      sets: Dictionary(analysis.sets.map { set in
                          (set.info.name, SetEntry(task: set.info.task, variant: set.info.variant, shots: set.info.shots,
                                                   labelSpace: set.scores.space.source.rawValue,
                                                   labels: set.scores.space.tokens.map { analysis.weights.text(of: $0) },
                                                   prompts: set.scores.prompts, topTR: set.topTR.heads, topTL: set.topTL.heads,
                                                   randomSets: Dictionary(set.randomSets.map { ($0.name, $0.heads) }, uniquingKeysWith: { a, _ in a }),
                                                   behaviour: set.behaviour, componentMaxError: set.scores.componentError,
                                                   exactAblations: set.exactAblations.map(\.run.name), cieRun: set.exactCIE?.run.name,
                                                   estimateVsTruthSkipped: set.estimateVsTruth.skipped + set.attribution.truth.skipped,
                                                   cieAttributionUnavailable: set.attribution.cieUnavailable))
                      }, uniquingKeysWith: { a, _ in a }),
                      interventions: analysis.interventions.map { run in
                          let families = run.steering.map { Dictionary(zip($0.names, $0.families), uniquingKeysWith: { a, _ in a }) }
                              ?? run.comparison.map { Dictionary(zip(run.headSets.map(\.name), $0.families), uniquingKeysWith: { a, _ in a }) }
                          return InterventionEntry(name: run.name, kind: run.storedKind, read: run.kind != nil, mode: run.mode, positions: run.positions,
                                                   headSets: run.kind == .ablation || run.kind == .fvVsInduction
                                                       ? Dictionary(run.headSets.map { ($0.name, $0.heads) }, uniquingKeysWith: { a, _ in a }) : nil,
                                                   sets: run.sets, files: run.files, families: families,
                                                   familiesRecorded: run.steering?.familiesRecorded, layers: run.steering?.layers)
                      },
                      topFV: analysis.functionVector?.top.heads, fvTasks: analysis.functionVector?.perTask.keys.sorted(),
                      steeringEstimateSkipped: analysis.comparisons.steeringEstimateSkipped)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(Document(tool: "icl-analyze", options: options, definitions: definitions, dumps: dumps,
                                           perPrompt: PerPromptEntry(written: perPrompt, files: perPromptFiles,
                                                                     columns: PerPromptTables.header)))
    }
}
