//go:build !(go1.21 && !go1.22) && !(go1.26 || goexperiment.swissmap)

package oracle

// 6.5 entries per bucket on average: the classic map's load factor (Go 1.21
// is the exception, loadfactor_go121.go).
const (
	loadFactorNum = 13
	loadFactorDen = 2
)
