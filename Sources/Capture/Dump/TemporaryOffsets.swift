extension Tokenizer {
    func encodeWithOffsets(_ text: String, addBOS: Bool) -> [(id: Int32, bytes: Range<Int>)] {
        var position = 0
        return encode(text, addBOS: addBOS).map { id in
            let count = isSpecial(id) && id == bosTokenID ? 0 : decode([id]).utf8.count
            defer { position += count }
            return (id, position..<(position + count))
        }
    }
}
