// Package oracle measures Go maps from the inside, with unsafe, the way the
// runtime lays them out: the ground truth mapscan's figures
// (docs/figures.md) are checked against.  It is independent of mapscan: it
// mirrors the runtime's structures (classic.go for runtime.hmap, swiss.go
// for internal/runtime/maps) and cross-checks them against the runtime's own
// type descriptors and accounting, so a wrong mirror fails its self-checks
// instead of agreeing with a wrong mapscan.
//
// The test programs (testdata/fixtures/mapstates, testdata/realprogs/*)
// import it through a replace directive.  It builds with Go 1.19 to 1.27;
// classic layouts need -ldflags=-checklinkname=0 from Go 1.23 on (it links
// runtime.roundupsize).
package oracle

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// Figures are the per-map figures of docs/figures.md, under the same names.
type Figures struct {
	Count                uint64 `json:"count"`
	LiveSlots            uint64 `json:"live_slots"`
	Buckets              uint64 `json:"buckets"`
	OldBuckets           uint64 `json:"old_buckets"`
	OverflowBuckets      uint64 `json:"overflow_buckets"`
	SpareOverflowBuckets uint64 `json:"spare_overflow_buckets"`
	EmptyBuckets         uint64 `json:"empty_buckets"`
	Tombstones           uint64 `json:"tombstones"`
	Tables               uint64 `json:"tables"`
	CapacitySlots        uint64 `json:"capacity_slots"`
	Growing              bool   `json:"growing"`
	RetainedBytes        uint64 `json:"retained_bytes"`
	IdealBytes           uint64 `json:"ideal_bytes"`
	ReclaimableBytes     uint64 `json:"reclaimable_bytes"`
}

const ptrSize = 8

// selfCheckFailures collects failures of the oracle's own consistency
// checks (and the programs' checks of their own states); ExitIfFailed makes
// the program exit 3 before it writes an oracle.
var selfCheckFailures []string

// Check records a self-check failure when ok is false.
func Check(ok bool, format string, args ...interface{}) {
	if !ok {
		selfCheckFailures = append(selfCheckFailures, fmt.Sprintf(format, args...))
	}
}

// ExitIfFailed prints every failed self-check and exits 3 if there is one:
// an oracle that disagrees with itself must not be compared with mapscan.
func ExitIfFailed(prog string) {
	if len(selfCheckFailures) > 0 {
		fmt.Fprintf(os.Stderr, "%s: oracle self-check failed (%s):\n  %s\n",
			prog, runtime.Version(), strings.Join(selfCheckFailures, "\n  "))
		os.Exit(3)
	}
}

func check(ok bool, format string, args ...interface{}) { Check(ok, format, args...) }

// MapHeader returns the map header a map value points to (a *hmap or a
// *maps.Map): maps are pointer-shaped, so it is the interface's data word.
func MapHeader(m interface{}) unsafe.Pointer {
	return (*[2]unsafe.Pointer)(unsafe.Pointer(&m))[1]
}

// MapDescriptor returns the runtime type descriptor of m's map type.
func MapDescriptor(m interface{}) unsafe.Pointer {
	return (*[2]unsafe.Pointer)(unsafe.Pointer(&m))[0]
}

// MapAt makes an interface holding the map of type descriptor typ whose
// header is at addr (a map value is the header pointer itself): how a map
// that only a goroutine holds is measured without a reference to it.
func MapAt(typ unsafe.Pointer, addr uintptr) interface{} {
	var e interface{}
	w := (*[2]unsafe.Pointer)(unsafe.Pointer(&e))
	w[0] = typ
	w[1] = *(*unsafe.Pointer)(unsafe.Pointer(&addr))
	return e
}

// Layout is "classic" or "swiss", as mapscan's JSON says.
func Layout() string { return layoutName() }

// Measure returns the figures of map m (named name in self-check
// messages), checked against len(m).  Nothing may write m meanwhile.
func Measure(name string, m interface{}) Figures {
	f := measure(name, m)
	check(f.Count == uint64(reflect.ValueOf(m).Len()), "%s: count %d but len %d", name, f.Count, reflect.ValueOf(m).Len())
	check(f.LiveSlots == f.Count, "%s: %d live slots but count %d", name, f.LiveSlots, f.Count)
	if f.RetainedBytes > f.IdealBytes {
		f.ReclaimableBytes = f.RetainedBytes - f.IdealBytes
	}
	return f
}

// SelfCheckFormulas checks ideal_bytes against maps built the ideal way
// (see the layout's selfCheckFormulas).
func SelfCheckFormulas() { selfCheckFormulas() }

// hasPointers reports whether values of t contain pointers the GC scans.
func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Ptr, reflect.Map, reflect.Chan, reflect.Func, reflect.Interface,
		reflect.Slice, reflect.String, reflect.UnsafePointer:
		return true
	case reflect.Array:
		return t.Len() > 0 && hasPointers(t.Elem())
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
	}
	return false
}

// maxInline is the largest key or elem the runtime stores in the bucket or
// slot itself; bigger ones are stored as a pointer to a separate object.
const maxInline = 128

// slotType is the type the map stores for a key or elem of type t.
func slotType(t reflect.Type) reflect.Type {
	if t.Size() > maxInline {
		return reflect.PtrTo(t)
	}
	return t
}

// WriteJSON writes doc, indented, to the file $MAPSCAN_ORACLE names, or
// to standard output when it is not set.
func WriteJSON(doc interface{}) error {
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	path := os.Getenv("MAPSCAN_ORACLE")
	if path == "" {
		_, err = os.Stdout.Write(b)
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// WriteHeapInuse records runtime.MemStats.HeapInuse (bytes in in-use heap
// spans: what mapscan's heap_in_use_bytes reads from the span table) in
// $MAPSCAN_ORACLE.heap.  It runs last before the core, and writes with a
// stack buffer and raw system calls so that nothing is allocated after the
// figure is taken.
func WriteHeapInuse() {
	path := os.Getenv("MAPSCAN_ORACLE")
	if path == "" {
		return
	}
	fd, err := syscall.Open(path+".heap", syscall.O_WRONLY|syscall.O_CREAT|syscall.O_TRUNC, 0o644)
	if err != nil {
		return
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var buf [24]byte
	_, _ = syscall.Write(fd, strconv.AppendUint(buf[:0], ms.HeapInuse, 10))
	_ = syscall.Close(fd)
}

// Die makes the kernel write a core: the runtime's SIGABRT handler prints
// the goroutines and, with traceback level "crash", re-raises the signal
// with the default action.
func Die() {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_CORE, &lim) == nil && lim.Cur < lim.Max {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_CORE, &lim)
	}
	debug.SetTraceback("crash")
	_ = syscall.Kill(os.Getpid(), syscall.SIGABRT)
	time.Sleep(30 * time.Second)
	panic("oracle: still alive after SIGABRT")
}

// pow2ceil returns the smallest power of two ≥ n (1 for n ≤ 1).
func pow2ceil(n uint64) uint64 {
	p := uint64(1)
	for p < n {
		p <<= 1
	}
	return p
}

// Escape makes its argument escape to the heap: a map that does not
// escape may have its header and first bucket or group on the stack, which
// is not what the formula checks measure.  It is cleared at once, so that no
// global reaches the map afterwards.
func Escape(m interface{}) {
	sink = m
	sink = nil
}

var sink interface{}

// Goid is the calling goroutine's id, from the first line of its traceback
// ("goroutine 18 [running]:"): the N of mapscan's "goroutine N (...)".
func Goid() int {
	var buf [64]byte
	s := string(buf[:runtime.Stack(buf[:], false)])
	s = strings.TrimPrefix(s, "goroutine ")
	if i := strings.IndexByte(s, ' '); i > 0 {
		if id, err := strconv.Atoi(s[:i]); err == nil {
			return id
		}
	}
	check(false, "goid: cannot read %q", s)
	return 0
}
