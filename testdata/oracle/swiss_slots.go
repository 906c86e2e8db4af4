//go:build (go1.26 || goexperiment.swissmap) && !goexperiment.mapsplitgroup

package oracle

import "reflect"

// groupType: the default group layout, 8 interleaved key/elem slots after
// the control word.  stride is the distance between two keys (a slot).
func groupType(k, e reflect.Type) (group reflect.Type, stride uintptr) {
	slot := reflect.StructOf([]reflect.StructField{
		{Name: "Key", Type: k},
		{Name: "Elem", Type: e},
	})
	return reflect.StructOf([]reflect.StructField{
		{Name: "Ctrl", Type: reflect.TypeOf(uint64(0))},
		{Name: "Slots", Type: reflect.ArrayOf(8, slot)},
	}), slot.Size()
}
