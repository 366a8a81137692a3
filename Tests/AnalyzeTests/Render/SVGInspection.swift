import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// An SVG document read back with Foundation's XML parser: its elements and the text of its
/// <title> and <text> elements, and the checks every figure must pass.
final class SVGInspection: NSObject, XMLParserDelegate {
    struct Element {
        let name: String
        let attributes: [String: String]
    }

    private(set) var elements: [Element] = []
    private(set) var texts: [String] = []
    private(set) var title: String?
    private(set) var parseError: String?
    private var textInProgress: String?
    private var titleInProgress: String?

    /// Attributes that hold one coordinate or length.
    static let numericAttributes: Set<String> = ["x", "y", "width", "height", "x1", "y1", "x2", "y2", "cx", "cy", "r"]

    init(_ svg: String) {
        super.init()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = self
        if !parser.parse() {
            parseError = "\(parser.parserError.map { "\($0)" } ?? "unknown error") at line \(parser.lineNumber)"
        }
    }

    var root: Element? { elements.first }
    var size: (width: Double, height: Double) {
        (Double(root?.attributes["width"] ?? "") ?? -1, Double(root?.attributes["height"] ?? "") ?? -1)
    }

    func elements(named name: String) -> [Element] { elements.filter { $0.name == name } }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
                qualifiedName: String?, attributes: [String: String] = [:]) {
        elements.append(Element(name: name, attributes: attributes))
        if name == "text" { textInProgress = "" }
        if name == "title" && title == nil { titleInProgress = "" }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        textInProgress? += string
        titleInProgress? += string
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text", let text = textInProgress { texts.append(text); textInProgress = nil }
        if name == "title", let text = titleInProgress { title = text; titleInProgress = nil }
    }

    /// Parses `svg` and checks what every figure must satisfy: well-formed XML; an <svg> root in
    /// the SVG namespace, version 1.1, with a viewBox matching width and height; a <title>
    /// equal to `title`; sans-serif text; every coordinate a finite number inside the canvas
    /// (lengths non-negative); every `labels` string present as the text of some element.
    @discardableResult
    static func check(_ svg: String, title: String, labels: [String] = [],
                      file: StaticString = #filePath, line: UInt = #line) -> SVGInspection {
        let inspection = SVGInspection(svg)
        XCTAssertNil(inspection.parseError, "not well-formed XML", file: file, line: line)
        guard let root = inspection.root else {
            XCTFail("no root element", file: file, line: line)
            return inspection
        }
        XCTAssertEqual(root.name, "svg", file: file, line: line)
        XCTAssertEqual(root.attributes["xmlns"], "http://www.w3.org/2000/svg", file: file, line: line)
        XCTAssertEqual(root.attributes["version"], "1.1", file: file, line: line)
        XCTAssertEqual(root.attributes["font-family"], "sans-serif", file: file, line: line)
        let (width, height) = inspection.size
        XCTAssertGreaterThan(width, 0, file: file, line: line)
        XCTAssertGreaterThan(height, 0, file: file, line: line)
        XCTAssertEqual(root.attributes["viewBox"], "0 0 \(root.attributes["width"] ?? "") \(root.attributes["height"] ?? "")",
                       file: file, line: line)
        XCTAssertEqual(inspection.title, title, file: file, line: line)

        var badValues: [String] = []
        for element in inspection.elements.dropFirst() {
            for (name, text) in element.attributes where numericAttributes.contains(name) {
                guard let value = Double(text), value.isFinite else { badValues.append("\(element.name) \(name)=\(text)"); continue }
                let limit = ["x", "x1", "x2", "cx", "width"].contains(name) ? width : height
                if ["width", "height", "r"].contains(name) ? value < 0 : (value < -0.5 || value > limit + 0.5) {
                    badValues.append("\(element.name) \(name)=\(text) outside 0...\(limit)")
                }
            }
            if let points = element.attributes["points"] {
                let numbers = points.split(whereSeparator: { $0 == " " || $0 == "," }).map { Double($0) }
                if numbers.contains(where: { !($0?.isFinite ?? false) }) { badValues.append("\(element.name) points=\(points)") }
            }
        }
        XCTAssertEqual(badValues, [], "coordinates that are not finite or leave the canvas", file: file, line: line)
        for label in labels {
            XCTAssertTrue(inspection.texts.contains(label), "no text element reads \"\(label)\"", file: file, line: line)
        }
        return inspection
    }
}
