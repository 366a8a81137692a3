import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// Malformed or unsupported tokenizer files are InputErrors that name the file and the problem.
final class TokenizerErrorTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokenizer-errors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// The gpt2 fixture's tokenizer.json with `edit` applied, written to the temporary folder.
    private func writeEdited(_ edit: (inout [String: Any]) -> Void) throws -> URL {
        let original = try Data(contentsOf: Fixtures.url("tokenizers/gpt2/tokenizer.json"))
        var json = try XCTUnwrap(JSONSerialization.jsonObject(with: original) as? [String: Any])
        edit(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: directory.appendingPathComponent("tokenizer.json"))
        return directory
    }

    private func assertInputError(_ load: @autoclosure () throws -> any Tokenizer, file expectedFile: String,
                                  mentions words: [String], line: UInt = #line) {
        XCTAssertThrowsError(try load(), line: line) { error in
            guard let inputError = error as? InputError else {
                return XCTFail("expected InputError, got \(error)", line: line)
            }
            XCTAssertEqual(inputError.file, expectedFile, line: line)
            for word in words {
                XCTAssertTrue(inputError.problem.contains(word), "\(inputError) should mention \(word)", line: line)
            }
        }
    }

    private var tokenizerPath: String { directory.appendingPathComponent("tokenizer.json").path }

    func testFolderWithoutTokenizerJSON() {
        assertInputError(try TokenizerLoader.load(directory: directory), file: directory.path, mentions: ["tokenizer.json"])
    }

    func testInvalidJSON() throws {
        try Data("{\"model\": ".utf8).write(to: directory.appendingPathComponent("tokenizer.json"))
        assertInputError(try TokenizerLoader.load(directory: directory), file: tokenizerPath, mentions: ["JSON"])
    }

    func testUnknownModelType() throws {
        let folder = try writeEdited { json in
            var model = json["model"] as! [String: Any]
            model["type"] = "Unigram"
            json["model"] = model
        }
        assertInputError(try TokenizerLoader.load(directory: folder), file: tokenizerPath, mentions: ["model type", "Unigram"])
    }

    func testUnknownPreTokenizerType() throws {
        let folder = try writeEdited { $0["pre_tokenizer"] = ["type": "Whitespace"] }
        assertInputError(try TokenizerLoader.load(directory: folder), file: tokenizerPath, mentions: ["pre_tokenizer", "Whitespace"])
    }

    func testUnknownSplitRegex() throws {
        let folder = try writeEdited {
            $0["pre_tokenizer"] = ["type": "Sequence", "pretokenizers": [
                ["type": "Split", "pattern": ["Regex": "\\w+"], "behavior": "Isolated", "invert": false],
                ["type": "ByteLevel", "add_prefix_space": false, "use_regex": false]]]
        }
        assertInputError(try TokenizerLoader.load(directory: folder), file: tokenizerPath, mentions: ["Split", "\\w+"])
    }

    func testUnknownNormalizerType() throws {
        let folder = try writeEdited { $0["normalizer"] = ["type": "NFKC"] }
        assertInputError(try TokenizerLoader.load(directory: folder), file: tokenizerPath, mentions: ["normalizer", "NFKC"])
    }

    func testUnknownDecoderType() throws {
        let folder = try writeEdited { $0["decoder"] = ["type": "WordPiece", "prefix": "##"] }
        assertInputError(try TokenizerLoader.load(directory: folder), file: tokenizerPath, mentions: ["decoder", "WordPiece"])
    }

    func testUnknownPostProcessorType() throws {
        let folder = try writeEdited { $0["post_processor"] = ["type": "BertProcessing"] }
        assertInputError(try TokenizerLoader.load(directory: folder), file: tokenizerPath, mentions: ["post_processor", "BertProcessing"])
    }

    func testMergeOfUnknownToken() throws {
        let folder = try writeEdited { json in
            var model = json["model"] as! [String: Any]
            model["merges"] = ["h e", "no such"]
            json["model"] = model
        }
        assertInputError(try TokenizerLoader.load(directory: folder), file: tokenizerPath, mentions: ["merge 1"])
    }

    func testUnknownGGUFModelAndPreTokenizer() {
        let bert = GGUFTokenizerData(model: "bert", tokens: ["a"])
        assertInputError(try TokenizerLoader.load(gguf: bert, source: "m.gguf"), file: "m.gguf", mentions: ["bert"])
        let odd = GGUFTokenizerData(model: "gpt2", pre: "no-such-pre", tokens: ["a"], merges: [])
        assertInputError(try TokenizerLoader.load(gguf: odd, source: "m.gguf"), file: "m.gguf", mentions: ["no-such-pre"])
    }

    func testGGUFSentencePieceWithoutScores() {
        let data = GGUFTokenizerData(model: "llama", tokens: ["<unk>", "a"])
        assertInputError(try TokenizerLoader.load(gguf: data, source: "m.gguf"), file: "m.gguf", mentions: ["scores"])
    }

    func testGGUFTokenIDOutsideVocabulary() {
        let data = GGUFTokenizerData(model: "gpt2", pre: "gpt2", tokens: ["a"], merges: [], bosID: 7)
        assertInputError(try TokenizerLoader.load(gguf: data, source: "m.gguf"), file: "m.gguf", mentions: ["bos", "7"])
    }
}
