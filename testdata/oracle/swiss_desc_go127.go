//go:build go1.27

package oracle

// abi.MapType in 1.27: KeysOff at 88, then KeyStride at 96: the slot's
// size in the default interleaved group layout, a key's size with
// GOEXPERIMENT=mapsplitgroup (swiss_split.go).
const slotSizeOffset = 96
