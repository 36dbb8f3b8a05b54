import Testing
import UsageModel

/// What one record costs where millions are held or in flight (issue 17): every call of an input waits
/// in its batch until merged, 2 × jobs inputs at a time.
@Suite struct LayoutTests {
    @Test func aCallIsEightyBytes() {
        // The fields in the order first written made it 96 (padding around the 16-byte-aligned address).
        #expect(MemoryLayout<CallObservation>.stride <= 80)
    }
}
