//go:build (go1.26 || goexperiment.swissmap) && !go1.27

package oracle

// abi.SwissMapType (1.24, 1.25) and abi.MapType (1.26): SlotSize at 88.
const slotSizeOffset = 88
