import Foundation
import Shared

extension CapturePlan {
    /// Builds the first prompt of every set `configuration` names, without a model: unknown
    /// templates, more shots than a task has demonstrations, and the like fail here, before a
    /// model is loaded, with the errors building the whole plan would give.
    public static func checkBuildable(configuration c: CaptureConfiguration, tasks: [TaskFile]) throws {
        for task in tasks {
            let builder = PromptBuilder(task: task)
            for template in c.templates.isEmpty ? [task.defaultTemplate] : c.templates {
                for variant in c.variants where variant != .abstractLabels || task.kind == .classification {
                    for shots in variant == .zeroShot ? [0] : c.shots {
                        _ = try builder.build(PromptSetSpec(task: task.name, variant: variant, shots: shots, template: template,
                                                            count: 1, seed: c.seed))
                    }
                }
            }
        }
    }
}
