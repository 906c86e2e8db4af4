package oracle

// Ground truth for the real programs of testdata/realprogs: each program
// drives the maps of real libraries into known states, names them the way
// a user would (Dig), measures them (Measure) and writes a Truth just
// before it dies with a core (Crash).  tests/e2e/realprog.py compares
// mapscan's report of that core with it.

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"runtime"
	"runtime/debug"
	"sort"
	"unsafe"
)

// mainType matches a type name that names a type of package main.
var mainType = regexp.MustCompile(`(^|[^\w./])main\.`)

// TruthMap is one map of interest.
type TruthMap struct {
	Name     string `json:"name"`
	State    string `json:"state"`
	Root     string `json:"root"` // the path roots[0] must be
	Address  string `json:"address"`
	Type     string `json:"type"` // as mapscan prints it (TypeName)
	KeyType  string `json:"key_type"`
	ElemType string `json:"elem_type"`
	Layout   string `json:"layout"`
	Held     string `json:"held,omitempty"`  // "goroutine-stack": the header is in a goroutine's frame
	Grown    bool   `json:"grown,omitempty"` // only ever grew: reclaimable must stay small
	// Group names a set of maps checked together (the 100 buckets of an
	// expirable LRU): one check per set, not per map.
	Group string `json:"group,omitempty"`
	// Owner is the pattern of the owner group mapscan must put the map in
	// (maps at every depth of one tree are one owner's).
	Owner string `json:"owner,omitempty"`
	// AnyRoot: Root is a regular expression ("re:..."), and the root need
	// not be precise (a header in a frame that DWARF does not describe is
	// found by its shape, not typed from a variable).
	AnyRoot bool `json:"any_root,omitempty"`
	Figures
}

// SelectWait is a goroutine parked in a select of Cases cases.
type SelectWait struct {
	Goroutine int    `json:"goroutine"`
	Func      string `json:"func"`
	Cases     int    `json:"cases"`
}

// Truth is the document a real program writes to $MAPSCAN_ORACLE.
type Truth struct {
	Program   string       `json:"program"`
	GoVersion string       `json:"go_version"`
	Layout    string       `json:"layout"`
	Maps      []TruthMap   `json:"maps"`
	Selects   []SelectWait `json:"selects,omitempty"`
	// MainMaps is the number of distinct live maps whose type names a type
	// of package main: every one of them is in Maps.
	MainMaps int `json:"main_maps"`
	// MaxIndex bounds every index a path may have: no array or slice the
	// program (or a library it uses, as driven here) has is longer.
	MaxIndex int `json:"max_index"`

	entries []truthEntry
}

type truthEntry struct {
	m   TruthMap
	val interface{}    // the map, or nil when only a goroutine holds it
	typ unsafe.Pointer // then: its map type's descriptor
	at  func() uintptr // and where its header is now
}

// NewTruth starts the document of program prog.
func NewTruth(prog string, maxIndex int) *Truth {
	return &Truth{Program: prog, GoVersion: runtime.Version(), Layout: layoutName(), MaxIndex: maxIndex}
}

// Add registers map m, reached by root (the path mapscan must print first).
func (t *Truth) Add(name, state, root string, m interface{}) *TruthMap {
	t.entries = append(t.entries, truthEntry{m: TruthMap{Name: name, State: state, Root: root}, val: m})
	return &t.entries[len(t.entries)-1].m
}

// AddAt registers a map only a goroutine holds: typ is its map type's
// descriptor (MapDescriptor of a nil map of the type) and at tells where
// its header is now.  Measuring builds a temporary interface from the two.
func (t *Truth) AddAt(name, state, root, held string, typ unsafe.Pointer, at func() uintptr) *TruthMap {
	t.entries = append(t.entries, truthEntry{m: TruthMap{Name: name, State: state, Root: root, Held: held},
		typ: typ, at: at})
	return &t.entries[len(t.entries)-1].m
}

// Measure fills in every registered map's address, types and figures.  No
// map may be written from now on.
func (t *Truth) Measure() {
	seen := map[unsafe.Pointer]string{}
	// The registry's own array is garbage in the core, but a stale stack
	// word may still reach its last element.
	if len(t.entries) > t.MaxIndex {
		t.MaxIndex = len(t.entries)
	}
	t.Maps = nil
	t.MainMaps = 0
	for i := range t.entries {
		e := &t.entries[i]
		m := e.val
		if e.at != nil {
			m = MapAt(e.typ, e.at())
		}
		typ := reflect.TypeOf(m)
		if typ == nil || typ.Kind() != reflect.Map {
			check(false, "%s: not a map: %v", e.m.Name, typ)
			continue
		}
		hdr := MapHeader(m)
		if hdr == nil {
			check(false, "%s: nil map", e.m.Name)
			continue
		}
		if other, dup := seen[hdr]; dup {
			check(false, "%s and %s are the same map", e.m.Name, other)
		}
		seen[hdr] = e.m.Name
		tm := e.m
		tm.Figures = Measure(tm.Name, m)
		if e.at != nil {
			check(e.at() == uintptr(hdr), "%s: header moved from %p while it was measured", tm.Name, hdr)
		}
		tm.Address = fmt.Sprintf("0x%x", uintptr(hdr))
		tm.Type, tm.KeyType, tm.ElemType = TypeName(typ), TypeName(typ.Key()), TypeName(typ.Elem())
		tm.Layout = layoutName()
		if mainType.MatchString(tm.Type) {
			t.MainMaps++
		}
		if tm.Grown {
			check(tm.ReclaimableBytes*10 <= tm.RetainedBytes, "%s: only grew, but %d of %d bytes reclaimable",
				tm.Name, tm.ReclaimableBytes, tm.RetainedBytes)
		}
		t.Maps = append(t.Maps, tm)
	}
	// The registry must not hold the maps in the core: mapscan would find
	// them through it.
	t.entries = nil
	ExitIfFailed(t.Program)
	sort.SliceStable(t.Maps, func(i, j int) bool { return t.Maps[i].RetainedBytes > t.Maps[j].RetainedBytes })
}

// Crash collects garbage, measures, writes the document and dies with a
// core (or, with MAPSCAN_WAIT=1, prints "ready" and waits for gcore until
// standard input ends).
func (t *Truth) Crash() {
	runtime.GC()
	debug.FreeOSMemory()
	// No collection from here on: one started by the allocations below
	// would free spans after HeapInuse is read (and the heap check fails).
	debug.SetGCPercent(-1)
	t.Measure()
	if err := WriteJSON(t); err != nil {
		fmt.Fprintln(os.Stderr, t.Program+":", err)
		os.Exit(2)
	}
	if os.Getenv("MAPSCAN_WAIT") == "1" {
		fmt.Println("ready")
		buf := make([]byte, 1)
		for {
			if _, err := os.Stdin.Read(buf); err != nil {
				os.Exit(0)
			}
		}
	}
	WriteHeapInuse()
	Die()
}

// TypeName spells a type as the binary's DWARF does, which is how mapscan
// prints it: named types with their full import path
// ("github.com/patrickmn/go-cache.Item"), not reflect's package name.
func TypeName(t reflect.Type) string {
	if t.Name() != "" {
		if t.PkgPath() == "" {
			return t.Name() // predeclared: int, string, error...
		}
		return t.PkgPath() + "." + t.Name()
	}
	switch t.Kind() {
	case reflect.Ptr:
		return "*" + TypeName(t.Elem())
	case reflect.Slice:
		return "[]" + TypeName(t.Elem())
	case reflect.Array:
		return fmt.Sprintf("[%d]%s", t.Len(), TypeName(t.Elem()))
	case reflect.Map:
		return "map[" + TypeName(t.Key()) + "]" + TypeName(t.Elem())
	case reflect.Chan:
		switch t.ChanDir() {
		case reflect.RecvDir:
			return "<-chan " + TypeName(t.Elem())
		case reflect.SendDir:
			return "chan<- " + TypeName(t.Elem())
		}
		return "chan " + TypeName(t.Elem())
	}
	// Struct, interface and func literals: reflect spells them as DWARF
	// does as long as they name no package types.
	return t.String()
}

// Step is one hop of a path Dig follows.
type Step interface{ step() }

// Field is a struct field (embedded fields by their type's name).
type Field string

// Index is an array or slice element.
type Index int

// MapValue is the value of a map at the key Key.
type MapValue struct{ Key interface{} }

// MapWhere is the value of a map whose key and value satisfy Pick.
type MapWhere struct{ Pick func(k, v reflect.Value) bool }

// MapKeyWhere is the key of a map whose key and value satisfy Pick (a
// path spells a key "[*]" too).
type MapKeyWhere struct{ Pick func(k, v reflect.Value) bool }

func (Field) step()       {}
func (Index) step()       {}
func (MapValue) step()    {}
func (MapWhere) step()    {}
func (MapKeyWhere) step() {}

// Dig follows steps from *root (a pointer to the variable named name) and
// returns the map found there with its path spelled as mapscan spells roots
// (docs/json.md "Paths"): pointers are followed silently, an interface adds
// ".(T)" for its dynamic type, a map element is "[*]".  Unexported fields
// are read with unsafe.
func Dig(root interface{}, name string, steps ...Step) (interface{}, string) {
	v := reflect.ValueOf(root)
	if v.Kind() != reflect.Ptr {
		panic("oracle.Dig: root must be a pointer to the variable")
	}
	v = v.Elem()
	path := name
	for _, s := range steps {
		v, path = derefAll(v, path)
		switch s := s.(type) {
		case Field:
			if v.Kind() != reflect.Struct {
				panic(fmt.Sprintf("oracle.Dig: %s is %s, not a struct (field %s)", path, v.Type(), s))
			}
			v = v.FieldByName(string(s))
			if !v.IsValid() {
				panic(fmt.Sprintf("oracle.Dig: %s has no field %s", path, s))
			}
			path += "." + string(s)
		case Index:
			v = v.Index(int(s))
			path += fmt.Sprintf("[%d]", int(s))
		case MapValue:
			v = open(v).MapIndex(reflect.ValueOf(s.Key))
			if !v.IsValid() {
				panic(fmt.Sprintf("oracle.Dig: %s has no key %v", path, s.Key))
			}
			v = addressable(v)
			path += "[" + RenderKey(reflect.ValueOf(s.Key), 0) + "]"
		case MapWhere:
			mv := open(v)
			var found, key reflect.Value
			it := mv.MapRange()
			for it.Next() {
				if s.Pick(it.Key(), it.Value()) {
					found, key = it.Value(), it.Key()
					break
				}
			}
			if !found.IsValid() {
				panic(fmt.Sprintf("oracle.Dig: no element of %s fits", path))
			}
			v = addressable(found)
			path += "[" + RenderKey(key, 0) + "]"
		case MapKeyWhere:
			mv := open(v)
			var found reflect.Value
			it := mv.MapRange()
			for it.Next() {
				if s.Pick(it.Key(), it.Value()) {
					found = it.Key()
					break
				}
			}
			if !found.IsValid() {
				panic(fmt.Sprintf("oracle.Dig: no key of %s fits", path))
			}
			v = addressable(found)
			path += "[*]"
		}
		v = open(v)
	}
	v, path = derefAll(v, path)
	if v.Kind() != reflect.Map {
		panic(fmt.Sprintf("oracle.Dig: %s is %s, not a map", path, v.Type()))
	}
	return open(v).Interface(), path
}

// derefAll follows pointers and interfaces (not a pointer to a map: a path
// ends at the map).
func derefAll(v reflect.Value, path string) (reflect.Value, string) {
	for {
		switch v.Kind() {
		case reflect.Ptr:
			if v.IsNil() {
				panic("oracle.Dig: nil pointer at " + path)
			}
			v = open(v.Elem())
		case reflect.Interface:
			if v.IsNil() {
				panic("oracle.Dig: nil interface at " + path)
			}
			e := v.Elem()
			path += ".(" + TypeName(e.Type()) + ")"
			v = addressable(open(e))
		default:
			return v, path
		}
	}
}

// open lifts the read-only flag reflect puts on values reached through
// unexported fields, so that they can be read and indexed.
func open(v reflect.Value) reflect.Value {
	if v.CanInterface() {
		return v
	}
	if v.CanAddr() {
		return reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
	}
	panic("oracle.Dig: cannot open a read-only value of type " + v.Type().String())
}

// addressable copies a value that is not (a map element, an interface's
// dynamic value) into a new variable.
func addressable(v reflect.Value) reflect.Value {
	if v.CanAddr() {
		return v
	}
	n := reflect.New(v.Type()).Elem()
	n.Set(open(v))
	return n
}

// FieldAddr returns the address of field name of the struct p points to
// (to lock a library's unexported mutex while its maps are read, say).
func FieldAddr(p interface{}, name string) unsafe.Pointer {
	f := reflect.ValueOf(p).Elem().FieldByName(name)
	if !f.IsValid() {
		panic("oracle.FieldAddr: no field " + name)
	}
	return unsafe.Pointer(f.UnsafeAddr())
}

// AtLeast reports whether the program runs on Go major.minor or later.
func AtLeast(major, minor int) bool {
	var ma, mi int
	if _, err := fmt.Sscanf(runtime.Version(), "go%d.%d", &ma, &mi); err != nil {
		check(false, "cannot read the Go version %q", runtime.Version())
		return false
	}
	return ma > major || ma == major && mi >= minor
}
