/// What one Engram layer did to a chunk of positions during a forward pass, handed to
/// `ForwardState.engramObserver`. The pointers are valid only during the call.
public struct EngramObservation {
    public let layer: Int
    /// First position of the chunk in the sequence, and its length T.
    public let start: Int
    public let count: Int
    public let hcMult: Int
    public let hiddenSize: Int
    /// Hidden state before the update, `[T, hc, D]`.
    public let hidden: UnsafePointer<Float>
    /// The fused update Y (added to `hidden`), `[T, hc, D]`.
    public let update: UnsafePointer<Float>
    /// Gate per position and stream, `[T, hc]`.
    public let gates: UnsafePointer<Float>

    init(layer: Int, start: Int, count: Int, hcMult: Int, hiddenSize: Int,
         hidden: UnsafeMutablePointer<Float>, update: UnsafeMutablePointer<Float>, gates: UnsafeMutablePointer<Float>) {
        self.layer = layer
        self.start = start
        self.count = count
        self.hcMult = hcMult
        self.hiddenSize = hiddenSize
        self.hidden = UnsafePointer(hidden)
        self.update = UnsafePointer(update)
        self.gates = UnsafePointer(gates)
    }

    /// ||Y|| / ||h|| for position `t` (0 ..< count) and stream `m`: how much Engram changes it.
    public func relativeUpdate(_ t: Int, stream m: Int) -> Float {
        let off = (t * hcMult + m) * hiddenSize
        var yy: Float = 0, hh: Float = 0
        for d in 0..<hiddenSize {
            yy += update[off + d] * update[off + d]
            hh += hidden[off + d] * hidden[off + d]
        }
        return hh > 0 ? (yy / hh).squareRoot() : .infinity
    }
}
