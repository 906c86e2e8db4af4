//go:build goexperiment.mapsplitgroup

package oracle

import "reflect"

// groupType: Go 1.27's GOEXPERIMENT=mapsplitgroup layout, the 8 keys and
// then the 8 elems after the control word.  stride is the distance between
// two keys (a key's size).
func groupType(k, e reflect.Type) (group reflect.Type, stride uintptr) {
	return reflect.StructOf([]reflect.StructField{
		{Name: "Ctrl", Type: reflect.TypeOf(uint64(0))},
		{Name: "Keys", Type: reflect.ArrayOf(8, k)},
		{Name: "Elems", Type: reflect.ArrayOf(8, e)},
	}), k.Size()
}
