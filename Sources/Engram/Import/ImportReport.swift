/// What an ONNX import found: where each tensor lives, what was renamed, what it maps.
public struct ImportReport: Sendable {
    public enum Storage: Sendable, Equatable {
        /// A view into a memory-mapped external data file (name relative to the model's folder).
        case mapped(String)
        /// A view into the parsed model (data stored inline).
        case inline
        /// Copied: typed fields that needed conversion, unaligned external data, transposed weights.
        case copied
    }

    public struct Entry: Sendable {
        public var name: String
        public var dtype: DType
        public var shape: [Int]
        public var byteCount: Int
        public var storage: Storage
        public var renamedFrom: String? = nil
    }

    public struct Rename: Sendable, Equatable {
        public var from: String
        public var to: String
        public var transposed: Bool
    }

    public var path: String
    public var irVersion: Int64
    public var opset: Int64
    public var producer: String
    public var entries: [Entry] = []
    public var renamed: [Rename] = []
    /// Initializers with a data type the engine does not read (kept out of `Weights`).
    public var skipped: [String] = []
    /// External data files and their sizes in bytes.
    public var dataFiles: [(name: String, size: Int)] = []
    public var graphInputs: [String] = []
    public var nodeCount = 0
    /// The file holds the backbone tensors (forward can run), not only Engram's.
    public var hasBackbone = false

    /// Bytes of tensors that are views into mapped external files.
    public var mappedBytes: Int { entries.reduce(0) { if case .mapped = $1.storage { return $0 + $1.byteCount }; return $0 } }
    public var inlineBytes: Int { entries.reduce(0) { $1.storage == .inline ? $0 + $1.byteCount : $0 } }
    public var copiedBytes: Int { entries.reduce(0) { $1.storage == .copied ? $0 + $1.byteCount : $0 } }
    /// Bytes of all mapped data files (what the mappings cover).
    public var mappedFileBytes: Int { dataFiles.reduce(0) { $0 + $1.size } }
}
