//go:build go1.27

package oracle

// abi.MapType in 1.27: KeysOff at 88, then KeyStride at 96, which is the
// slot's size in the default interleaved group layout (the oracle does not
// mirror GOEXPERIMENT=mapsplitgroup).
const slotSizeOffset = 96
