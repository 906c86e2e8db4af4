//go:build go1.21 && !go1.22 && !goexperiment.swissmap

package oracle

// Go 1.21 computes its load factor as (8*13/16)*2/2: integer division makes
// it 6.0 entries per bucket, not the 6.5 of every other classic Go.
const (
	loadFactorNum = 12
	loadFactorDen = 2
)
