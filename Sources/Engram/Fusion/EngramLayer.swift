/// One Engram layer as the forward pass uses it: the memory (hashing and retrieval, SPEC.md
/// sections 3-4, `EngramMemory`) and the fuse step (section 5, `EngramFusion`).
public final class EngramLayer: @unchecked Sendable {
    public let layer: Int
    public let memory: EngramMemory
    public let fusion: EngramFusion

    public init(memory: EngramMemory, fusion: EngramFusion) {
        layer = memory.layerId
        self.memory = memory
        self.fusion = fusion
    }

    /// Reads layer `layer`'s memory and fuse weights from `weights`.
    public convenience init(weights: Weights, layer: Int, tokenMap: TokenMap) throws {
        try self.init(memory: EngramMemory(weights: weights, layer: layer, tokenMap: tokenMap),
                      fusion: EngramFusion(weights: weights, layer: layer))
    }
}
