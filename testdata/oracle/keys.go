package oracle

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// MaxKeys: the keys of maps this small are listed (RenderKeys), for
// mapscan's sample keys (up to 3 of a map) to be checked against.
const MaxKeys = 64

// RenderKeys returns every key of map m as mapscan prints a sample key
// (lib/keys.c, docs/json.md), sorted, or nil for a map of more than
// MaxKeys entries, an empty map, or a classic map whose buckets hold no
// pointers: iterating that one gives it a mapextra (mapiterinit's
// createOverflow), and it would no longer be in the state it was built in.
// Call it before measuring m.
func RenderKeys(m interface{}) []string {
	v := reflect.ValueOf(m)
	if v.Len() > MaxKeys || v.Len() == 0 {
		return nil
	}
	if t := v.Type(); layoutName() == "classic" && !hasPointers(t.Key()) && !hasPointers(t.Elem()) {
		return nil
	}
	var keys []string
	for _, k := range v.MapKeys() {
		keys = append(keys, RenderKey(k, 0))
	}
	sort.Strings(keys)
	return keys
}

// RenderKey is Go's own printing of a key, in the form mapscan documents:
// strconv.Quote for strings (their first 64 bytes, then "…(N bytes)"),
// strconv's shortest form for numbers, pointers as 0x..., structs {a, b}
// (8 fields at most, then …), arrays [a, b] (4 elements, then …),
// interfaces by their dynamic value; deeper than 3 levels "?".
func RenderKey(v reflect.Value, depth int) string {
	if depth > 3 {
		return "?"
	}
	switch v.Kind() {
	case reflect.String:
		s := v.String()
		if len(s) <= 64 {
			return strconv.Quote(s)
		}
		return strconv.Quote(s[:64]) + fmt.Sprintf("…(%d bytes)", len(s))
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.Float32:
		return strconv.FormatFloat(v.Float(), 'g', -1, 32)
	case reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case reflect.Ptr, reflect.UnsafePointer, reflect.Chan, reflect.Func, reflect.Map:
		if v.IsNil() {
			return "nil"
		}
		return fmt.Sprintf("0x%x", v.Pointer())
	case reflect.Interface:
		if v.IsNil() {
			return "<nil>"
		}
		return RenderKey(v.Elem(), depth+1)
	case reflect.Struct:
		var parts []string
		for i := 0; i < v.NumField(); i++ {
			if i == 8 {
				parts = append(parts, "…")
				break
			}
			parts = append(parts, RenderKey(v.Field(i), depth+1))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case reflect.Array:
		var parts []string
		for i := 0; i < v.Len(); i++ {
			if i == 4 {
				parts = append(parts, "…")
				break
			}
			parts = append(parts, RenderKey(v.Index(i), depth+1))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return "?"
}
