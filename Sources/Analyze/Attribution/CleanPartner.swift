import Foundation
import Shared

extension SetInfo {
    /// The clean set of the same task, shots and template in `dump` (the partner whose mean the
    /// CIE patches in, docs/methods.md §14), if there is one.
    func cleanPartner(in dump: ShardedDump) throws -> String? {
        let file = dump.files[0]
        for name in dump.setNames where name != self.name {
            let group = "sets/\(name)"
            if try file.stringAttribute("variant", of: group) == "clean", try file.stringAttribute("task", of: group) == task,
               try file.intAttribute("shots", of: group) == shots, try file.stringAttribute("template", of: group) == template {
                return name
            }
        }
        return nil
    }
}
